import type { RowsBySeq, Scored } from './sources.js';

export interface SearchHit {
  id: string;
  score: number;
  label: string | null;
  payload: unknown;
}

/**
 * The first `k` ranked seqs whose rows still exist, as hits: one query for the first k, then
 * one lookup per seq past them (only when some of the first k were deleted meanwhile).
 */
export function toHits(rows: RowsBySeq, ranked: Scored, k: number): SearchHit[] {
  const hits: SearchHit[] = [];
  const found = rows.getBySeqs(ranked.seqs.slice(0, k));
  for (let i = 0; i < ranked.seqs.length && hits.length < k; i++) {
    const row = found.get(ranked.seqs[i]) ?? rows.getBySeq(ranked.seqs[i]);
    if (row) hits.push({ id: row.id, score: ranked.scores[i], label: row.label, payload: row.payload });
  }
  return hits;
}
