import type { SweepGrid, SweepOptions } from '../eval/sweep.js';
import type { SweepResult } from '../eval/types.js';
import type { FunnelStep } from '../search/options.js';

/** A collection aiming at a recall target is re-swept once it has doubled since its latest sweep. */
export function dueForResweep(count: number, sweep: Pick<SweepResult, 'items'> | null): boolean {
  return sweep !== null && sweep.items !== undefined && sweep.items > 0 && count >= 2 * sweep.items;
}

/** The options of a sweep over the same grid and query count as `prev` (read back from its points). */
export function resweepOptions(collection: string, prev: Pick<SweepResult, 'points' | 'queries'>): SweepOptions {
  const uniq = (xs: (number | undefined)[]) => [...new Set(xs.filter((x): x is number => x !== undefined))].sort((a, b) => a - b);
  const plain = prev.points.filter((p) => !p.search.funnel);
  const funnels: FunnelStep[][] = prev.points.flatMap((p) => (p.search.funnel ? [p.search.funnel] : []));
  const grid: SweepGrid = { funnels };
  const indexDims = uniq(prev.points.map((p) => p.indexDims));
  const shortlists = uniq(plain.map((p) => p.search.shortlist));
  const rerankDims = uniq(plain.map((p) => p.search.rerank));
  const efs = uniq(plain.map((p) => p.search.ef));
  if (indexDims.length) grid.indexDims = indexDims;
  if (shortlists.length) grid.shortlists = shortlists;
  if (rerankDims.length) grid.rerankDims = rerankDims;
  if (efs.length) grid.efs = efs;
  return { collection, queries: { sample: prev.queries }, grid, perDim: false };
}
