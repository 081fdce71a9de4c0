import { existsSync, mkdirSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { join } from 'node:path';
import type { Kernel } from '../compute/kernel.js';
import { MrlError, mrlError } from '../errors.js';
import { removeSnapshotFiles } from '../index/snapshot.js';
import { CollectionStore, type CollectionRecord, type SearchDefaults } from '../store/collections.js';
import { closeDatabase, openDatabase, type Db } from '../store/db.js';
import { ItemStore } from '../store/items.js';
import { validateId, validateLabel, validatePayload, validateVector } from '../core/validate.js';
import { CollectionRuntime } from './collection-runtime.js';
import { buildCollectionRecord, type CollectionSpec } from './collection-spec.js';
import { exactScan } from '../search/exact-scan.js';
import type { SearchOptions } from '../search/options.js';
import { planFor } from '../search/plan.js';
import { searchVector, type SearchResponse } from '../search/search.js';
import { overIndex } from '../search/sources.js';
import { buildIndexFromRows } from './index-build.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import { checkInput, embedInputs, embedQuery, type ItemInput } from './inputs.js';
import type { EncoderRegistry } from '../encoders/registry.js';

export type { ItemInput };

export type Query = { vector: unknown } | { id: unknown } | { input: unknown };

type PreparedItem = { id: string; vector: Float32Array; label: string | null; payload: string | null };
const VALIDATE_CHUNK = 250;

export interface EngineOptions { dataDir: string; kernel: Kernel; defaults?: { k: number; shortlist: number }; encoders?: EncoderRegistry }

/** Store + caches for every collection; the one object the CLI and HTTP layers call. */
export class Engine {
  private readonly runtimes = new Map<string, CollectionRuntime>();
  private readonly pendingLoad = new Map<string, CollectionRecord>();
  private closed = false;
  /** True when this open created the database (a new data dir). */
  isNew = false;
  readonly collections: CollectionStore;
  readonly items: ItemStore;

  private constructor(readonly db: Db, readonly kernel: Kernel, readonly snapshotDir: string, readonly defaults: { k: number; shortlist: number }, readonly encoders?: EncoderRegistry) {
    this.collections = new CollectionStore(db);
    this.items = new ItemStore(db);
  }

  /** Opens SQLite and loads (or rebuilds) every collection's caches before returning. */
  static open(opts: EngineOptions): Engine {
    const engine = Engine.openDeferred(opts);
    try {
      for (const rec of engine.pendingLoad.values()) engine.runtimes.set(rec.name, CollectionRuntime.open(rec, engine.items, engine.snapshotDir));
      engine.pendingLoad.clear();
    } catch (err) {
      closeDatabase(engine.db);
      throw err;
    }
    return engine;
  }

  /** Opens SQLite only; `load()` then builds the caches without blocking the event loop for long. */
  static openDeferred(opts: EngineOptions): Engine {
    mkdirSync(opts.dataDir, { recursive: true });
    const snapshotDir = join(opts.dataDir, 'index');
    mkdirSync(snapshotDir, { recursive: true });
    const file = join(opts.dataDir, 'mrl.sqlite');
    const isNew = !existsSync(file);
    const db = openDatabase(file);
    const engine = new Engine(db, opts.kernel, snapshotDir, opts.defaults ?? { k: 10, shortlist: 200 }, opts.encoders);
    for (const rec of engine.collections.list()) engine.pendingLoad.set(rec.name, rec);
    engine.isNew = isNew;
    return engine;
  }

  /** Loads every collection not loaded yet; `ready` is true afterwards. */
  async load(): Promise<void> {
    for (const rec of [...this.pendingLoad.values()]) {
      const rt = await CollectionRuntime.openAsync(rec, this.items, this.snapshotDir);
      if (this.closed) return;
      this.runtimes.set(rec.name, rt);
      this.pendingLoad.delete(rec.name);
    }
  }

  /** True once every collection's index and matrix are loaded. */
  get ready(): boolean {
    return this.pendingLoad.size === 0 && !this.closed;
  }

  isLoaded(name: string): boolean {
    return this.runtimes.has(name);
  }

  runtime(name: string): CollectionRuntime {
    const rt = this.runtimes.get(name);
    if (rt) return rt;
    if (this.pendingLoad.has(name)) throw new MrlError('NOT_READY', { collection: name });
    throw new MrlError('COLLECTION_NOT_FOUND', { collection: String(name) });
  }

  createCollection(spec: CollectionSpec): CollectionRecord {
    if (spec.encoder !== undefined && spec.encoder !== null) {
      // A collection bound to an encoder takes its dim and nesting unless they are given.
      const m = this.encoders?.has(String(spec.encoder)) ? this.encoders.manifest(String(spec.encoder)) : undefined;
      if (!m) throw new MrlError('UNKNOWN_ENCODER', { encoder: String(spec.encoder) });
      if (spec.dim !== undefined && spec.dim !== m.dim) throw mrlError('INVALID_COLLECTION', `encoder '${m.name}' makes ${m.dim}-d vectors; dim ${String(spec.dim)} does not match`);
      spec = { ...spec, dim: m.dim, nesting: spec.nesting ?? m.nesting };
    }
    const rec = this.collections.insert(buildCollectionRecord(spec));
    this.runtimes.set(rec.name, CollectionRuntime.create(rec));
    return rec;
  }

  listCollections(): CollectionRecord[] {
    return [...[...this.runtimes.values()].map((r) => r.record), ...this.pendingLoad.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  describe(name: string) {
    const rt = this.runtime(name);
    return {
      ...rt.record,
      count: rt.count,
      index: { state: 'ready', dims: rt.index.dim, elements: rt.index.elementCount, deleted: rt.index.deletedCount, unsnapshotted: rt.dirty, lastOpen: rt.lastOpen ?? null },
      memory: { indexBytes: rt.index.bytes, matrixBytes: rt.matrix.bytes, residentDim: rt.matrix.width },
    };
  }

  async dropCollectionAsync(name: string): Promise<void> {
    await this.runtime(name).settled();
    this.dropCollection(name);
  }

  dropCollection(name: string): void {
    const rt = this.runtime(name);
    this.collections.delete(name);
    this.runtimes.delete(name);
    removeSnapshotFiles(this.snapshotDir, rt.record.id);
  }

  /**
   * Validates the whole batch first, commits it in one transaction, then updates the caches.
   * Nothing is changed when any item is invalid. Returns once the commit is durable.
   */
  upsert(name: string, inputs: ItemInput[]): { upserted: number } {
    const rt = this.runtime(name);
    const res = this.items.upsert(rt.record.id, this.prepareBatch(rt, inputs, 0, inputs.length, new Map()));
    rt.apply(res.added, res.removedSeqs);
    return { upserted: res.added.length };
  }

  /**
   * The same for the server: validation and cache updates run in chunks that yield to the event
   * loop, so searches keep flowing during big ingests. Resolves after the commit and once the
   * caches hold the batch (so a client reads its own writes).
   */
  async upsertAsync(name: string, raw: ItemInput[]): Promise<{ upserted: number }> {
    let rt = this.runtime(name);
    if (!Array.isArray(raw)) throw mrlError('VALIDATION', 'items must be an array');
    const inputs = await embedInputs(rt.record, this.encoders, raw);
    rt = this.runtime(name);
    const byId = new Map<string, PreparedItem>();
    for (let i = 0; i < inputs.length; i += VALIDATE_CHUNK) {
      if (i > 0) await yieldToLoop();
      this.prepareBatch(rt, inputs, i, Math.min(inputs.length, i + VALIDATE_CHUNK), byId);
    }
    const current = this.runtime(name); // the collection may have been dropped while we yielded
    if (current !== rt) throw new MrlError('COLLECTION_NOT_FOUND', { collection: name });
    const res = this.items.upsert(rt.record.id, [...byId.values()]);
    await rt.applyQueued(res.added, res.removedSeqs);
    return { upserted: res.added.length };
  }

  private prepareBatch(rt: CollectionRuntime, inputs: ItemInput[], from: number, to: number, byId: Map<string, PreparedItem>): PreparedItem[] {
    if (!Array.isArray(inputs)) throw mrlError('VALIDATION', 'items must be an array');
    const name = rt.record.name;
    for (let i = from; i < to; i++) {
      const it = inputs[i];
      if (typeof it !== 'object' || it === null) throw mrlError('VALIDATION', `items[${i}] must be an object`);
      const id = validateId(it.id, `items[${i}].id`);
      if (it.vector === undefined) throw mrlError('VALIDATION', `items[${i}] needs a vector (or an input, for a collection with an encoder)`);
      const vector = validateVector(it.vector, rt.record.dim, name, `items[${i}].vector`);
      byId.delete(id); // the last occurrence of an id wins
      byId.set(id, { id, vector, label: validateLabel(it.label), payload: validatePayload(it.payload) });
    }
    return [...byId.values()];
  }

  /** Validates one item as upsert would (an input against the collection's encoder); throws the coded error. */
  async checkItem(name: string, it: ItemInput): Promise<ItemInput> {
    const rt = this.runtime(name);
    if (typeof it !== 'object' || it === null) throw mrlError('VALIDATION', 'item must be an object');
    validateId(it.id);
    await checkInput(rt.record, this.encoders, it, 'item');
    if (it.vector !== undefined) validateVector(it.vector, rt.record.dim, name);
    validateLabel(it.label);
    validatePayload(it.payload);
    return it;
  }

  deleteItems(name: string, ids: unknown[]): { deleted: number; missing: string[] } {
    const rt = this.runtime(name);
    const valid = ids.map((id, i) => validateId(id, `ids[${i}]`));
    const res = this.items.delete(rt.record.id, valid);
    rt.apply([], res.removedSeqs);
    return { deleted: res.removedSeqs.length, missing: res.missing };
  }

  async deleteItemsAsync(name: string, ids: unknown[]): Promise<{ deleted: number; missing: string[] }> {
    const rt = this.runtime(name);
    const valid = ids.map((id, i) => validateId(id, `ids[${i}]`));
    const res = this.items.delete(rt.record.id, valid);
    await rt.applyQueued([], res.removedSeqs);
    return { deleted: res.removedSeqs.length, missing: res.missing };
  }

  getItem(name: string, id: unknown) {
    const rt = this.runtime(name);
    const item = this.items.getById(rt.record.id, validateId(id));
    if (!item) throw new MrlError('ITEM_NOT_FOUND', { id: String(id), collection: name });
    return { id: item.id, label: item.label, payload: item.payload, vector: Array.from(item.vector) };
  }

  /**
   * Funnel search for a raw vector or a stored item's id (the item itself is left out). Options
   * left out come from the collection's search defaults, then the server's. `using` swaps in
   * another index over the same rows (a sweep's temporary index at other dims).
   */
  async search(name: string, query: Query, opts: SearchOptions = {}, using?: { index: PrefixIndex }): Promise<SearchResponse> {
    const t0 = performance.now();
    const rt = this.runtime(name);
    const { vector, exclude } = await this.resolveQuery(rt, query);
    const plan = this.plan(rt, opts, using?.index.dim);
    const source = using ? overIndex(rt, using.index) : rt;
    const r = await searchVector({ source, vectors: this.items, rows: this.items, kernel: this.kernel }, vector, plan, exclude);
    return { ...r, ms: performance.now() - t0 };
  }

  /** The stages a search would run (validates the options). */
  plan(rt: CollectionRuntime, opts: SearchOptions, indexDim = rt.record.indexDim) {
    return planFor(rt.record, this.defaults, opts, indexDim);
  }

  /**
   * Sets the collection's tuned search defaults and, when `indexDim` differs, rebuilds its index
   * at those dims. The rebuild runs in the collection's write queue (writes wait, searches use
   * the old index until the swap); `prebuilt` is used when no write reached the caches since it
   * was built (its matrix version still matches).
   */
  async retune(name: string, indexDim: number, defaults: SearchDefaults, prebuilt?: { index: PrefixIndex; matrixVersion: number }): Promise<CollectionRecord> {
    const rt = this.runtime(name);
    if (!Number.isInteger(indexDim) || indexDim < 1 || indexDim > rt.record.dim) throw mrlError('INVALID_COLLECTION', `indexDim must be an integer in 1..${rt.record.dim}`);
    this.plan(rt, defaults.funnel ? { funnel: defaults.funnel } : { shortlist: defaults.shortlist, rerank: defaults.rerank, ef: defaults.ef }, indexDim); // throws if they do not plan
    await rt.exclusive(async () => {
      let index = rt.index;
      if (indexDim !== rt.index.dim) {
        index = prebuilt && prebuilt.index.dim === indexDim && prebuilt.matrixVersion === rt.matrix.version
          ? prebuilt.index
          : await buildIndexFromRows(rt, this.items, indexDim);
      }
      const rec = this.collections.updateTuning(name, indexDim, defaults);
      rt.swap(rec, index);
      rt.snapshot(this.snapshotDir, true);
    });
    return rt.record;
  }

  /** Exact top-k at `dims` for a vector: seqs and scores (used by evaluation and benchmarks). */
  async exact(name: string, vector: Float32Array, dims: number, k: number): Promise<{ seqs: number[]; scores: number[] }> {
    const rt = this.runtime(name);
    return exactScan(rt, this.items, this.kernel, vector, dims, k);
  }

  private async resolveQuery(rt: CollectionRuntime, q: Query): Promise<{ vector: Float32Array; exclude?: number }> {
    if (typeof q !== 'object' || q === null) throw mrlError('INVALID_SEARCH', 'a query needs a vector or an id');
    const given = ['vector', 'id', 'input'].filter((f) => (q as Record<string, unknown>)[f] !== undefined);
    if (given.length !== 1) throw mrlError('VALIDATION', 'give exactly one of vector, input (q) and id');
    if ('input' in q && q.input !== undefined) return { vector: await embedQuery(rt.record, this.encoders, q.input) };
    if ('vector' in q && q.vector !== undefined) return { vector: validateVector(q.vector, rt.record.dim, rt.record.name, 'query vector') };
    const id = (q as { id: unknown }).id;
    const item = this.items.getById(rt.record.id, validateId(id));
    if (!item) throw new MrlError('ITEM_NOT_FOUND', { id: String(id), collection: rt.record.name });
    return { vector: item.vector, exclude: item.seq };
  }

  /** Writes a snapshot of every collection that changed since its last one. */
  snapshotAll(): number {
    let n = 0;
    for (const rt of this.runtimes.values()) if (rt.snapshot(this.snapshotDir)) n++;
    return n;
  }

  /** Resolves once every queued cache update has been applied. */
  async drain(): Promise<void> {
    await Promise.all([...this.runtimes.values()].map((rt) => rt.settled()));
  }

  /** Snapshots, then closes SQLite. Safe to call twice; no snapshot if SQLite was closed under it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.db.open) this.snapshotAll();
    } finally {
      closeDatabase(this.db);
    }
  }
}

