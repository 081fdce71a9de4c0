import type { Worker } from 'node:worker_threads';
import type { ResidentMatrix } from '../../core/resident-matrix.js';
import { PrefixIndex } from '../../index/prefix-index.js';
import { fromWire, MrlError } from '../../errors.js';
import { moduleWorker } from '../../module-worker.js';
import type { SearchOptions } from '../../search/options.js';
import type { Query } from '../../search/query.js';
import type { CollectionRecord } from '../../store/collections.js';
import type { CommittedWrite } from '../item-ops.js';
import type { RunResult } from '../search-run.js';
import type { FromWorker, Observed, ToWorker, WorkerInit, WorkerMemory } from './protocol.js';
import { writeMessage } from './write-message.js';

/** How long a search may wait for its worker before it fails with SEARCH_UNAVAILABLE. */
const SEARCH_TIMEOUT_MS = 30_000;
/** How long close() waits for a worker to finish before it is terminated. */
const CLOSE_WAIT_MS = 5_000;
/** How long `memory` waits for the workers' answers (a worker busy with a long search answers after it). */
const MEMORY_WAIT_MS = 250;

interface InFlight {
  resolve(r: { result: RunResult; observed?: Observed }): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}
interface Slot {
  worker: Worker;
  inFlight: Map<number, InFlight>;
  exited: Promise<void>;
  /** Handles to main-thread graphs posted to this worker: released here once it exited (it releases those it moved off itself). */
  handles: number[];
}

interface Served {
  record: CollectionRecord;
  matrix: ResidentMatrix;
  index: PrefixIndex;
}

/** The worker's module beside this one (search-worker.ts from source, .js from dist/). */
const spawn = (workerData: WorkerInit) => moduleWorker(import.meta.url, 'search-worker', { workerData });

/**
 * Searches on N worker threads (search-worker.ts) over the collections' shared resident
 * matrices and the main thread's own HNSW graphs (each worker searches a graph by a handle of
 * its own; only the main thread inserts into it). Every collection, record change, committed
 * write and batch of rows put into a graph is posted to every worker in commit order (posting
 * is synchronous: a write's message is queued before the write is acknowledged, so a later
 * search sees it); a search goes to the least busy worker. A worker
 * that exits is replaced (its collections opened again) and its searches in flight fail with
 * SEARCH_UNAVAILABLE (503). `close()` joins every worker; safe twice.
 */
export class SearchPool {
  private readonly slots: Slot[] = [];
  private readonly collections = new Map<string, Served>();
  private nextId = 1;
  /** `memory` requests waiting for answers: by id, told each worker's answer with the worker's slot. */
  private readonly asks = new Map<number, (slot: number, m: WorkerMemory | null) => void>();
  private live = 0;
  private closing = false;
  private closed?: Promise<void>;
  /** Workers started to replace ones that exited. */
  replaced = 0;

  constructor(
    readonly threads: number,
    private readonly init: WorkerInit,
    private readonly timeoutMs = SEARCH_TIMEOUT_MS,
  ) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`a search pool needs at least one thread, got ${threads}`);
    for (let i = 0; i < threads; i++) this.slots.push(this.start());
  }

  /** Workers started and not exited yet (0 once `close()` resolved). */
  get running(): number {
    return this.live;
  }

  /** A collection the workers serve (its matrix must be shared), with the graph they search. Again for a reopened one. */
  open(record: CollectionRecord, matrix: ResidentMatrix, index: PrefixIndex): void {
    const c: Served = { record, matrix, index };
    this.collections.set(record.name, c);
    for (const s of this.slots) this.openIn(s, c);
  }

  /** A changed record (search defaults, indexed fields, a retune: other index dims rebuild the replicas). */
  record(record: CollectionRecord, index?: PrefixIndex): void {
    const c = this.collections.get(record.name);
    if (!c) return;
    c.record = record;
    if (!index || index === c.index) return this.post({ t: 'record', record });
    c.index = index; // a retune's new graph: each worker moves to it (and releases its handle to the old one)
    for (const s of this.slots) s.worker.postMessage({ t: 'record', record, index: this.handOut(s, index) } satisfies ToWorker);
  }

  /** Rows a batch put into a collection's graph: the workers stop scanning them as pending (one in another graph changes nothing). */
  indexed(name: string, index: PrefixIndex, seqs: number[]): void {
    if (this.collections.get(name)?.index !== index) return;
    this.post({ t: 'indexed', name, id: index.handle, seqs });
  }

  drop(name: string): void {
    if (this.collections.delete(name)) this.post({ t: 'drop', name });
  }

  /** A rotation was bound to a collection: workers read it again. */
  rotationBound(): void {
    this.post({ t: 'rotation' });
  }

  /** A committed write, after the main thread applied it to the matrix: added rows, removed seqs, rows patched in place. */
  write(name: string, w: CommittedWrite): void {
    const c = this.collections.get(name);
    if (!c || w.added.length + w.removed.length + w.patched.length === 0) return;
    this.post(writeMessage(c.record, w));
  }

  /** `write` bound to one collection (what the engine's item operations call after each commit). */
  writer(name: string) {
    return (w: CommittedWrite) => this.write(name, w);
  }

  /** Runs a search on the least busy worker. */
  search(name: string, query: Query, opts: SearchOptions, observe: boolean): Promise<{ result: RunResult; observed?: Observed }> {
    if (this.closing) return Promise.reject(new MrlError('SEARCH_UNAVAILABLE', { detail: 'the search pool is closed' }));
    let slot = this.slots[0];
    for (const s of this.slots) if (s.inFlight.size < slot.inFlight.size) slot = s;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        slot.inFlight.delete(id);
        reject(new MrlError('SEARCH_UNAVAILABLE', { detail: `no search worker answered within ${this.timeoutMs} ms` }));
      }, this.timeoutMs);
      slot.inFlight.set(id, { resolve, reject, timer });
      slot.worker.postMessage({ t: 'search', id, name, query, opts, observe } satisfies ToWorker);
    });
  }

  /** What each worker holds of a collection, by worker (null: no answer within `waitMs`, or it does not serve the collection). */
  memory(name: string, waitMs = MEMORY_WAIT_MS): Promise<(WorkerMemory | null)[]> {
    const got: (WorkerMemory | null)[] = this.slots.map(() => null);
    if (this.closing) return Promise.resolve(got);
    const id = this.nextId++;
    let left = got.length;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.asks.delete(id);
        resolve(got);
      };
      const timer = setTimeout(done, waitMs);
      this.asks.set(id, (slot, m) => {
        got[slot] = m;
        if (--left === 0) done();
      });
      this.post({ t: 'memory', id, name });
    });
  }

  /**
   * Makes worker `i` exit as a crash would (tests): its searches in flight, and those posted to it
   * before it is gone, fail with 503, and it is replaced; resolves once it exited. It exits at its
   * next message rather than by `terminate()`: terminating a thread inside a native call (hnswlib's
   * searchKnn) can abort the whole process (node-addon-api's napi_throw fails in a dying isolate).
   */
  crashWorker(i: number): Promise<void> {
    const slot = this.slots[i];
    slot.worker.postMessage({ t: 'crash' } satisfies ToWorker);
    return slot.exited;
  }

  /** Asks every worker to close (each closes its store), waits for them to exit; terminates stragglers. Safe twice. */
  close(): Promise<void> {
    this.closing = true;
    this.closed ??= Promise.all(
      this.slots.map(async (s) => {
        s.worker.postMessage({ t: 'close' } satisfies ToWorker);
        const timer = setTimeout(() => void s.worker.terminate(), CLOSE_WAIT_MS);
        await s.exited;
        clearTimeout(timer);
      }),
    ).then(() => {
      for (const s of this.slots) this.releaseHandles(s);
    });
    return this.closed;
  }

  private openIn(s: Slot, c: Served): void {
    s.worker.postMessage({ t: 'open', record: c.record, matrix: c.matrix.share(), index: this.handOut(s, c.index) } satisfies ToWorker);
  }

  /** A handle to `index` for worker `s` (which adopts it), noted for release once that worker exited. */
  private handOut(s: Slot, index: PrefixIndex): { handle: number; id: number } {
    const handle = index.share();
    s.handles.push(handle);
    return { handle, id: index.handle };
  }

  private releaseHandles(s: Slot): void {
    for (const h of s.handles) PrefixIndex.releaseHandle(h); // one the worker released already: nothing
    s.handles = [];
  }

  private post(m: ToWorker): void {
    for (const s of this.slots) s.worker.postMessage(m);
  }

  private start(): Slot {
    const worker = spawn(this.init);
    const inFlight = new Map<number, InFlight>();
    this.live++;
    let lastError: Error | undefined;
    const exited = new Promise<void>((done) => {
      worker.on('error', (err) => (lastError = err));
      worker.on('exit', (code) => {
        this.live--;
        this.lost(slot, `a search worker exited (code ${code}${lastError ? `: ${lastError.message}` : ''})`);
        done();
      });
    });
    const slot: Slot = { worker, inFlight, exited, handles: [] };
    worker.on('message', (m: FromWorker) => {
      if (m.t === 'closed') return;
      if (m.t === 'memory') {
        const i = this.slots.indexOf(slot); // -1: a worker replaced since
        if (i >= 0) this.asks.get(m.id)?.(i, m.memory);
        return;
      }
      const f = inFlight.get(m.id);
      if (!f) return;
      inFlight.delete(m.id);
      clearTimeout(f.timer);
      if (m.t === 'result') f.resolve({ result: m.result, observed: m.observed });
      else f.reject(fromWire(m.error));
    });
    return slot;
  }

  /** A worker exited: its searches fail with 503; unless closing, a new worker takes its place with every collection. */
  private lost(slot: Slot, why: string): void {
    for (const f of slot.inFlight.values()) {
      clearTimeout(f.timer);
      f.reject(new MrlError('SEARCH_UNAVAILABLE', { detail: why }));
    }
    slot.inFlight.clear();
    if (this.closing) return;
    this.releaseHandles(slot);
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    const next = this.start();
    this.slots[i] = next;
    this.replaced++;
    for (const c of this.collections.values()) this.openIn(next, c);
  }
}
