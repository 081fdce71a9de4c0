import { randomUUID } from 'node:crypto';
import { KvWatchInclude, type KvEntry, type QueuedIterator } from 'nats';
import type { Engine } from '../engine/engine.js';
import { buildCollectionRecord, type CollectionSpec } from '../engine/collection-spec.js';
import { MrlError } from '../errors.js';
import type { ItemStore } from '../store/items.js';
import type { StoredRotation } from '../store/quality.js';
import { ShardApplier } from './applier.js';
import type { LocalState } from './local-state.js';
import { BROKEN } from './registry.js';
import { deleteStream, ensureStream, kvCreate, retry, type Nats } from './nats.js';
import { bindSharedRotation, deleteRotation, storeRotation, type RotationRef } from './rotation-sync.js';
import { serves, shardOf } from './shard.js';
import { applyTuning, sameTuning, tuningOf, type Tuning } from './tuning.js';

/** A collection's cluster-wide metadata (KV bucket mrl_collections, key = name). */
export interface CollectionMeta {
  uid: string;
  spec: CollectionSpec & { name: string; dim: number };
  shards: number;
  replicas: number;
  createdAt: string;
  /** Index dims, search defaults and indexed fields as they are now (absent in entries of older versions: the spec's). */
  tuning?: Tuning;
  /** The rotation bound by `adapt`, fixed at creation. */
  rotation?: RotationRef;
}

const parseMeta = (e: KvEntry) => JSON.parse(Buffer.from(e.value).toString('utf8')) as CollectionMeta;

const RESYNC_MS = 10_000;

export interface CatalogDeps {
  n: Nats;
  engine: Engine;
  items: ItemStore;
  state: LocalState;
  serve: string;
  /** Bound of a metadata write (MRL_WRITE_TIMEOUT_MS). */
  writeTimeoutMs: number;
  log: (msg: string, err?: unknown) => void;
}

/**
 * Keeps the local collections equal to the cluster's metadata: creates those missing (and their
 * shard appliers), drops those dropped (or dropped and created again under the same name), and
 * removes local rows of shards this node no longer serves. Changes run one at a time.
 */
export class Catalog {
  readonly metas = new Map<string, CollectionMeta>();
  readonly appliers = new Map<string, ShardApplier[]>();
  private queue: Promise<unknown> = Promise.resolve();
  private watcher?: QueuedIterator<KvEntry>;
  private resyncTimer?: NodeJS.Timeout;

  constructor(private readonly d: CatalogDeps) {}

  /**
   * Syncs with the bucket (collections created or dropped while this node was down), then
   * follows it; and syncs again every RESYNC_MS, in case the watch lost a change with its server.
   */
  async start(): Promise<void> {
    await this.sync();
    this.watcher = await retry(
      () => this.d.n.collections.watch({ include: KvWatchInclude.UpdatesOnly }),
      'cannot follow the collection metadata',
    );
    void this.follow(this.watcher);
    let syncing = false;
    this.resyncTimer = setInterval(() => {
      if (syncing) return; // the last one still waits for NATS
      syncing = true;
      this.sync()
        .catch((err) => this.d.log('collection metadata sync failed', err))
        .finally(() => (syncing = false));
    }, RESYNC_MS);
  }

  private async sync(): Promise<void> {
    const { collections } = this.d.n;
    const names: string[] = [];
    await retry(async () => {
      names.length = 0;
      for await (const k of await collections.keys()) names.push(k);
    }, 'cannot list collections');
    const seen = new Set<string>();
    for (const name of names) {
      const e = await retry(() => collections.get(name), `cannot read collection ${name}`);
      if (!e || e.operation !== 'PUT') continue;
      seen.add(name);
      const meta = parseMeta(e);
      const known = this.metas.get(name);
      if (known?.uid !== meta.uid || !sameTuning(known.tuning, meta.tuning) || this.untuned(name, meta))
        await this.serial(() => this.ensureLocal(meta));
    }
    for (const name of this.d.state.names()) {
      if (seen.has(name)) continue;
      await this.serial(async () => {
        const e = await collections.get(name); // created since the listing?
        if (!e || e.operation !== 'PUT') await this.dropLocal(name);
      });
    }
  }

  private async follow(w: QueuedIterator<KvEntry>): Promise<void> {
    for await (const e of w) {
      const job = e.operation === 'PUT' ? () => this.ensureLocal(parseMeta(e)) : () => this.dropLocal(e.key);
      await this.serial(job).catch((err) => this.d.log(`collection ${e.key}: metadata change failed`, err));
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  meta(name: string): CollectionMeta {
    const m = this.metas.get(name);
    if (!m) throw new MrlError('COLLECTION_NOT_FOUND', { collection: name });
    return m;
  }

  /**
   * Creates the shards' streams (and stores a rotation), then the metadata entry
   * (COLLECTION_EXISTS if there is one), then the local collection.
   */
  async create(spec: CollectionMeta['spec'], shards: number, replicas: number, rotation?: StoredRotation): Promise<CollectionMeta> {
    const end = Date.now() + this.d.writeTimeoutMs;
    for (let s = 0; s < shards; s++) await ensureStream(this.d.n, spec.name, s, replicas, Math.max(0, end - Date.now()));
    const uid = randomUUID();
    const meta: CollectionMeta = {
      uid,
      spec,
      shards,
      replicas,
      createdAt: new Date().toISOString(),
      tuning: tuningOf(buildCollectionRecord(spec)),
      ...(rotation ? { rotation: await storeRotation(this.d.n, uid, rotation, this.d.writeTimeoutMs) } : {}),
    };
    const left = Math.max(500, end - Date.now());
    const created = await kvCreate(this.d.n.collections, spec.name, JSON.stringify(meta), 'cannot store the collection', left).catch(
      async (err: unknown) => {
        if (meta.rotation) await deleteRotation(this.d.n, meta.rotation);
        throw err;
      },
    );
    if (!created) {
      if (meta.rotation) await deleteRotation(this.d.n, meta.rotation);
      throw new MrlError('COLLECTION_EXISTS', { collection: spec.name });
    }
    await this.serial(() => this.ensureLocal(meta));
    return meta;
  }

  /** Removes the metadata (every node drops its copy), the local collection, then the streams. */
  async drop(name: string): Promise<void> {
    const meta = this.meta(name);
    await retry(() => this.d.n.collections.delete(name), `cannot drop ${name}`, 10, this.d.writeTimeoutMs);
    await this.serial(() => this.dropLocal(name));
    for (let s = 0; s < meta.shards; s++) await deleteStream(this.d.n, name, s);
    if (meta.rotation) await deleteRotation(this.d.n, meta.rotation);
  }

  /**
   * After this node changed a collection's tuning (PATCH of its indexed fields, a sweep's
   * `apply`): the metadata entry takes it (compare-and-set on its revision; the last change
   * wins), and every other node follows. Until it is stored, a resync would undo it here.
   */
  async publishTuning(name: string): Promise<void> {
    const { collections } = this.d.n;
    const t = tuningOf(this.d.engine.runtime(name).record);
    const stored = await retry(
      async () => {
        const e = await collections.get(name);
        if (!e || e.operation !== 'PUT') return null;
        const meta = parseMeta(e);
        if (sameTuning(meta.tuning, t)) return meta;
        const next = { ...meta, tuning: t };
        await collections.update(name, JSON.stringify(next), e.revision);
        return next;
      },
      `cannot store the tuning of ${name}`,
      10,
      this.d.writeTimeoutMs,
    );
    if (!stored) throw new MrlError('COLLECTION_NOT_FOUND', { collection: name });
    if (this.metas.get(name)?.uid === stored.uid) this.metas.set(name, stored);
  }

  /** Whether the local collection's tuning differs from the entry's (a change this node made but could not store). */
  private untuned(name: string, meta: CollectionMeta): boolean {
    return (
      meta.tuning !== undefined && this.d.engine.isLoaded(name) && !sameTuning(tuningOf(this.d.engine.runtime(name).record), meta.tuning)
    );
  }

  private async ensureLocal(meta: CollectionMeta): Promise<void> {
    const { engine, state } = this.d;
    const name = meta.spec.name;
    const local = state.layout(name);
    // another collection of that name, or a drop interrupted between the collection and its identity
    if (local && (local.uid !== meta.uid || !engine.isLoaded(name))) await this.dropLocal(name);
    if (!state.layout(name)) {
      if (engine.isLoaded(name)) await engine.dropCollection(name); // a stale copy without a cluster identity
      engine.createCollection(meta.spec);
      state.setLayout(name, { uid: meta.uid, shards: meta.shards, replicas: meta.replicas });
    }
    // Before this node takes writes (metas) or applies items (appliers): the rotation, then the tuning.
    if (meta.rotation) await bindSharedRotation(this.d.n, engine, name, meta.rotation);
    if (meta.tuning) {
      await applyTuning(engine, name, meta.tuning).catch((err) =>
        this.d.log(`collection ${name}: this node cannot take the cluster's tuning ${JSON.stringify(meta.tuning)}`, err),
      );
    }
    this.metas.set(name, meta);
    if (this.appliers.has(name)) return;
    await this.pruneUnserved(meta);
    const list: ShardApplier[] = [];
    for (let s = 0; s < meta.shards; s++) {
      if (!serves(this.d.serve, name, s)) continue;
      const a = new ShardApplier(this.d.n, engine, this.d.items, state, name, s, this.d.log);
      a.start();
      list.push(a);
    }
    this.appliers.set(name, list);
  }

  /** Rows of shards this node does not serve (a peer's backup, or MRL_SERVE_SHARDS changed) are removed. */
  private async pruneUnserved(meta: CollectionMeta): Promise<void> {
    const name = meta.spec.name;
    const unserved = Array.from({ length: meta.shards }, (_, s) => s).filter(
      (s) => !serves(this.d.serve, name, s) && this.d.state.applied(name, s) > 0,
    );
    if (unserved.length === 0) return;
    const rt = this.d.engine.runtime(name);
    const ids = this.d.items
      .refs(rt.record.id)
      .map((r) => r.id)
      .filter((id) => unserved.includes(shardOf(id, meta.shards)));
    for (let i = 0; i < ids.length; i += 1000) await this.d.engine.deleteItems(name, ids.slice(i, i + 1000));
    for (const s of unserved) this.d.state.forgetShard(name, s);
  }

  private async dropLocal(name: string): Promise<void> {
    await Promise.all((this.appliers.get(name) ?? []).map((a) => a.stop()));
    this.appliers.delete(name);
    this.metas.delete(name);
    if (this.d.engine.isLoaded(name)) await this.d.engine.dropCollection(name);
    this.d.state.forget(name);
  }

  applier(name: string, shard: number): ShardApplier | undefined {
    return this.appliers.get(name)?.find((a) => a.shard === shard);
  }

  /** collection → shard → applied seq, for the registry. */
  appliedMap(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [name, list] of this.appliers)
      out[name] = Object.fromEntries(list.map((a) => [String(a.shard), a.broken ? BROKEN : a.applied]));
    return out;
  }

  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    this.watcher?.stop();
    await this.queue;
    await Promise.all([...this.appliers.values()].flat().map((a) => a.stop()));
  }
}
