import { mrlError } from '../errors.js';
import { MAX_SHORTLIST, type Plan } from './options.js';

/** What the refine stage reads of a collection (its record satisfies this). */
export interface RefinedCollection {
  residentDim: number;
  residentType?: 'f32' | 'f16' | 'int8';
}

/**
 * Appends the `refine` stage: the last stage keeps max(refine, k) candidates (no more than it
 * is given), which are rescored at its dims from the store's full vectors and cut to k, so the
 * returned scores are exact cosines. By default (refine left out) only a last stage that reads
 * quantised resident rows is refined, keeping 4·k; `refine: 0` turns it off.
 */
export function withRefine(plan: Plan, refine: unknown, rec: RefinedCollection): Plan {
  if (refine !== undefined && (typeof refine !== 'number' || !Number.isInteger(refine) || refine < 0 || refine > MAX_SHORTLIST)) {
    throw mrlError('INVALID_SEARCH', `refine must be an integer in 0..${MAX_SHORTLIST}`);
  }
  const stages = plan.stages;
  const last = stages[stages.length - 1];
  const readsQuantized = (rec.residentType ?? 'f32') !== 'f32' && last.source !== 'index' && last.dims <= rec.residentDim;
  const n = refine ?? (readsQuantized ? 4 * plan.k : 0);
  if (n === 0) return plan;
  const given = last.source === 'rerank' && stages.length > 1 ? stages[stages.length - 2].keep : MAX_SHORTLIST;
  const keep = Math.min(Math.max(n, plan.k, last.keep), given);
  return {
    k: plan.k,
    stages: [...stages.slice(0, -1), { ...last, keep }, { dims: last.dims, keep: plan.k, source: 'refine' }],
  };
}
