/**
 * Label-based retrieval metrics for one query, from the labels of its ranked results (docs/design.md):
 * rel_j = 1 when result j has the query's label, P@j = (Σ_{i≤j} rel_i)/j.
 */
export interface QueryFigures {
  /** The MRL paper's "corrected" mAP@k: AP@k = Σ_j rel_j·P@j / k. */
  ap: number;
  /** The common variant: Σ_j rel_j·P@j / max(1, Σ_j rel_j). */
  apHits: number;
  /** P@k. */
  precision: number;
  /** rel_1: the 1-NN is right. */
  top1: number;
}

export function queryFigures(resultLabels: ArrayLike<number>, queryLabel: number, k = resultLabels.length): QueryFigures {
  let hits = 0;
  let sum = 0;
  for (let j = 0; j < k; j++) {
    if (resultLabels[j] === queryLabel) {
      hits++;
      sum += hits / (j + 1);
    }
  }
  return { ap: sum / k, apHits: sum / Math.max(1, hits), precision: hits / k, top1: resultLabels[0] === queryLabel ? 1 : 0 };
}
