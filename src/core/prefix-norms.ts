import { allocate, current, grow } from './shared-array.js';

/**
 * The prefix norms of the resident matrix's rows (resident-matrix.ts): ||row[0:d]|| at every
 * nesting dim d ≤ the width (and at the width), kept per slot so that any such prefix is
 * renormalised without touching the row. One Float32Array of `perRow` values per slot (shared with worker threads when the matrix is).
 */
export class PrefixNorms {
  /** The norms, slot-major: slot s holds perRow values (a snapshot part). */
  values: Float32Array;
  private readonly index = new Map<number, number>();

  constructor(width: number, nesting: number[], capacity: number, shared = false, attached?: Float32Array) {
    const dims = [...new Set([...nesting.filter((d) => d <= width), width])].sort((a, b) => a - b);
    dims.forEach((d, i) => this.index.set(d, i));
    this.values = attached ?? allocate(Float32Array, capacity * dims.length, shared, 'prefix norms');
  }

  /** The dims kept, ascending. */
  get dims(): number[] {
    return [...this.index.keys()];
  }

  get perRow(): number {
    return this.index.size;
  }

  /** Where ||row[0:d]|| sits among a slot's values; undefined if d is not kept. */
  column(d: number): number | undefined {
    return this.index.get(d);
  }

  /** Stores the norms of `slot` from its full vector (the first dims values of v). */
  write(slot: number, v: Float32Array): void {
    const nd = this.index.size;
    let s = 0;
    let d = 0;
    for (const [dim, idx] of this.index) {
      for (; d < dim; d++) s += v[d] * v[d];
      this.values[slot * nd + idx] = Math.sqrt(s);
    }
  }

  /** Copies the norms of slot `from` to slot `to` (a removed row replaced by the last one). */
  move(from: number, to: number): void {
    const nd = this.index.size;
    this.values.copyWithin(to * nd, from * nd, (from + 1) * nd);
  }

  /** A reader's view after the writer grew the norms (shared-array.ts). */
  refresh(): void {
    this.values = current(Float32Array, this.values);
  }

  /** Makes room for `capacity` slots, keeping the norms. */
  grow(capacity: number): void {
    this.values = grow(Float32Array, this.values, capacity * this.index.size, undefined, 'prefix norms');
  }
}
