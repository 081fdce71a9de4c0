/** Default: widen while the last candidate is within 50% of the k-th one's distance. */
export const DEFAULT_WIDEN_RATIO = 0.5;
/** Default cap on the widened shortlist, as a multiple of the planned one. */
export const DEFAULT_WIDEN_FACTOR = 8;

/**
 * True when the shortlist's last candidate lies within `ratio` relative distance (1 − cosine
 * at the prefix) of the k-th: the prefix cannot tell them apart reliably, so true neighbours
 * are likely just outside the shortlist (the MRL paper's adaptive-shortlist idea, section 5).
 * A first stage with `widen` runs again with a doubled shortlist while this holds, up to its
 * cap (run-stages.ts); the later stages then rerank what it kept.
 */
export function crowded(scores: number[], k: number, ratio: number): boolean {
  if (scores.length <= k) return false;
  const dk = 1 - scores[k - 1];
  const dl = 1 - scores[scores.length - 1];
  return dl <= dk * (1 + ratio);
}
