import type { Engine } from '../engine/engine.js';
import { mrlError } from '../errors.js';
import { measurePrefixesOffThread } from './off-thread.js';
import { sampleRows } from './sample.js';
import type { QualityReport } from './types.js';
import { maxGain, recommend, verdictOf } from './verdict.js';

export const DEFAULT_SAMPLE = 500;
export const MAX_SAMPLE = 5000;
/** Rows of the collection searched over: bounds the report's memory and time (rows × queries × D). */
export const MAX_ROWS = 10_000;
export const MIN_ITEMS = 20;

export interface ReportOptions {
  sample?: number;
  seed?: number;
}

/**
 * Is this collection Matryoshka? Exact search at each nesting prefix against exact full-D over
 * a seeded leave-one-out sample, compared with the same after a random rotation (see measure.ts
 * and verdict.ts) over a seeded sample of up to MAX_ROWS rows, measured in a worker thread.
 */
export async function computeReport(engine: Engine, collection: string, opts: ReportOptions = {}): Promise<QualityReport> {
  const t0 = performance.now();
  const sample = opts.sample ?? DEFAULT_SAMPLE;
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(sample) || sample < 1 || sample > MAX_SAMPLE)
    throw mrlError('INVALID_EVAL', `sample must be an integer in 1..${MAX_SAMPLE}`);
  const rt = engine.runtime(collection);
  const { dim, nesting } = rt.record;
  const items = rt.count;
  if (items < MIN_ITEMS)
    throw mrlError('INVALID_EVAL', `collection '${collection}' has ${items} items; a quality report needs at least ${MIN_ITEMS}`);
  const { rows, n } = await sampleRows(engine, collection, MAX_ROWS, seed);
  const queries = Math.min(sample, n);
  const prefixes = await measurePrefixesOffThread({ rows, n, dim, nesting, queries, seed });
  const gain = maxGain(prefixes, dim, queries);
  const verdict = verdictOf(gain);
  return {
    collection,
    dim,
    items,
    sampleRows: n,
    queries,
    seed,
    prefixes,
    maxGain: Number.isFinite(gain) ? gain : 0,
    verdict,
    recommendation: recommend(collection, verdict, prefixes, dim),
    ms: performance.now() - t0,
    createdAt: new Date().toISOString(),
  };
}
