/**
 * Offers `(id, score)` to a best-first list of at most `k` (parallel arrays, scores descending):
 * skipped when the list is full and the score does not beat its last; among equal scores the
 * earlier offer stays first.
 */
export function offerTop<T>(ids: T[], scores: number[], k: number, id: T, score: number): void {
  if (scores.length === k && score <= scores[k - 1]) return;
  let at = scores.length;
  while (at > 0 && scores[at - 1] < score) at--;
  ids.splice(at, 0, id);
  scores.splice(at, 0, score);
  if (scores.length > k) {
    ids.pop();
    scores.pop();
  }
}
