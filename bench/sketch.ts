/**
 * The funnel as a few lines of plain code, the yardstick of the engine's overhead: the same
 * prefix index (a PrefixIndex built over the same rows), then a plain JS rerank of the shortlist
 * at `rerank` dims over the raw Float32Array, the top k by insertion. No store, no validation,
 * no result rows: what the engine's stages cost without the engine.
 */
import { normalizedPrefix } from '../src/core/prefix.js';
import type { PrefixIndex } from '../src/index/prefix-index.js';

export class FunnelSketch {
  private readonly inv = new Map<number, Float32Array>();

  /** `index` holds row i under label i + 1; `data` is n × d, row-major. */
  constructor(
    private readonly index: PrefixIndex,
    private readonly data: Float32Array,
    private readonly n: number,
    private readonly d: number,
  ) {}

  /** 1/||row[0:r]|| of every row, computed once per r (outside the timed queries). */
  prepare(r: number): void {
    if (this.inv.has(r)) return;
    const inv = new Float32Array(this.n);
    for (let i = 0; i < this.n; i++) {
      let s = 0;
      for (let j = 0, o = i * this.d; j < r; j++) s += this.data[o + j] * this.data[o + j];
      inv[i] = s > 0 ? 1 / Math.sqrt(s) : 0;
    }
    this.inv.set(r, inv);
  }

  /** Row indices of the top k: index at its dims → `shortlist` → rerank at r dims. */
  search(q: Float32Array, shortlist: number, r: number, k: number, ef: number): number[] {
    const { seqs } = this.index.search(normalizedPrefix(q, this.index.dim), shortlist, Math.max(ef, shortlist));
    const qq = normalizedPrefix(q, r);
    const inv = this.inv.get(r)!;
    const data = this.data;
    const top = new Float64Array(k).fill(-Infinity);
    const idx = new Int32Array(k).fill(-1);
    for (const label of seqs) {
      const row = label - 1;
      const o = row * this.d;
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0;
      let j = 0;
      for (; j + 3 < r; j += 4) {
        a0 += qq[j] * data[o + j];
        a1 += qq[j + 1] * data[o + j + 1];
        a2 += qq[j + 2] * data[o + j + 2];
        a3 += qq[j + 3] * data[o + j + 3];
      }
      for (; j < r; j++) a0 += qq[j] * data[o + j];
      const s = (a0 + a1 + a2 + a3) * inv[row];
      if (s <= top[k - 1]) continue;
      let p = k - 1;
      for (; p > 0 && top[p - 1] < s; p--) {
        top[p] = top[p - 1];
        idx[p] = idx[p - 1];
      }
      top[p] = s;
      idx[p] = row;
    }
    return Array.from(idx).filter((i) => i >= 0);
  }
}
