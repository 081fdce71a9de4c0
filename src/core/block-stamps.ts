import { allocate, current, grow } from './shared-array.js';

/**
 * Per-block write stamps of the resident matrix (resident-matrix.ts): slots are grouped in blocks
 * of `blockRows`, and each block carries the matrix version after the last write to one of its
 * slots. A copy of some rows taken at version V is still exact while the stamps of their blocks
 * are ≤ V: what the device-resident segments (compute/gpu/resident-segments.ts) check before
 * using rows they baked into a session.
 */
export class BlockStamps {
  /** Per block: the version after the last write to one of its slots (0: never written). */
  private stamps: Float64Array;

  constructor(
    readonly blockRows: number,
    capacity: number,
    shared = false,
    attached?: Float64Array,
  ) {
    if (!Number.isInteger(blockRows) || blockRows < 1) throw new RangeError(`blockRows must be a positive integer, got ${blockRows}`);
    this.stamps = attached ?? allocate(Float64Array, Math.ceil(capacity / blockRows), shared, 'block stamps');
  }

  /** The stamps' storage (a shared matrix hands its buffer to readers). */
  get values(): Float64Array {
    return this.stamps;
  }

  /** The stamp of block b (0 if none). */
  block(b: number): number {
    return this.stamps[b] ?? 0;
  }

  /** The largest stamp over the blocks holding slots [from, from + count). */
  range(from: number, count: number): number {
    if (count <= 0) return 0;
    const last = Math.min(Math.floor((from + count - 1) / this.blockRows), this.stamps.length - 1);
    let v = 0;
    for (let b = Math.floor(from / this.blockRows); b <= last; b++) if (this.stamps[b] > v) v = this.stamps[b];
    return v;
  }

  /** After a write to `slot` bumped the version to `version`: stamps the slot's block with it. */
  touch(slot: number, version: number): void {
    this.stamps[Math.floor(slot / this.blockRows)] = version;
  }

  /** Stamps every block holding slots [0, size) with `version` (after a restore). */
  fill(version: number, size: number): void {
    this.stamps.fill(version, 0, Math.ceil(size / this.blockRows));
  }

  /** A reader's view after the writer grew the stamps (shared-array.ts). */
  refresh(): void {
    this.stamps = current(Float64Array, this.stamps);
  }

  /** Makes room for `capacity` slots, keeping the stamps. */
  grow(capacity: number): void {
    this.stamps = grow(Float64Array, this.stamps, Math.ceil(capacity / this.blockRows), undefined, 'block stamps');
  }
}
