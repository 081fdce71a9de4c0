import { createInterface } from 'node:readline';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import type { AppContext } from '../context.js';
import type { ItemInput } from '../inputs/embed.js';
import { MrlError } from '../errors.js';

export interface NdjsonResult { upserted: number; lines: number; failed: number; errors: { line: number; code: string; message: string }[] }

const MAX_LISTED_ERRORS = 1000;
const YIELD_EVERY_LINES = 64;

/**
 * Streams NDJSON items into a collection: one item per line, committed in batches (each batch
 * is acknowledged only after its transaction commits). Bad lines are reported by number and
 * skipped; good lines are kept.
 */
export async function ingestNdjson(ctx: Pick<AppContext, 'engine' | 'upsert'>, collection: string, body: Readable, opts: { batch: number; maxLineBytes: number; checkItem: (it: ItemInput) => Promise<ItemInput> }): Promise<NdjsonResult> {
  ctx.engine.runtime(collection);
  const rl = createInterface({ input: body, crlfDelay: Infinity });
  const res: NdjsonResult = { upserted: 0, lines: 0, failed: 0, errors: [] };
  const fail = (line: number, code: string, message: string) => {
    res.failed++;
    if (res.errors.length < MAX_LISTED_ERRORS) res.errors.push({ line, code, message });
  };
  let batch: ItemInput[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    res.upserted += (await ctx.upsert(collection, items)).upserted;
  };
  for await (const text of rl) {
    const line = ++res.lines;
    // readline hands over buffered lines through microtasks only: yield now and then so
    // searches are served while a long upload is parsed.
    if (line % YIELD_EVERY_LINES === 0) await yieldToLoop();
    if (text.trim() === '') continue;
    if (Buffer.byteLength(text) > opts.maxLineBytes) {
      fail(line, 'PAYLOAD_TOO_LARGE', `line is longer than ${opts.maxLineBytes} bytes`);
      continue;
    }
    let item: unknown;
    try {
      item = JSON.parse(text);
    } catch (err) {
      fail(line, 'VALIDATION', `invalid JSON: ${(err as Error).message}`);
      continue;
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      fail(line, 'VALIDATION', 'line is not a JSON object');
      continue;
    }
    try {
      batch.push(await opts.checkItem(item as ItemInput));
    } catch (err) {
      if (!(err instanceof MrlError)) throw err;
      fail(line, err.code, err.message);
      continue;
    }
    if (batch.length >= opts.batch) await flush();
  }
  await flush();
  return res;
}
