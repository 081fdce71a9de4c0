import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { MrlError, type ErrorCode } from '../errors.js';

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
const YIELD_EVERY_LINES = 64;

/**
 * NDJSON: one JSON object per line; blank lines are skipped, a line longer than `maxLineBytes`,
 * one that does not parse, or one that is not an object becomes a LineError.
 */
export async function* ndjsonRecords(
  input: Readable | AsyncIterable<string>,
  opts: { maxLineBytes?: number } = {},
): AsyncGenerator<SourceRecord> {
  const maxLineBytes = opts.maxLineBytes ?? Infinity;
  const lines: AsyncIterable<string> = isReadable(input) ? createInterface({ input, crlfDelay: Infinity }) : input;
  let line = 0;
  for await (const text of lines) {
    line++;
    // readline hands over buffered lines through microtasks only: yield now and then so
    // searches are served while a long upload is parsed.
    if (line % YIELD_EVERY_LINES === 0) await yieldToLoop();
    if (text.trim() === '') {
      yield { line, blank: true };
      continue;
    }
    if (Buffer.byteLength(text) > maxLineBytes) {
      yield { line, code: 'PAYLOAD_TOO_LARGE', message: `line is longer than ${maxLineBytes} bytes` };
      continue;
    }
    let item: unknown;
    try {
      item = JSON.parse(text);
    } catch (err) {
      yield { line, code: 'VALIDATION', message: `invalid JSON: ${(err as Error).message}` };
      continue;
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      yield { line, code: 'VALIDATION', message: 'line is not a JSON object' };
    else yield { line, item };
  }
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

function isReadable(x: Readable | AsyncIterable<string>): x is Readable {
  return typeof (x as Readable).pipe === 'function';
}
