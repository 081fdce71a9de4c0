import type { Kernel } from '../compute/kernel.js';
import { normalizedPrefix } from '../core/prefix.js';
import { exactScan } from './exact-scan.js';
import type { Stage } from './options.js';
import { withPending } from './pending.js';
import { rescoreFromStore } from './rescore-store.js';
import { rescore } from './rescore.js';
import type { Scored, SearchSource, VectorsBySeq } from './sources.js';

export interface StageReport {
  dims: number;
  source: Stage['source'];
  candidates: number;
  ms: number;
  /** The shortlist an adaptive first stage widened to (src/search/widen.ts); absent when it did not. */
  widened?: number;
}
export interface Ranked {
  seqs: number[];
  scores: number[];
  stages: StageReport[];
}
/** A first stage run by the caller instead (a filtered search's): `want` candidates at `st.dims`. */
export type FirstStage = (st: Stage, want: number) => Promise<{ seqs: number[]; scores: number[]; candidates: number }>;

/**
 * Runs planned stages for one query. The first stage comes from the prefix index or an
 * exact scan at its prefix; each later stage rescores the survivors at its dims, from the
 * resident matrix when dims ≤ R and from the store's full vectors otherwise (as does a
 * final refine stage, always). Rows committed but not yet in the index join the index stage's
 * candidates by an exact scan (pending.ts).
 * `exclude` (a query item's own seq) never appears in the output; `first` replaces the first stage.
 */
export async function runStages(
  src: SearchSource,
  vectors: VectorsBySeq,
  kernel: Kernel,
  query: Float32Array,
  stages: Stage[],
  exclude?: number,
  first?: FirstStage,
): Promise<Ranked> {
  const reports: StageReport[] = [];
  let seqs: number[] = [];
  let scores: number[] = [];
  for (const st of stages) {
    const t0 = performance.now();
    const keep = st.keep;
    const want = exclude === undefined ? keep : keep + 1;
    let candidates: number;
    if (first && st === stages[0]) {
      ({ seqs, scores, candidates } = await first(st, want));
    } else if (st.source === 'index') {
      const q = normalizedPrefix(query, st.dims);
      ({ seqs, scores } = withPending(src.index.search(q, want, Math.max(st.ef ?? src.record.hnsw.efSearch, want)), src.pending, q, want));
      candidates = seqs.length;
    } else if (st.source === 'exact') {
      ({ seqs, scores } = await exactScan(src, vectors, kernel, query, st.dims, want));
      candidates = src.count;
    } else {
      candidates = seqs.length;
      ({ seqs, scores } = await laterStage(src, vectors, kernel, query, seqs, st));
    }
    if (exclude !== undefined) {
      const at = seqs.indexOf(exclude);
      if (at >= 0) {
        seqs.splice(at, 1);
        scores.splice(at, 1);
      }
    }
    if (seqs.length > keep) {
      seqs.length = keep;
      scores.length = keep;
    }
    reports.push({ dims: st.dims, source: st.source, candidates, ms: performance.now() - t0 });
  }
  return { seqs, scores, stages: reports };
}

/**
 * A stage after the first: the survivors rescored at `st.dims`, best `st.keep` kept; a refine
 * stage reads the best few again from the full vectors (exact scores over quantised rows).
 */
export function laterStage(
  src: SearchSource,
  vectors: VectorsBySeq,
  kernel: Kernel,
  query: Float32Array,
  seqs: number[],
  st: Stage,
): Promise<Scored> {
  return st.source === 'refine'
    ? rescoreFromStore(vectors, kernel, query, seqs, st.dims, st.keep)
    : rescore(src, vectors, kernel, query, seqs, st.dims, st.keep);
}
