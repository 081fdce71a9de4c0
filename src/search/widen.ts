import type { Kernel } from '../compute/kernel.js';
import type { Stage } from './options.js';
import { laterStage, runStages, type Ranked } from './run-stages.js';
import type { SearchSource, VectorsBySeq } from './sources.js';

/** Default: widen while the last candidate is within 50% of the k-th one's distance. */
export const DEFAULT_WIDEN_RATIO = 0.5;
/** Default cap on the widened shortlist, as a multiple of the planned one. */
export const DEFAULT_WIDEN_FACTOR = 8;

/**
 * True when the shortlist's last candidate lies within `ratio` relative distance (1 − cosine
 * at the prefix) of the k-th: the prefix cannot tell them apart reliably, so true neighbours
 * are likely just outside the shortlist (the MRL paper's adaptive-shortlist idea, section 5).
 */
export function crowded(scores: number[], k: number, ratio: number): boolean {
  if (scores.length <= k) return false;
  const dk = 1 - scores[k - 1];
  const dl = 1 - scores[scores.length - 1];
  return dl <= dk * (1 + ratio);
}

/**
 * runStages for a plan whose first stage has `widen`: the first stage is re-run with a doubled
 * shortlist while it is crowded (up to the cap), then the later stages rerank what it kept.
 * The first stage's report says how far it widened and counts the time of every try.
 */
export async function runWidened(
  src: SearchSource,
  vectors: VectorsBySeq,
  kernel: Kernel,
  query: Float32Array,
  stages: Stage[],
  exclude?: number,
): Promise<Ranked> {
  const [first, ...rest] = stages;
  const w = first.widen!;
  const t0 = performance.now();
  let keep = first.keep;
  let r = await runStages(src, vectors, kernel, query, [first], exclude);
  while (keep < w.cap && r.seqs.length >= keep && crowded(r.scores, w.k, w.ratio)) {
    keep = Math.min(w.cap, keep * 2);
    r = await runStages(
      src,
      vectors,
      kernel,
      query,
      [{ ...first, keep, ...(first.ef !== undefined ? { ef: Math.max(first.ef, keep) } : {}) }],
      exclude,
    );
  }
  const reports = [{ ...r.stages[0], ms: performance.now() - t0, ...(keep > first.keep ? { widened: keep } : {}) }];
  let { seqs, scores } = r;
  for (const st of rest) {
    const t1 = performance.now();
    const candidates = seqs.length;
    ({ seqs, scores } = await laterStage(src, vectors, kernel, query, seqs, st));
    reports.push({ dims: st.dims, source: st.source, candidates, ms: performance.now() - t1 });
  }
  return { seqs, scores, stages: reports };
}
