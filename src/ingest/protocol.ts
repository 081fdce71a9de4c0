import type { CommittedBatch } from '../engine/external-batch.js';
import type { WireError } from '../errors.js';
import type { IngestReport } from '../io/ndjson-ingest.js';
import type { CollectionRecord } from '../store/collections.js';

export type { CommittedBatch };

/** What the ingest writer thread is started with (workerData). */
export interface WriterInit {
  /** The SQLite file: the writer opens its own read-write connection (WAL: one writer at a time, readers beside it). */
  dbFile: string;
  /** The thread's nice value (0: the process's; Linux gives each thread its own). */
  nice?: number;
}

/** Where an ingest's lines come from: chunks of a request body posted as they arrive, or a file the writer reads itself. */
export type WriterSource = { kind: 'stream' } | { kind: 'file'; path: string };

/** Messages to the writer. */
export type ToWriter =
  | { t: 'open'; id: number; record: CollectionRecord; source: WriterSource; batch: number; maxLineBytes: number }
  /** Bytes of a streamed body, in order. */
  | { t: 'chunk'; id: number; bytes: Uint8Array }
  | { t: 'end'; id: number }
  /** The body failed (the client went away): the ingest stops after the batch in hand. */
  | { t: 'abort'; id: number; error: WireError }
  /** The main thread's answer to `ready`: commit the batch, or fail the ingest with `error`. */
  | { t: 'grant'; id: number }
  | { t: 'refuse'; id: number; error: WireError }
  /** No ingest is open: close the connection and exit. */
  | { t: 'close' }
  /** Exit at once, as a crash would (tests of the restart). */
  | { t: 'crash' };

/** Messages from the writer. */
export type FromWriter =
  /** `bytes` of a streamed body were taken off the writer's queue (flow control). */
  | { t: 'pulled'; id: number; bytes: number }
  /** A batch is validated and waits for `grant` before it commits. */
  | { t: 'ready'; id: number }
  | ({ t: 'committed'; id: number } & CommittedBatch)
  | { t: 'done'; id: number; report: IngestReport }
  | { t: 'failed'; id: number; error: WireError };
