import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Kernel } from '../compute/kernel.js';
import { MrlError } from '../errors.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import { removeMatrixSnapshotFiles } from '../index/matrix-snapshot.js';
import { removeSnapshotFiles } from '../index/snapshot.js';
import { exactTopSliced } from '../search/exact-scan.js';
import { StageContext } from '../search/stage-context.js';
import type { SearchOptions } from '../search/options.js';
import { planFor, type ServerDefaults } from '../search/plan.js';
import type { Query } from '../search/query.js';
import type { CollectionRecord, CollectionStore, SearchDefaults } from '../store/collections.js';
import type { ItemPatch, ItemStore, WriteResult } from '../store/items.js';
import type { StoredRotation } from '../store/quality.js';
import { CollectionRuntime } from './collection-runtime.js';
import { EngineHooks } from './hooks.js';
import { BoundRotations, type RotationSource } from './rotations.js';
import { buildCollectionRecord, validateIndexedFields, type CollectionSpec } from './collection-spec.js';
import { describeCollection, withWorkers } from './collection-describe.js';
import { applyCommitted, deleteItems, getItem, patchItem, type ItemOpsDeps } from './item-ops.js';
import { prepareItems, preparePatch, type ItemPatchInput, type ItemVector, type PreparedItem } from './prepare-items.js';
import { retuneCollection } from './retune.js';
import { searchCollection } from './search-entry.js';
import type { RunResult } from './search-run.js';
import { RowCache } from './row-cache.js';
import { searchOnPool } from './pool/pool-search.js';
import type { SearchPool } from './pool/search-pool.js';
import { applyBatch, batchPart, type BatchHooks } from './external-batch.js';
import { WriteGate } from './write-gate.js';

export type { ItemVector, PreparedItem } from './prepare-items.js';

/**
 * Rows an ingest on another thread may leave waiting for the index before its next batch waits
 * (Engine.batchHooks): a search's exact scan of 8,192 rows at 32 dims costs ~0.1–0.2 ms.
 */
export const PENDING_CAP = 8192;

/**
 * Rows of an ingest thread's batch applied in one turn of the event loop (~10 µs each: matrix,
 * pending rows, row cache, filter columns): a batch of 1,000 applied at once had held searches
 * back by 10–35 ms. A batch that replaced rows is applied at once (a search between two parts
 * could miss the id whose old row went with the first).
 */
const APPLY_PART_ROWS = 200;

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
  /** Worker threads for searches (src/engine/pool/); matrices are then shared with them. Absent: searches run in this thread. */
  pool?: SearchPool;
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
  readonly pool?: SearchPool;
  /** Batches of the ingest thread committed and not yet applied here: this thread's writes of the collection wait for them. */
  private readonly gate = new WriteGate();

  private constructor(deps: EngineDeps) {
    this.pool = deps.pool;
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
      const rt = await CollectionRuntime.open(rec, this.items, this.snapshotDir, this.pool !== undefined);
      if (this.closed) return;
      this.runtimes.set(rec.name, rt);
      this.serve(rt);
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
    const rt = CollectionRuntime.create(rec, this.pool !== undefined);
    this.runtimes.set(rec.name, rt);
    this.serve(rt);
    return rec;
  }

  /** Hands a collection to the search pool's workers (its matrix and graph), and tells them of each batch its graph takes in. */
  private serve(rt: CollectionRuntime): void {
    const pool = this.pool;
    if (!pool) return;
    pool.open(rt.record, rt.matrix, rt.index);
    rt.onIndexed = (seqs, index) => pool.indexed(rt.record.name, index, seqs);
  }

  listCollections(): CollectionRecord[] {
    return [...[...this.runtimes.values()].map((r) => r.record), ...this.pendingLoad.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  describe(name: string) {
    const rt = this.runtime(name);
    return describeCollection(rt, this.rows(rt.record.id), this.items.filters.stats(rt.record.id).bytes);
  }

  /** `describe` with what each search worker holds of the collection (waited for briefly: see collection-describe.ts). */
  describeWithWorkers(name: string) {
    return withWorkers(this.describe(name), this.pool);
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
    await this.gate.idle(dropping.record.id); // then in this turn: no ingest batch is granted for it after
    const rt = this.runtime(name);
    this.collections.delete(name);
    this.runtimes.delete(name);
    this.pool?.drop(name);
    this.rowCaches.delete(rt.record.id);
    this.items.filters.drop(rt.record.id);
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
    await this.gate.idle(rt.record.id);
    const current = this.runtime(name); // the collection may have been dropped while we yielded
    if (current !== rt) throw new MrlError('COLLECTION_NOT_FOUND', { collection: name });
    const res = this.items.upsert(rt.record.id, written);
    this.applyCommitted(name, written, res);
    return { upserted: res.added.length };
  }

  /** Validates a batch as `upsert` does (the last id wins; vectors in their stored form), in chunks that yield; writes nothing. */
  async prepare(name: string, items: ItemVector[]): Promise<PreparedItem[]> {
    return prepareItems(this.runtime(name).record, this.rotations, items);
  }

  /** After the store committed `written` (as `res`; `changed`: rows patched in place): the row cache, then index and matrix, then listeners. */
  applyCommitted(name: string, written: PreparedItem[], res: WriteResult, changed: number[] = []): void {
    const rt = this.runtime(name);
    applyCommitted(this.itemOps(rt), name, rt, written, res, changed);
  }

  /** Deletes ids in one transaction; resolves once the caches no longer hold them (at once). */
  async deleteItems(name: string, ids: unknown[]): Promise<{ deleted: number; missing: string[] }> {
    await this.writesSettled(name);
    const rt = this.runtime(name);
    return deleteItems(this.itemOps(rt), rt, ids);
  }

  /**
   * Resolves once no batch of the ingest thread is committed and unapplied for the collection:
   * a write of this thread made in the same turn after it (a patch, new indexed fields) follows
   * every batch before it in every cache.
   */
  async writesSettled(name: string): Promise<void> {
    await this.gate.idle(this.runtime(name).record.id);
  }

  /**
   * What a writer on another connection (the ingest thread, src/ingest/) calls around each batch
   * it commits to the collection: a grant (refused once the collection is dropped or the engine
   * closes) that holds this thread's writes of the collection until the batch is applied here.
   * A grant waits while more than `pendingCap` rows wait for the index (until half of it): every
   * search scans those rows exactly, so an ingest faster than HNSW insertion is held to its pace.
   */
  batchHooks(name: string, opts: { pendingCap?: number; onApplied?: (b: { rows: number }) => void } = {}): BatchHooks {
    const rt = this.runtime(name);
    const id = rt.record.id;
    const cap = opts.pendingCap ?? PENDING_CAP;
    return {
      room: () => (rt.pending.size > cap ? rt.pendingAtMost(Math.floor(cap / 2)) : null),
      grant: () => {
        if (this.closed || this.runtimes.get(name) !== rt) return new MrlError('COLLECTION_NOT_FOUND', { collection: name });
        this.gate.hold(id);
        return null;
      },
      applied: (b) => {
        if (b.removed.length > 0 || b.seqs.length <= APPLY_PART_ROWS) {
          try {
            applyBatch(this.itemOps(rt), name, rt, b);
            opts.onApplied?.({ rows: b.seqs.length });
          } finally {
            this.gate.release(id);
          }
          return;
        }
        return (async () => {
          try {
            const dim = rt.record.dim;
            for (let from = 0; from < b.seqs.length; from += APPLY_PART_ROWS) {
              if (from > 0) await yieldToLoop();
              // Closed or dropped meanwhile: the rest is in SQLite, replayed at the next open.
              if (this.closed || this.runtimes.get(name) !== rt) throw new MrlError('COLLECTION_NOT_FOUND', { collection: name });
              applyBatch(this.itemOps(rt), name, rt, batchPart(b, dim, from, Math.min(b.seqs.length, from + APPLY_PART_ROWS)));
            }
            opts.onApplied?.({ rows: b.seqs.length });
          } finally {
            this.gate.release(id);
          }
        })();
      },
      released: () => this.gate.release(id),
    };
  }

  getItem(name: string, id: unknown) {
    const rt = this.runtime(name);
    return getItem(this.itemOps(rt), name, rt, id);
  }

  /** Changes an item's label, payload and/or text in one transaction (no re-embedding, no index change). */
  patchItem(name: string, id: unknown, patch: ItemPatchInput) {
    const rt = this.runtime(name);
    return patchItem(this.itemOps(rt), name, rt, id, patch);
  }

  private itemOps(rt: CollectionRuntime): ItemOpsDeps {
    const committed = this.pool?.writer(rt.record.name);
    return { items: this.items, rows: this.rows(rt.record.id), rotations: this.rotations, hooks: this.hooks, committed };
  }

  /** Validates a patch as `patchItem` does; writes nothing. */
  preparePatch(name: string, id: unknown, patch: ItemPatchInput): { key: string; p: ItemPatch } {
    return preparePatch(this.runtime(name).record, id, patch);
  }

  /** Sets a collection's indexed payload fields (their SQLite expression indexes are created or dropped). */
  setIndexedFields(name: string, fields: unknown): CollectionRecord {
    const rt = this.runtime(name);
    const rec = this.collections.updateIndexedFields(name, validateIndexedFields(fields));
    rt.record = rec;
    this.pool?.record(rec);
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
    this.pool?.rotationBound();
  }

  /**
   * Funnel search (src/search/) for a vector or a stored item's id (the item itself is left
   * out). Options left out come from the collection's search defaults, then the server's.
   * `using` swaps in another index over the same rows (a sweep's temporary index at other dims):
   * such a search runs in this thread, others on the pool's workers when the engine has a pool.
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
    if (this.pool && !using) {
      const r = await searchOnPool(this.pool, this.hooks, name, rt.record, query, opts, observe);
      return { ...r, ms: performance.now() - t0 };
    }
    const deps = { items: this.items, kernel: this.kernel, rows: this.rows(rt.record.id), rotations: this.rotations, hooks: this.hooks };
    const r = await searchCollection({ ...deps, plan: this.plan.bind(this) }, name, rt, query, opts, using, observe);
    return { ...r, ms: performance.now() - t0 };
  }

  /** The stages a search would run (validates the options). */
  plan(rt: { record: CollectionRecord }, opts: SearchOptions, indexDim = rt.record.indexDim) {
    return planFor(rt.record, this.defaults, opts, indexDim);
  }

  /** Sets tuned search defaults and, when `indexDim` differs, rebuilds the index at those dims (see src/engine/retune.ts). */
  async retune(
    name: string,
    indexDim: number,
    defaults: SearchDefaults,
    prebuilt?: { index: PrefixIndex; matrixVersion: number },
  ): Promise<CollectionRecord> {
    const deps = { collections: this.collections, items: this.items, snapshotDir: this.snapshotDir, plan: this.plan.bind(this) };
    const rec = await retuneCollection(deps, name, this.runtime(name), indexDim, defaults, prebuilt);
    this.pool?.record(rec, this.runtime(name).index); // a new graph: the workers move to it
    return rec;
  }

  /** Exact top-k at `dims` for a vector: seqs and scores (the live recall audit), read a slice at a time between other work. */
  async exact(name: string, vector: Float32Array, dims: number, k: number): Promise<{ seqs: number[]; scores: number[] }> {
    return exactTopSliced(new StageContext({ source: this.runtime(name), vectors: this.items, kernel: this.kernel }, vector), dims, k);
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

  /** Stops loading, waits until every committed row is indexed, snapshots what changed; the context closes the stores (and pool) after. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.drain();
    this.snapshotAll();
  }
}
