import type { AppContext } from '../context.js';
import type { ItemInput } from '../inputs/embed.js';
import { MrlError } from '../errors.js';
import { readFvecs, readNdjson, type Line } from './readers.js';

export interface IngestSummary { rows: number; bad: { line: number; error: string }[]; seconds: number; rowsPerSecond: number }
export interface IngestProgress { lines: number; rows: number; bytesFraction?: number }

/**
 * Streams a file into a collection in batches (one transaction each). Bad lines are reported
 * by line number and skipped; good ones are kept.
 */
export async function ingestFile(ctx: Pick<AppContext, 'engine' | 'upsert' | 'checkItem'>, collection: string, file: string, opts: { batch?: number; onProgress?: (p: IngestProgress) => void } = {}): Promise<IngestSummary> {
  ctx.engine.runtime(collection);
  const batchSize = opts.batch ?? 1000;
  const t0 = performance.now();
  const bad: IngestSummary['bad'] = [];
  let rows = 0;
  let lines = 0;
  let batch: ItemInput[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    rows += (await ctx.upsert(collection, batch)).upserted;
    batch = [];
    opts.onProgress?.({ lines, rows });
  };
  const source: AsyncIterable<Line> | Iterable<Line> = file.endsWith('.fvecs') ? readFvecs(file) : readNdjson(file);
  for await (const l of source) {
    lines++;
    if ('error' in l) {
      bad.push(l);
      continue;
    }
    try {
      batch.push(await ctx.checkItem(collection, l.item as ItemInput));
    } catch (err) {
      if (!(err instanceof MrlError)) throw err;
      bad.push({ line: l.line, error: `${err.code}: ${err.message}` });
    }
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  const seconds = (performance.now() - t0) / 1000;
  return { rows, bad, seconds, rowsPerSecond: rows / Math.max(seconds, 1e-9) };
}
