import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kernel } from '../compute/kernel.js';
import { planSearch, type SearchOptions } from '../core/funnel.js';
import { MrlError, mrlError } from '../errors.js';
import { removeSnapshotFiles } from '../index/snapshot.js';
import { CollectionStore, type CollectionRecord } from '../store/collections.js';
import { closeDatabase, openDatabase, type Db } from '../store/db.js';
import { ItemStore } from '../store/items.js';
import { validateId, validateLabel, validatePayload, validateVector } from '../core/validate.js';
import { CollectionRuntime } from './collection-runtime.js';
import { buildCollectionRecord, type CollectionSpec } from './collection-spec.js';
import { exactScan, runStages, type StageReport } from './search.js';

export interface ItemInput { id: unknown; vector: unknown; label?: unknown; payload?: unknown }
export interface SearchHit { id: string; score: number; label: string | null; payload: unknown }
export interface SearchResponse { results: SearchHit[]; stages: StageReport[]; ms: number }
export type Query = { vector: unknown } | { id: unknown };

export interface EngineOptions { dataDir: string; kernel: Kernel; defaults?: { k: number; shortlist: number } }

/** Store + caches for every collection; the one object the CLI and HTTP layers call. */
export class Engine {
  private readonly runtimes = new Map<string, CollectionRuntime>();
  private closed = false;
  readonly collections: CollectionStore;
  readonly items: ItemStore;

  private constructor(readonly db: Db, readonly kernel: Kernel, readonly snapshotDir: string, readonly defaults: { k: number; shortlist: number }) {
    this.collections = new CollectionStore(db);
    this.items = new ItemStore(db);
  }

  /** Opens SQLite and loads (or rebuilds) every collection's caches. */
  static open(opts: EngineOptions): Engine {
    mkdirSync(opts.dataDir, { recursive: true });
    const snapshotDir = join(opts.dataDir, 'index');
    mkdirSync(snapshotDir, { recursive: true });
    const db = openDatabase(join(opts.dataDir, 'mrl.sqlite'));
    const engine = new Engine(db, opts.kernel, snapshotDir, opts.defaults ?? { k: 10, shortlist: 200 });
    try {
      for (const rec of engine.collections.list()) {
        engine.runtimes.set(rec.name, CollectionRuntime.open(rec, engine.items, snapshotDir));
      }
    } catch (err) {
      closeDatabase(db);
      throw err;
    }
    return engine;
  }

  runtime(name: string): CollectionRuntime {
    const rt = this.runtimes.get(name);
    if (!rt) throw new MrlError('COLLECTION_NOT_FOUND', { collection: String(name) });
    return rt;
  }

  createCollection(spec: CollectionSpec): CollectionRecord {
    const rec = this.collections.insert(buildCollectionRecord(spec));
    this.runtimes.set(rec.name, CollectionRuntime.create(rec));
    return rec;
  }

  listCollections(): CollectionRecord[] {
    return [...this.runtimes.values()].map((r) => r.record).sort((a, b) => a.name.localeCompare(b.name));
  }

  describe(name: string) {
    const rt = this.runtime(name);
    return {
      ...rt.record,
      count: rt.count,
      index: { state: rt.state, dims: rt.index.dim, elements: rt.index.elementCount, deleted: rt.index.deletedCount, unsnapshotted: rt.dirty, lastOpen: rt.lastOpen ?? null },
      memory: { indexBytes: rt.index.bytes, matrixBytes: rt.matrix.bytes, residentDim: rt.matrix.width },
    };
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
    if (!Array.isArray(inputs)) throw mrlError('VALIDATION', 'items must be an array');
    const byId = new Map<string, { id: string; vector: Float32Array; label: string | null; payload: string | null }>();
    inputs.forEach((it, i) => {
      if (typeof it !== 'object' || it === null) throw mrlError('VALIDATION', `items[${i}] must be an object`);
      const id = validateId(it.id, `items[${i}].id`);
      const vector = validateVector(it.vector, rt.record.dim, name, `items[${i}].vector`);
      byId.delete(id); // the last occurrence of an id wins
      byId.set(id, { id, vector, label: validateLabel(it.label), payload: validatePayload(it.payload) });
    });
    const res = this.items.upsert(rt.record.id, [...byId.values()]);
    rt.apply(res.added, res.removedSeqs);
    return { upserted: res.added.length };
  }

  /** Validates one item as upsert would; returns it unchanged, or throws the coded error. */
  checkItem(name: string, it: ItemInput): ItemInput {
    const rt = this.runtime(name);
    if (typeof it !== 'object' || it === null) throw mrlError('VALIDATION', 'item must be an object');
    validateId(it.id);
    validateVector(it.vector, rt.record.dim, name);
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

  getItem(name: string, id: unknown) {
    const rt = this.runtime(name);
    const item = this.items.getById(rt.record.id, validateId(id));
    if (!item) throw new MrlError('ITEM_NOT_FOUND', { id: String(id), collection: name });
    return { id: item.id, label: item.label, payload: item.payload, vector: Array.from(item.vector) };
  }

  /** Funnel search for a raw vector or a stored item's id (the item itself is left out). */
  async search(name: string, query: Query, opts: SearchOptions = {}): Promise<SearchResponse> {
    const t0 = performance.now();
    const rt = this.runtime(name);
    const { vector, exclude } = this.resolveQuery(rt, query);
    const d = rt.record.searchDefaults;
    const plan = planSearch(
      { dim: rt.record.dim, indexDim: rt.record.indexDim, rerankDim: d.rerank ?? rt.record.rerankDim, defaults: { k: d.k ?? this.defaults.k, shortlist: d.shortlist ?? this.defaults.shortlist } },
      opts,
    );
    const ranked = await runStages(rt, this.items, this.kernel, vector, plan.stages, exclude);
    const results: SearchHit[] = [];
    for (let i = 0; i < ranked.seqs.length && results.length < plan.k; i++) {
      const item = this.items.getBySeq(ranked.seqs[i]);
      if (item) results.push({ id: item.id, score: ranked.scores[i], label: item.label, payload: item.payload });
    }
    return { results, stages: ranked.stages, ms: performance.now() - t0 };
  }

  /** Exact top-k at `dims` for a vector: seqs and scores (used by evaluation and benchmarks). */
  async exact(name: string, vector: Float32Array, dims: number, k: number): Promise<{ seqs: number[]; scores: number[] }> {
    const rt = this.runtime(name);
    return exactScan(rt, this.items, this.kernel, vector, dims, k);
  }

  private resolveQuery(rt: CollectionRuntime, q: Query): { vector: Float32Array; exclude?: number } {
    if (typeof q !== 'object' || q === null) throw mrlError('INVALID_SEARCH', 'a query needs a vector or an id');
    if ('vector' in q && q.vector !== undefined) {
      if ('id' in q && q.id !== undefined) throw mrlError('INVALID_SEARCH', 'give either a vector or an id, not both');
      return { vector: validateVector(q.vector, rt.record.dim, rt.record.name, 'query vector') };
    }
    if ('id' in q && q.id !== undefined) {
      const item = this.items.getById(rt.record.id, validateId(q.id));
      if (!item) throw new MrlError('ITEM_NOT_FOUND', { id: String(q.id), collection: rt.record.name });
      return { vector: item.vector, exclude: item.seq };
    }
    throw mrlError('INVALID_SEARCH', 'a query needs a vector or an id');
  }

  /** Writes a snapshot of every collection that changed since its last one. */
  snapshotAll(): number {
    let n = 0;
    for (const rt of this.runtimes.values()) if (rt.snapshot(this.snapshotDir)) n++;
    return n;
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

