import { allocate, view } from './shared-array.js';

/**
 * The write counter of a resident matrix shared with worker threads (a seqlock), beside its
 * row count. The one writer (the main thread) makes the counter odd before a batch of changes
 * and even after it (Atomics, so the changes are visible before the counter moves on); a
 * reader notes the counter before reading and reads again when it changed or was odd. Nested
 * enter/exit pairs count once (a batch of adds).
 */
export class SeqLock {
  /** [counter, size]: shared with readers. */
  readonly cells: Int32Array;
  private depth = 0;

  constructor(shared: boolean, buffer?: SharedArrayBuffer) {
    this.cells = buffer ? view(Int32Array, buffer) : allocate(Int32Array, 2, shared, 'header');
  }

  enter(): void {
    if (this.depth++ === 0) Atomics.add(this.cells, 0, 1);
  }

  exit(): void {
    if (--this.depth === 0) Atomics.add(this.cells, 0, 1);
  }

  /** The counter as a reader compares it: NaN while a write runs (equal to nothing, so the read is redone). */
  read(): number {
    const v = Atomics.load(this.cells, 0);
    return v & 1 ? NaN : v;
  }

  get size(): number {
    return this.cells[1];
  }

  set size(n: number) {
    this.cells[1] = n;
  }
}
