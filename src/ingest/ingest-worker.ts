/**
 * The ingest writer thread (started by ingest-writer.ts): parses NDJSON bodies and files,
 * validates each line as an upsert would, and commits the good lines in batches on its own
 * SQLite connection, so that neither the parsing nor the transactions run on the thread that
 * answers searches. Before each commit it asks the main thread for a grant (`ready` → `grant`),
 * and after it posts the rows written (`committed`): the main thread applies a batch to its
 * caches before any other write of that collection commits, so every cache sees the writes in
 * commit order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fromWire, MrlError, mrlError, toWire } from '../errors.js';
import type { CollectionRecord } from '../store/collections.js';
import { ingestRecords, ndjsonRecords } from '../io/ndjson-ingest.js';
import { fileRecords } from '../io/readers.js';
import { closeDatabase, openDatabase } from '../store/db.js';
import { ItemStore } from '../store/items.js';
import { RotationStore } from '../store/quality.js';
import { lastIdWins, prepareItem, type ItemVector, type PreparedItem } from '../engine/prepare-items.js';
import { BoundRotations } from '../engine/rotations.js';
import { niceThisThread } from '../module-worker.js';
import type { FromWriter, ToWriter } from './protocol.js';

const init = workerData as { dbFile: string; nice?: number };
// Below the HTTP thread's priority: where the cores are short, searches are answered first and the ingest takes what is left.
niceThisThread(init.nice ?? 0);
const port = parentPort!;
const db = openDatabase(init.dbFile);
const items = new ItemStore(db);
const rotations = new BoundRotations(new RotationStore(db));

function send(m: FromWriter, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

/** A streamed body's chunks as an async iterable, in the order posted; each one taken is reported (`pulled`). */
class ChunkQueue implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly id: number) {}

  push(bytes: Uint8Array): void {
    this.chunks.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.poke();
  }

  end(error?: Error): void {
    this.ended = true;
    this.error ??= error ?? null;
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      if (this.error) throw this.error;
      const c = this.chunks.shift();
      if (c) {
        send({ t: 'pulled', id: this.id, bytes: c.length });
        yield c;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}

/** A line's item as the upsert path would take it; the writer serves collections without an encoder only, so an input is refused as there. */
function checkLine(record: CollectionRecord, it: ItemVector & { input?: unknown }): PreparedItem {
  if (it.input !== undefined) {
    if (it.vector !== undefined) throw mrlError('VALIDATION', 'item: give either vector or input, not both');
    throw new MrlError('NO_ENCODER', { collection: record.name });
  }
  return prepareItem(record, rotations, it, '');
}

interface Ingest {
  queue?: ChunkQueue;
  /** Settles the wait for the main thread's answer to `ready`. */
  granted?: { resolve(): void; reject(e: Error): void };
}
const ingests = new Map<number, Ingest>();

/** Asks the main thread for a grant, commits `rows` in one transaction, and posts what was written. */
async function grantThenCommit(id: number, ing: Ingest, record: CollectionRecord, rows: PreparedItem[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    ing.granted = { resolve, reject };
    send({ t: 'ready', id });
  });
  ing.granted = undefined;
  const res = items.upsert(record.id, rows);
  const dim = record.dim;
  const vectors = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => vectors.set(r.vector, i * dim));
  send(
    {
      t: 'committed',
      id,
      seqs: res.added.map((a) => a.seq),
      ids: rows.map((r) => r.id),
      labels: rows.map((r) => r.label),
      payloads: rows.map((r) => r.payload),
      vectors,
      removed: res.removedSeqs,
    },
    [vectors.buffer],
  );
}

async function run(m: Extract<ToWriter, { t: 'open' }>, ing: Ingest): Promise<void> {
  const { record } = m;
  const source = m.source.kind === 'file' ? fileRecords(m.source.path) : ndjsonRecords(ing.queue!, { maxLineBytes: m.maxLineBytes });
  let committing: Promise<void> = Promise.resolve();
  const report = await ingestRecords(source, {
    batch: m.batch,
    check: (it) => checkLine(record, it as ItemVector & { input?: unknown }),
    // A batch waits for its grant while the next one is parsed: commit() returns once the batch
    // is queued, and the next call (or the end) waits for the one before to commit.
    commit: async (batch: PreparedItem[]) => {
      await committing;
      const rows = lastIdWins(batch);
      committing = grantThenCommit(m.id, ing, record, rows);
      committing.catch(() => undefined); // awaited by the next commit or the end
      return rows.length;
    },
  });
  await committing;
  send({ t: 'done', id: m.id, report });
}

port.on('message', (m: ToWriter) => {
  if (m.t === 'crash') process.exit(1); // ends this thread only
  if (m.t === 'close') {
    closeDatabase(db);
    port.close();
    return;
  }
  const ing = ingests.get(m.id);
  switch (m.t) {
    case 'open': {
      const fresh: Ingest = m.source.kind === 'stream' ? { queue: new ChunkQueue(m.id) } : {};
      ingests.set(m.id, fresh);
      run(m, fresh)
        .catch((err) => send({ t: 'failed', id: m.id, error: toWire(err) }))
        .finally(() => ingests.delete(m.id));
      return;
    }
    case 'chunk':
      return ing?.queue?.push(m.bytes);
    case 'end':
      return ing?.queue?.end();
    case 'abort':
      ing?.queue?.end(fromWire(m.error));
      return ing?.granted?.reject(fromWire(m.error));
    case 'grant':
      return ing?.granted?.resolve();
    case 'refuse':
      return ing?.granted?.reject(fromWire(m.error));
  }
});
