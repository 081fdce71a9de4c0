import type { ClusterConfig } from '../config.js';
import type { AppContext } from '../context.js';
import { MrlError, mrlError } from '../errors.js';
import { ClusterAdaptTarget } from './adapt-target.js';
import { Catalog } from './catalog.js';
import { compactOnce } from './compactor.js';
import type { KeyWrites, Reads, Writes } from './facade.js';
import { KeyMirror } from './key-sync.js';
import { LocalState } from './local-state.js';
import { openNats, type Nats } from './nats.js';
import { Publisher } from './publisher.js';
import { Registry } from './registry.js';
import { Scatter } from './scatter.js';

type Log = { info(o: object, m?: string): void; warn(o: object, m?: string): void };

/**
 * One node of a cluster: the NATS connection, the collections' metadata and shard appliers, the
 * node registry, and the write/read facades the routes call (set on the context once started;
 * until then cluster routes answer 503, so nothing is written beside the log).
 */
export class Cluster {
  private started = false;
  private n?: Nats;
  private catalog?: Catalog;
  private registry?: Registry;
  private scatter?: Scatter;
  private keys?: KeyMirror;
  private compactTimer?: NodeJS.Timeout;
  readonly joined: { items: number } | null;

  constructor(
    readonly ctx: AppContext,
    readonly config: ClusterConfig,
    private readonly log: Log,
    joined: { items: number } | null = null,
  ) {
    this.joined = joined;
    const notYet = () => Promise.reject(mrlError('CLUSTER_UNAVAILABLE', 'this node is still joining the cluster'));
    ctx.writes = {
      createCollection: notYet,
      dropCollection: notYet,
      upsert: notYet,
      deleteItem: notYet,
      patchItem: notYet,
      setIndexedFields: notYet,
      tuned: notYet,
    } satisfies Writes;
    ctx.keyWrites = { create: notYet, revoke: notYet } satisfies KeyWrites;
    ctx.reads = { search: notYet, getItem: notYet, layout: () => undefined } satisfies Reads;
  }

  get reads(): Scatter {
    if (!this.scatter) throw mrlError('CLUSTER_UNAVAILABLE', 'this node is still joining the cluster');
    return this.scatter;
  }

  /** Connects, syncs the collections (creating appliers for the served shards), registers, then takes requests. */
  async start(): Promise<void> {
    const c = this.config;
    const n = (this.n = await openNats(c.natsServers, c.nodeId));
    const logErr = (msg: string, err?: unknown) => this.log.warn({ err: err instanceof Error ? err.message : err }, msg);
    const catalog = (this.catalog = new Catalog({
      n,
      engine: this.ctx.engine,
      items: this.ctx.data.items,
      state: new LocalState(this.ctx.data.db),
      serve: c.serveShards,
      writeTimeoutMs: c.writeTimeoutMs,
      log: logErr,
    }));
    await catalog.start();
    const keys = (this.keys = new KeyMirror(n.nc, n.keys, this.ctx.keys, c.writeTimeoutMs, logErr));
    await keys.start();
    const registry = (this.registry = await Registry.start(n, { id: c.nodeId, url: c.nodeUrl, serve: c.serveShards }, c.heartbeatMs, () =>
      catalog.appliedMap(),
    ));
    this.scatter = new Scatter(this.ctx, catalog, registry, c);
    const publisher = new Publisher(this.ctx, n, catalog, c.nodeId, c.consistencyTimeoutMs, c.writeTimeoutMs);
    this.ctx.writes = publisher;
    this.ctx.reads = this.scatter;
    this.ctx.keyWrites = keys;
    this.ctx.data.quality.adaptTarget = new ClusterAdaptTarget(this.ctx, catalog, registry, publisher, c);
    if (c.compactMs > 0) {
      this.compactTimer = setInterval(
        () => void compactOnce(n, catalog, registry).catch((err) => logErr('log compaction failed', err)),
        c.compactMs,
      );
    }
    this.started = true;
    this.log.info({ node: c.nodeId, serve: c.serveShards, collections: catalog.metas.size }, 'joined the cluster');
  }

  /** This node's view: its shards' applied sequences (and any it cannot follow), the registry. */
  status() {
    if (!this.catalog || !this.registry) return { node: this.config.nodeId, started: false };
    const shards = [...this.catalog.appliers.values()]
      .flat()
      .map((a) => ({ collection: a.collection, shard: a.shard, applied: a.applied, broken: a.broken }));
    const nodes = this.registry
      .all()
      .map((x) => ({ id: x.id, url: x.url, serve: x.serve, live: this.registry!.isLive(x), applied: x.applied }));
    return { node: this.config.nodeId, started: this.started, joined: this.joined, shards, nodes };
  }

  /** Runs one compaction now (tests and operators); the timer does the same every MRL_CLUSTER_COMPACT_MS. */
  compact(): Promise<number> {
    if (!this.n || !this.catalog || !this.registry) return Promise.reject(new MrlError('CLUSTER_UNAVAILABLE', { detail: 'not started' }));
    return compactOnce(this.n, this.catalog, this.registry);
  }

  /** Stops applying, marks this node not live in the registry, then closes the connection. Safe twice. */
  async stop(): Promise<void> {
    clearInterval(this.compactTimer);
    const n = this.n;
    this.n = undefined;
    if (!n) return;
    this.keys?.stop();
    await this.catalog?.stop();
    await this.registry?.stop();
    await n.nc.drain().catch(() => n.nc.close());
  }
}
