import { mulberry32, partialShuffle } from '../core/rng.js';
import { mrlError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { Query } from '../search/query.js';
import type { QuerySet } from './types.js';

export interface EvalQuery {
  query: Query;
  label: string | null;
}

/** Default query set: up to 1000 items of the collection, each left out of its own results. */
export const DEFAULT_QUERIES: QuerySet = { sample: 1000, seed: 1 };

/**
 * The queries of an evaluation. Another collection's items are queried by vector (nothing to
 * exclude); the collection's own items by id, so the engine leaves each one out of its results.
 */
export function resolveQueries(engine: Engine, collection: string, spec: QuerySet = DEFAULT_QUERIES): EvalQuery[] {
  const rt = engine.runtime(collection);
  if (typeof spec !== 'object' || spec === null) throw mrlError('INVALID_EVAL', 'queries must be { collection } or { sample }');
  if ('collection' in spec && spec.collection !== undefined) {
    if ('sample' in spec) throw mrlError('INVALID_EVAL', 'give queries from another collection or a sample of this one, not both');
    const qrt = engine.runtime(spec.collection);
    if (qrt.record.dim !== rt.record.dim)
      throw mrlError(
        'INVALID_EVAL',
        `query collection '${spec.collection}' has ${qrt.record.dim} dims, '${collection}' has ${rt.record.dim}`,
      );
    const limit = spec.limit ?? Infinity;
    if (!(limit >= 1)) throw mrlError('INVALID_EVAL', 'queries.limit must be at least 1');
    const labels = engine.items.labels(qrt.record.id);
    const out: EvalQuery[] = [];
    for (const { seq, vector } of engine.items.scan(qrt.record.id)) {
      if (out.length >= limit) break;
      out.push({ query: { vector }, label: labels.get(seq) ?? null });
    }
    if (out.length === 0) throw mrlError('INVALID_EVAL', `query collection '${spec.collection}' is empty`);
    return out;
  }
  const { sample, seed = 1 } = spec as { sample: number; seed?: number };
  if (typeof sample !== 'number' || !(sample > 0) || !Number.isFinite(sample))
    throw mrlError('INVALID_EVAL', 'queries.sample must be a fraction in (0, 1] or a count > 1');
  if (!Number.isInteger(seed)) throw mrlError('INVALID_EVAL', 'queries.seed must be an integer');
  const refs = engine.items.refs(rt.record.id);
  if (refs.length < 2) throw mrlError('INVALID_EVAL', `collection '${collection}' needs at least 2 items for a leave-one-out evaluation`);
  const n = Math.min(refs.length, sample <= 1 ? Math.max(1, Math.round(sample * refs.length)) : Math.floor(sample));
  // The seeded PRNG: the same seed picks the same queries.
  partialShuffle(refs, n, mulberry32(seed));
  return refs.slice(0, n).map((x) => ({ query: { id: x.id }, label: x.label }));
}
