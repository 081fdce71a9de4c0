import type { Worker } from 'node:worker_threads';
import { fromWire, MrlError, toWire } from '../errors.js';
import type { IngestReport } from '../io/ndjson-ingest.js';
import { moduleWorker } from '../module-worker.js';
import type { CollectionRecord } from '../store/collections.js';
import type { BatchHooks } from '../engine/external-batch.js';
import type { Engine } from '../engine/engine.js';
import type { FromWriter, ToWriter, WriterInit } from './protocol.js';

/** Bytes of a streamed body posted to the writer and not yet taken by it, above which reading the body pauses. */
const HIGH_WATER_BYTES = 16 << 20;
/** How long close() waits for the writer to exit before it is terminated. */
const CLOSE_WAIT_MS = 5_000;

export interface WriterIngest {
  record: CollectionRecord;
  /** A request body, or a file the writer reads itself (`.fvecs` or NDJSON). */
  source: AsyncIterable<Buffer | string> | { file: string };
  batch: number;
  maxLineBytes: number;
  hooks: BatchHooks;
}

/** An ingest's `applying` when no batch is being applied. */
const APPLIED: Promise<void> = Promise.resolve();

interface Open {
  hooks: BatchHooks;
  granted: boolean;
  /** Body bytes posted and not yet pulled, and the pump's wait for room. */
  outstanding: number;
  room: (() => void) | null;
  /** The last committed batch's application here (a large one is applied in parts, between other work). */
  applying: Promise<void>;
  settled: boolean;
  resolve(r: IngestReport): void;
  reject(e: Error): void;
}

/**
 * NDJSON and file ingest on a thread of its own (ingest-worker.ts): the lines are parsed,
 * validated and committed there, on its own SQLite connection, and each committed batch comes
 * back to be applied here (matrix, pending index rows, row cache, filter columns, the search
 * pool) before the request is answered. The thread starts at the first ingest (the server warms
 * it at start); if it exits, the ingests open on it fail with INGEST_UNAVAILABLE (503) and the
 * next ingest starts a new one.
 */
export class IngestWriter {
  private worker: Worker | null = null;
  private exited: Promise<void> = Promise.resolve();
  private readonly open = new Map<number, Open>();
  private nextId = 1;
  private closing = false;
  /** Writer threads started after one exited. */
  restarted = 0;

  constructor(private readonly init: WriterInit) {}

  /** Ingests a source into `record`'s collection; resolves to the report once every batch is applied. */
  async ingest(w: WriterIngest): Promise<IngestReport> {
    if (this.closing) throw new MrlError('INGEST_UNAVAILABLE', { detail: 'the server is closing' });
    const worker = this.start();
    const id = this.nextId++;
    const done = new Promise<IngestReport>((resolve, reject) => {
      this.open.set(id, { hooks: w.hooks, granted: false, outstanding: 0, room: null, applying: APPLIED, settled: false, resolve, reject });
    });
    worker.ref(); // an ingest in flight keeps the process alive; an idle writer does not
    done.catch(() => undefined); // the pump may stop before anyone awaits
    const o = this.open.get(id)!;
    const stream = !('file' in w.source);
    const post = (m: ToWriter, transfer: ArrayBuffer[] = []) => {
      if (!o.settled) worker.postMessage(m, transfer);
    };
    post({
      t: 'open',
      id,
      record: w.record,
      source: stream ? { kind: 'stream' } : { kind: 'file', path: (w.source as { file: string }).file },
      batch: w.batch,
      maxLineBytes: w.maxLineBytes,
    });
    // The body is pumped beside the answer: a failed ingest answers at once, not when the body ends.
    if (stream) void this.pump(o, id, w.source as AsyncIterable<Buffer | string>, post);
    return done;
  }

  /** Posts a body's chunks as they come, pausing while the writer holds HIGH_WATER_BYTES not yet taken; stops once the ingest settled. */
  private async pump(o: Open, id: number, body: AsyncIterable<Buffer | string>, post: (m: ToWriter, t?: ArrayBuffer[]) => void) {
    try {
      for await (const chunk of body) {
        if (o.settled) return;
        // A copy in a buffer of its own: the socket's (and small strings') buffers are pooled.
        const bytes = new Uint8Array(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        o.outstanding += bytes.byteLength;
        post({ t: 'chunk', id, bytes }, [bytes.buffer]);
        if (o.outstanding > HIGH_WATER_BYTES) await new Promise<void>((r) => (o.room = r));
      }
      post({ t: 'end', id });
    } catch (err) {
      post({ t: 'abort', id, error: toWire(err) });
    }
  }

  /**
   * Lines (a request body) or a file ingested into the engine's collection on this thread, each
   * batch applied there before the next commits; the report once all are. Null, doing nothing,
   * when the collection has an encoder (its inputs are embedded on the engine's thread: the
   * caller ingests there).
   */
  ingestInto(
    engine: Engine,
    name: string,
    source: WriterIngest['source'],
    opts: { batch: number; maxLineBytes?: number; pendingCap?: number; onCommit?: (p: { upserted: number }) => void },
  ): Promise<IngestReport> | null {
    const record = engine.runtime(name).record;
    if (record.encoder !== null) return null;
    let upserted = 0;
    const hooks = engine.batchHooks(name, {
      pendingCap: opts.pendingCap,
      onApplied: ({ rows }) => opts.onCommit?.({ upserted: (upserted += rows) }),
    });
    return this.ingest({ record, source, batch: opts.batch, maxLineBytes: opts.maxLineBytes ?? Infinity, hooks });
  }

  /** Starts the thread if it is not running (it does not keep the process alive while no ingest is open). */
  warm(): void {
    if (!this.closing) this.start();
  }

  /** Whether the thread is started (by `warm` or the first ingest; it ends at close). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Makes the thread exit at its next message, as a crash would (tests): its open ingests fail with INGEST_UNAVAILABLE. */
  crash(): void {
    this.worker?.postMessage({ t: 'crash' } satisfies ToWriter);
  }

  /** Fails the open ingests, then lets the thread close its connection and exit (terminated after a wait). Safe twice. */
  async close(): Promise<void> {
    this.closing = true;
    for (const [id] of this.open) this.finish(id, new MrlError('INGEST_UNAVAILABLE', { detail: 'the server is closing' }));
    const w = this.worker;
    if (!w) return this.exited;
    this.worker = null;
    w.postMessage({ t: 'close' } satisfies ToWriter);
    const timer = setTimeout(() => void w.terminate(), CLOSE_WAIT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = moduleWorker(import.meta.url, 'ingest-worker', { workerData: this.init });
    this.worker = w;
    w.on('message', (m: FromWriter) => this.onMessage(w, m));
    w.on('error', () => undefined); // 'exit' follows and fails the open ingests
    this.exited = new Promise((resolve) =>
      w.once('exit', () => {
        if (this.worker === w) {
          this.worker = null;
          this.restarted++;
        }
        for (const [id] of this.open) this.finish(id, new MrlError('INGEST_UNAVAILABLE', { detail: 'the ingest thread exited' }));
        resolve();
      }),
    );
    w.unref();
    return w;
  }

  private onMessage(w: Worker, m: FromWriter): void {
    const o = this.open.get(m.id);
    if (!o) {
      if (m.t === 'ready') w.postMessage({ t: 'refuse', id: m.id, error: { message: 'ingest closed' } } satisfies ToWriter);
      return;
    }
    switch (m.t) {
      case 'pulled':
        o.outstanding -= m.bytes;
        if (o.outstanding <= HIGH_WATER_BYTES / 2 && o.room) {
          const r = o.room;
          o.room = null;
          r();
        }
        return;
      case 'ready': {
        const wait = o.hooks.room();
        if (!wait && o.applying === APPLIED) return this.grant(w, m.id, o);
        // The next batch commits once this one is applied and the index has room.
        Promise.all([o.applying, wait]).then(
          () => this.grant(w, m.id, o),
          (err: Error) => this.finish(m.id, err),
        );
        return;
      }
      case 'committed': {
        o.granted = false;
        let applying: Promise<void> | void;
        try {
          applying = o.hooks.applied(m);
        } catch (err) {
          return this.finish(m.id, err as Error);
        }
        if (!applying) return;
        const current: Promise<void> = applying.then(
          () => {
            if (o.applying === current) o.applying = APPLIED;
          },
          (err: Error) => this.finish(m.id, err),
        );
        o.applying = current;
        return;
      }
      case 'done':
        if (o.applying === APPLIED) return this.finish(m.id, null, m.report);
        void o.applying.then(() => this.finish(m.id, null, m.report));
        return;
      case 'failed':
        return this.finish(m.id, fromWire(m.error));
    }
  }

  /** Answers a batch's `ready` in this turn: granted (the caller now holds it) or refused. */
  private grant(w: Worker, id: number, o: Open): void {
    if (o.settled) return;
    const refused = o.hooks.grant();
    if (refused) {
      w.postMessage({ t: 'refuse', id, error: toWire(refused) } satisfies ToWriter);
      return;
    }
    o.granted = true;
    w.postMessage({ t: 'grant', id } satisfies ToWriter);
  }

  /** Settles an ingest (a grant still held is released), and wakes its pump. */
  private finish(id: number, err: Error | null, report?: IngestReport): void {
    const o = this.open.get(id);
    if (!o) return;
    this.open.delete(id);
    o.settled = true;
    if (o.granted) {
      o.granted = false;
      o.hooks.released();
    }
    o.room?.();
    if (this.open.size === 0) this.worker?.unref();
    if (err) {
      this.worker?.postMessage({ t: 'abort', id, error: toWire(err) } satisfies ToWriter); // harmless once it ended there
      o.reject(err);
    } else o.resolve(report!);
  }
}
