import { mayReachTop } from './refine-bound.js';
import { rescoreFromStore } from './rescore-store.js';
import type { StageContext } from './stage-context.js';
import type { Scored } from './sources.js';

/**
 * The refine stage: the best k of `ranked` by their exact cosines at `dims`, from the store's
 * full vectors. Scores over int8 rows come with error bounds (refine-bound.ts): only the
 * candidates that can still reach the top k are read. When one of those is gone from the
 * store (deleted since it was scored) the bound's argument no longer holds, and the rest are read too.
 */
export async function refineStage(ctx: StageContext, ranked: Scored, dims: number, k: number): Promise<Scored> {
  const { seqs, bounds } = ranked;
  const picked = bounds ? mayReachTop(ranked.scores, bounds, k) : null;
  if (!picked || picked.length === seqs.length) return rescoreFromStore(ctx, seqs, dims, k);
  const read = picked.map((i) => seqs[i]);
  const top = await rescoreFromStore(ctx, read, dims, k);
  if (top.found === read.length) return { seqs: top.seqs, scores: top.scores };
  const inRead = new Set(read);
  return rescoreFromStore(ctx, [...read, ...seqs.filter((s) => !inRead.has(s))], dims, k);
}
