import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { MrlError, type ErrorCode } from '../errors.js';
import { parseLine } from './ndjson-line.js';
import { byteLines, TOO_LONG } from './ndjson-lines.js';

/**
 * The one ingest path for streamed items, used by `POST /ingest` (NDJSON bodies) and by
 * `mrl ingest` (NDJSON and .fvecs files). It knows nothing of the engine: the caller passes
 * `check` (validate one item) and `commit` (write one batch in one transaction).
 */

/** A line that was not ingested, in the shape both the HTTP reply and the CLI report. */
export interface LineError {
  line: number;
  code: ErrorCode;
  message: string;
}

/** One record of a source: a parsed JSON object, the reason its line was refused, or a blank line (counted, skipped). */
export type SourceRecord = { line: number; item: object } | LineError | { line: number; blank: true };

export interface IngestReport {
  upserted: number;
  /** Lines read, blank ones included. */
  lines: number;
  failed: number;
  /** The first `maxListedErrors` failures; `failed` counts them all. */
  errors: LineError[];
}

export interface IngestOptions<T> {
  /** Validates one item and returns it as it will be committed; throws MrlError for a bad one. */
  check: (item: object) => T | Promise<T>;
  /** Writes one batch in one transaction; resolves once it is durable, to the rows written. */
  commit: (batch: T[]) => Promise<number>;
  /** Items per commit. */
  batch: number;
  maxListedErrors?: number;
  /** Called after each commit. */
  onCommit?: (progress: { lines: number; upserted: number }) => void;
}

const MAX_LISTED_ERRORS = 1000;
const YIELD_EVERY_LINES = 16;

/** Values a vector of the fast path may hold (a longer one is parsed by JSON.parse and refused by the checks). */
const MAX_FAST_VECTOR = 1 << 16;

/**
 * NDJSON: one JSON object per line; blank lines are skipped, a line longer than `maxLineBytes`,
 * one that does not parse, or one that is not an object becomes a LineError. Lines are split
 * and their vectors read from the bytes (ndjson-lines.ts, ndjson-line.ts); a `vector` may also
 * be a base64 string of little-endian float32.
 */
export async function* ndjsonRecords(
  input: AsyncIterable<Buffer | string>,
  opts: { maxLineBytes?: number } = {},
): AsyncGenerator<SourceRecord> {
  const maxLineBytes = opts.maxLineBytes ?? Infinity;
  const scratch = new Float32Array(MAX_FAST_VECTOR);
  let line = 0;
  for await (const buf of byteLines(input, maxLineBytes)) {
    line++;
    // Lines of one chunk are handed over through microtasks only: yield now and then so
    // searches are served while a long upload is parsed.
    if (line % YIELD_EVERY_LINES === 0) await yieldToLoop();
    if (buf === TOO_LONG || buf.length > maxLineBytes) {
      yield { line, code: 'PAYLOAD_TOO_LARGE', message: `line is longer than ${maxLineBytes} bytes` };
      continue;
    }
    if (isBlank(buf)) {
      yield { line, blank: true };
      continue;
    }
    const r = parseLine(buf, scratch);
    yield 'item' in r ? { line, item: r.item } : { line, code: r.code, message: r.error };
  }
}

/** Only whitespace, as `String.prototype.trim` sees it (bytes first; the text only when a non-ASCII byte comes first). */
function isBlank(buf: Buffer): boolean {
  for (const c of buf) if (c !== 32 && c !== 9 && c !== 11 && c !== 12) return c >= 0x80 && buf.toString('utf8').trim() === '';
  return true;
}

/**
 * Checks each record and commits the good ones in batches (each acknowledged only after its
 * transaction commits). Bad records are reported by line number and skipped; good ones are kept.
 * An error that is not an MrlError (a bug, a full disk) stops the ingest.
 */
export async function ingestRecords<T>(
  records: AsyncIterable<SourceRecord> | Iterable<SourceRecord>,
  opts: IngestOptions<T>,
): Promise<IngestReport> {
  const maxListed = opts.maxListedErrors ?? MAX_LISTED_ERRORS;
  const report: IngestReport = { upserted: 0, lines: 0, failed: 0, errors: [] };
  const fail = (e: LineError) => {
    report.failed++;
    if (report.errors.length < maxListed) report.errors.push({ line: e.line, code: e.code, message: e.message });
  };
  let batch: T[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    report.upserted += await opts.commit(items);
    opts.onCommit?.({ lines: report.lines, upserted: report.upserted });
  };
  for await (const r of records) {
    report.lines = Math.max(report.lines, r.line);
    if ('blank' in r) continue;
    if ('code' in r) {
      fail(r);
      continue;
    }
    try {
      batch.push(await opts.check(r.item));
    } catch (err) {
      if (!(err instanceof MrlError)) throw err;
      fail({ line: r.line, code: err.code, message: err.message });
      continue;
    }
    if (batch.length >= opts.batch) await flush();
  }
  await flush();
  return report;
}
