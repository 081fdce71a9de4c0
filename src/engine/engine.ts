import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Kernel } from '../compute/kernel.js';
import { validateId, validateLabel, validatePayload, validateText, validateVector } from '../core/validate.js';
import { MrlError, mrlError } from '../errors.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import { removeMatrixSnapshotFiles } from '../index/matrix-snapshot.js';
import { removeSnapshotFiles } from '../index/snapshot.js';
import { exactTop } from '../search/exact-scan.js';
import type { SearchOptions } from '../search/options.js';
import { planFor, withRecallTarget, type ServerDefaults } from '../search/plan.js';
import type { Query } from '../search/query.js';
import { overIndex } from '../search/sources.js';
import type { CollectionRecord, CollectionStore, SearchDefaults } from '../store/collections.js';
import type { ItemPatch, ItemStore, WriteResult } from '../store/items.js';
import type { StoredRotation } from '../store/quality.js';
import { CollectionRuntime } from './collection-runtime.js';
import { EngineHooks } from './hooks.js';
import { BoundRotations, type RotationSource } from './rotations.js';
import { buildCollectionRecord, validateIndexedFields, type CollectionSpec } from './collection-spec.js';
import { buildIndexFromRows } from './index-build.js';
import { checkIndexedPayload } from './indexed-fields.js';
import { runSearch, type RunResult } from './search-run.js';
import { RowCache } from './row-cache.js';

/** An item as the engine takes it: a vector (text and image inputs are embedded before). */
export interface ItemVector {
  id: unknown;
  vector?: unknown;
  label?: unknown;
  payload?: unknown;
  text?: unknown;
}

export type PreparedItem = { id: string; vector: Float32Array; label: string | null; payload: string | null; text: string | null };
const VALIDATE_CHUNK = 250;

/** What the engine is given; the context opens and closes all of it. */
export interface EngineDeps {
  collections: CollectionStore;
  items: ItemStore;
  kernel: Kernel;
  /** Where index snapshots are written (a folder of the data dir). */
  snapshotDir: string;
  defaults?: ServerDefaults;
  /** Rotations bound to collections by `adapt` (src/quality/adapt.ts). */
  rotations?: RotationSource;
}

/**
 * Every collection's caches over the stores: the one object the CLI and HTTP layers call. Writes
 * and opening yield to the event loop (searches keep flowing during big ingests and loads).
 */
export class Engine {
  private readonly runtimes = new Map<string, CollectionRuntime>();
  private readonly pendingLoad = new Map<string, CollectionRecord>();
  /** Result rows by collection id (search hits); writes that remove rows forget them at once. */
  private readonly rowCaches = new Map<number, RowCache>();
  private closed = false;
  readonly collections: CollectionStore;
  readonly items: ItemStore;
  readonly kernel: Kernel;
  readonly snapshotDir: string;
  readonly defaults: ServerDefaults;
  readonly hooks = new EngineHooks();
  private readonly rotations: BoundRotations;

  private constructor(deps: EngineDeps) {
    this.collections = deps.collections;
    this.items = deps.items;
    this.kernel = deps.kernel;
    this.snapshotDir = deps.snapshotDir;
    this.defaults = deps.defaults ?? { k: 10, shortlist: 200 };
    this.rotations = new BoundRotations(deps.rotations);
    for (const rec of this.collections.list()) this.pendingLoad.set(rec.name, rec);
  }

  /**
   * An engine over the stores, every collection's caches loaded (or rebuilt) on return. With
   * `deferLoad` it returns at once and `load()` builds them (the server listens meanwhile).
   */
  static async open(deps: EngineDeps, opts: { deferLoad?: boolean } = {}): Promise<Engine> {
    const engine = new Engine(deps);
    if (!opts.deferLoad) await engine.load();
    return engine;
  }

  /** Loads every collection not loaded yet; `ready` is true afterwards. */
  async load(): Promise<void> {
    for (const rec of [...this.pendingLoad.values()]) {
      const rt = await CollectionRuntime.open(rec, this.items, this.snapshotDir);
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

  /** A collection from a full spec (one bound to an encoder has its dim filled in before). */
  createCollection(spec: CollectionSpec): CollectionRecord {
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
      index: {
        state: 'ready',
        dims: rt.index.dim,
        elements: rt.index.elementCount,
        deleted: rt.index.deletedCount,
        pending: rt.pending.size,
        unsnapshotted: rt.dirty,
        lastOpen: rt.lastOpen ?? null,
      },
      memory: this.memory(rt),
    };
  }

  /** Bytes per structure: the index (estimate), the resident matrix in all and by part, cached result rows. */
  private memory(rt: CollectionRuntime) {
    return { indexBytes: rt.index.bytes, ...rt.matrix.memory, metadataCacheBytes: this.rows(rt.record.id).bytes };
  }

  private rows(collectionId: number): RowCache {
    let c = this.rowCaches.get(collectionId);
    if (!c) this.rowCaches.set(collectionId, (c = new RowCache(this.items)));
    return c;
  }

  /** Waits for the collection's queued index work, then removes it, its items and its snapshots. */
  async dropCollection(name: string): Promise<void> {
    const dropping = this.runtime(name);
    dropping.pending.reset(dropping.index.dim); // rows about to go need no indexing
    await dropping.settled();
    const rt = this.runtime(name);
    this.collections.delete(name);
    this.runtimes.delete(name);
    this.rowCaches.delete(rt.record.id);
    removeSnapshotFiles(this.snapshotDir, rt.record.id);
    removeMatrixSnapshotFiles(this.snapshotDir, rt.record.id);
  }

  /**
   * Validates the whole batch first (in chunks that yield to the event loop), commits it in one
   * transaction, then updates the resident matrix and queues the rows for the index. Nothing is
   * changed when any item is invalid. Resolves after the commit; the next search sees the batch
   * (rows not in the index yet are scanned exactly beside it).
   */
  async upsert(name: string, items: ItemVector[]): Promise<{ upserted: number }> {
    const rt = this.runtime(name);
    const written = await this.prepare(name, items);
    const current = this.runtime(name); // the collection may have been dropped while we yielded
    if (current !== rt) throw new MrlError('COLLECTION_NOT_FOUND', { collection: name });
    const res = this.items.upsert(rt.record.id, written);
    this.applyCommitted(name, written, res);
    return { upserted: res.added.length };
  }

  /** Validates a batch as `upsert` does (the last id wins; vectors in their stored form), in chunks that yield; writes nothing. */
  async prepare(name: string, items: ItemVector[]): Promise<PreparedItem[]> {
    const rt = this.runtime(name);
    if (!Array.isArray(items)) throw mrlError('VALIDATION', 'items must be an array');
    const byId = new Map<string, PreparedItem>();
    const chunk = this.rotations.chunk(rt.record, VALIDATE_CHUNK);
    for (let i = 0; i < items.length; i += chunk) {
      if (i > 0) await yieldToLoop();
      this.prepareBatch(rt, items, i, Math.min(items.length, i + chunk), byId);
    }
    return [...byId.values()];
  }

  /** After the store committed `written` (as `res`; `changed`: rows patched in place): the row cache, then index and matrix, then listeners. */
  applyCommitted(name: string, written: PreparedItem[], res: WriteResult, changed: number[] = []): void {
    const rt = this.runtime(name);
    const cache = this.rows(rt.record.id);
    cache.forget([...res.removedSeqs, ...changed]);
    cache.written(res.added.map((a, i) => ({ seq: a.seq, id: written[i].id, label: written[i].label, payload: written[i].payload })));
    rt.apply(res.added, res.removedSeqs);
    if (written.length) for (const f of this.hooks.upserted) f(name);
  }

  private prepareBatch(rt: CollectionRuntime, items: ItemVector[], from: number, to: number, byId: Map<string, PreparedItem>): void {
    const name = rt.record.name;
    for (let i = from; i < to; i++) {
      const it = items[i];
      if (typeof it !== 'object' || it === null) throw mrlError('VALIDATION', `items[${i}] must be an object`);
      const id = validateId(it.id, `items[${i}].id`);
      if (it.vector === undefined)
        throw mrlError('VALIDATION', `items[${i}] needs a vector (or an input, for a collection with an encoder)`);
      const vector = this.rotations.toStored(rt.record, validateVector(it.vector, rt.record.dim, name, `items[${i}].vector`));
      byId.delete(id); // the last occurrence of an id wins
      checkIndexedPayload(rt.record.indexedFields, it.payload, `items[${i}].payload`);
      byId.set(id, {
        id,
        vector,
        label: validateLabel(it.label),
        payload: validatePayload(it.payload),
        text: validateText(it.text, `items[${i}].text`),
      });
    }
  }

  /** Deletes ids in one transaction; resolves once the caches no longer hold them (at once). */
  async deleteItems(name: string, ids: unknown[]): Promise<{ deleted: number; missing: string[] }> {
    const rt = this.runtime(name);
    const valid = ids.map((id, i) => validateId(id, `ids[${i}]`));
    const res = this.items.delete(rt.record.id, valid);
    this.rows(rt.record.id).forget(res.removedSeqs);
    rt.apply([], res.removedSeqs);
    return { deleted: res.removedSeqs.length, missing: res.missing };
  }

  getItem(name: string, id: unknown) {
    const rt = this.runtime(name);
    const item = this.items.getById(rt.record.id, validateId(id));
    if (!item) throw new MrlError('ITEM_NOT_FOUND', { id: String(id), collection: name });
    return {
      id: item.id,
      label: item.label,
      payload: item.payload,
      text: this.items.text.textOf(item.seq),
      vector: Array.from(this.rotations.toRaw(rt.record, item.vector)),
    };
  }

  /**
   * Changes an item's label, payload and/or text in one transaction: no re-embedding and no
   * index change (the row keeps its seq and vector); keyword text and field indexes follow.
   */
  patchItem(name: string, id: unknown, patch: { label?: unknown; payload?: unknown; text?: unknown }) {
    const rt = this.runtime(name);
    const { key, p } = this.preparePatch(name, id, patch);
    const seq = this.items.getById(rt.record.id, key)?.seq;
    if (!this.items.patch(rt.record.id, key, p)) throw new MrlError('ITEM_NOT_FOUND', { id: key, collection: name });
    if (seq !== undefined) this.rows(rt.record.id).forget([seq]); // the row changed under its seq
    return this.getItem(name, key);
  }

  /** Validates a patch as `patchItem` does; writes nothing. */
  preparePatch(name: string, id: unknown, patch: { label?: unknown; payload?: unknown; text?: unknown }): { key: string; p: ItemPatch } {
    const rt = this.runtime(name);
    const key = validateId(id);
    if (typeof patch !== 'object' || patch === null) throw mrlError('VALIDATION', 'a patch is an object of label, payload and text');
    const p = {
      ...(patch.label !== undefined ? { label: validateLabel(patch.label) } : {}),
      ...(patch.payload !== undefined
        ? { payload: (checkIndexedPayload(rt.record.indexedFields, patch.payload, 'payload'), validatePayload(patch.payload)) }
        : {}),
      ...(patch.text !== undefined ? { text: validateText(patch.text) } : {}),
    };
    return { key, p };
  }

  /** Sets a collection's indexed payload fields (their SQLite expression indexes are created or dropped). */
  setIndexedFields(name: string, fields: unknown): CollectionRecord {
    const rt = this.runtime(name);
    const rec = this.collections.updateIndexedFields(name, validateIndexedFields(fields));
    rt.record = rec;
    return rec;
  }

  /** The rotation bound to a collection (cached), or null. */
  rotation(record: CollectionRecord): Float32Array | null {
    return this.rotations.of(record);
  }

  /** Binds an orthogonal rotation to an empty collection: its vectors are stored and searched as v·R. */
  bindRotation(name: string, rotation: StoredRotation): void {
    const rt = this.runtime(name);
    this.rotations.bind(rt.record, rt.count, rotation);
  }

  /**
   * Funnel search (src/search/) for a vector or a stored item's id (the item itself is left
   * out). Options left out come from the collection's search defaults, then the server's.
   * `using` swaps in another index over the same rows (a sweep's temporary index at other dims).
   * `observe`: a user's search (HTTP, CLI), told to `hooks.searched` (the recall audit); an
   * evaluation's searches are not.
   */
  async search(
    name: string,
    query: Query,
    opts: SearchOptions = {},
    using?: { index: PrefixIndex },
    observe = false,
  ): Promise<RunResult & { ms: number }> {
    const t0 = performance.now();
    const rt = this.runtime(name);
    const source = using ? overIndex(rt, using.index) : rt;
    const plan = (o: SearchOptions) => this.plan(rt, withRecallTarget(rt.record, o, this.hooks.recallResolver), using?.index.dim);
    // A stored item's vector is already in the collection's space; a raw one is rotated into it.
    const toStored = (v: Float32Array) => this.rotations.toStored(rt.record, v);
    const observer = observe && !using ? this.hooks.observer(name) : undefined;
    const r = await runSearch(
      {
        items: this.items,
        rows: this.rows(rt.record.id),
        kernel: this.kernel,
        source,
        record: rt.record,
        plan,
        toStored,
        observe: observer,
      },
      query,
      opts,
    );
    return { ...r, ms: performance.now() - t0 };
  }

  /** The stages a search would run (validates the options). */
  plan(rt: CollectionRuntime, opts: SearchOptions, indexDim = rt.record.indexDim) {
    return planFor(rt.record, this.defaults, opts, indexDim);
  }

  /**
   * Sets the collection's tuned search defaults and, when `indexDim` differs, rebuilds its index
   * at those dims. The rebuild runs in the collection's index queue (writes still commit and
   * reach the matrix, their rows wait as pending; searches use the old index until the swap,
   * which resyncs the new index with the matrix); `prebuilt` is used when no write reached the
   * matrix since it was built (its matrix version still matches).
   */
  async retune(
    name: string,
    indexDim: number,
    defaults: SearchDefaults,
    prebuilt?: { index: PrefixIndex; matrixVersion: number },
  ): Promise<CollectionRecord> {
    const rt = this.runtime(name);
    if (!Number.isInteger(indexDim) || indexDim < 1 || indexDim > rt.record.dim)
      throw mrlError('INVALID_COLLECTION', `indexDim must be an integer in 1..${rt.record.dim}`);
    this.plan(
      rt,
      defaults.funnel ? { funnel: defaults.funnel } : { shortlist: defaults.shortlist, rerank: defaults.rerank, ef: defaults.ef },
      indexDim,
    ); // throws if they do not plan
    await rt.exclusive(async () => {
      let index = rt.index;
      if (indexDim !== rt.index.dim) {
        index =
          prebuilt && prebuilt.index.dim === indexDim && prebuilt.matrixVersion === rt.matrix.version
            ? prebuilt.index
            : await buildIndexFromRows(rt, this.items, indexDim);
      }
      const rec = this.collections.updateTuning(name, indexDim, defaults);
      rt.swap(rec, index, this.items);
      rt.snapshot(this.snapshotDir, true);
    });
    return rt.record;
  }

  /** Exact top-k at `dims` for a vector: seqs and scores (used by evaluation and benchmarks). */
  async exact(name: string, vector: Float32Array, dims: number, k: number): Promise<{ seqs: number[]; scores: number[] }> {
    return exactTop(this.runtime(name), this.items, this.kernel, vector, dims, k);
  }

  /** Writes a snapshot of every collection that changed since its last one. */
  snapshotAll(): number {
    let n = 0;
    for (const rt of this.runtimes.values()) if (rt.snapshot(this.snapshotDir)) n++;
    return n;
  }

  /** Resolves once every committed row is in its collection's index. */
  async drain(): Promise<void> {
    await Promise.all([...this.runtimes.values()].map((rt) => rt.settled()));
  }

  /**
   * Stops loading, waits until every committed row is indexed, then snapshots what changed. The stores stay
   * open: the context closes them after this. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.drain();
    this.snapshotAll();
  }
}
