import type { KV, KvEntry, QueuedIterator } from 'nats';
import { retry, type Nats } from './nats.js';
import { serves } from './shard.js';

/** A node as it registers itself: where to reach it, what it serves, how far it applied (collection → shard → seq). */
/** The applied sequence a node reports for a shard it cannot follow (the log was purged past it). */
export const BROKEN = -1;

export interface NodeInfo {
  id: string;
  url: string;
  serve: string;
  applied: Record<string, Record<string, number>>;
  at: number;
  live: boolean;
}

/**
 * The node registry (KV bucket mrl_nodes): each node puts its entry every heartbeat and watches
 * everyone's. A node is live while its last heartbeat is recent; a stopped node keeps its entry
 * (marked not live) so the log keeps what it has not applied yet.
 */
export class Registry {
  private readonly nodes = new Map<string, NodeInfo>();
  private timer?: NodeJS.Timeout;
  private watcher?: QueuedIterator<KvEntry>;
  /** When the watch last delivered an entry: this node's own heartbeat comes back through it every period. */
  private heardAt = Date.now();

  constructor(
    private readonly kv: KV,
    private readonly self: Omit<NodeInfo, 'applied' | 'at' | 'live'>,
    private readonly heartbeatMs: number,
    private readonly applied: () => NodeInfo['applied'],
  ) {}

  static async start(
    n: Nats,
    self: Omit<NodeInfo, 'applied' | 'at' | 'live'>,
    heartbeatMs: number,
    applied: () => NodeInfo['applied'],
  ): Promise<Registry> {
    const r = new Registry(n.nodes, self, heartbeatMs, applied);
    await retry(() => r.beat(true), 'cannot register this node');
    await r.watch();
    r.timer = setInterval(() => void r.tick().catch(() => undefined), heartbeatMs);
    return r;
  }

  private async watch(): Promise<void> {
    this.heardAt = Date.now();
    this.watcher = await retry(() => this.kv.watch(), 'cannot follow the node registry');
    void this.follow(this.watcher);
  }

  /**
   * Heartbeat; and a watch that has delivered nothing for 3 periods (its consumer was on a NATS
   * server that went away) is replaced, or every peer would soon look dead.
   */
  private async tick(): Promise<void> {
    if (Date.now() - this.heardAt > 3 * this.heartbeatMs + 500) {
      this.watcher?.stop();
      await this.watch();
    }
    await this.beat(true);
  }

  private async follow(w: QueuedIterator<KvEntry>): Promise<void> {
    for await (const e of w) {
      this.heardAt = Date.now();
      if (e.operation !== 'PUT') this.nodes.delete(e.key);
      else this.nodes.set(e.key, JSON.parse(Buffer.from(e.value).toString('utf8')) as NodeInfo);
    }
  }

  private async beat(live: boolean): Promise<void> {
    const info: NodeInfo = { ...this.self, applied: this.applied(), at: Date.now(), live };
    this.nodes.set(info.id, info);
    await this.kv.put(info.id, JSON.stringify(info));
  }

  /** Live: marked live and a heartbeat within three periods. */
  isLive(n: NodeInfo): boolean {
    return n.id === this.self.id || (n.live && Date.now() - n.at < 3 * this.heartbeatMs + 500);
  }

  all(): NodeInfo[] {
    return [...this.nodes.values()];
  }

  /** Other live nodes serving a shard of a collection, but those that reported it broken. */
  replicas(collection: string, shard: number): NodeInfo[] {
    return this.all().filter(
      (n) =>
        n.id !== this.self.id && this.isLive(n) && serves(n.serve, collection, shard) && n.applied[collection]?.[String(shard)] !== BROKEN,
    );
  }

  /** Stops the heartbeat and marks this node not live (its entry stays: it holds the log for this node). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.watcher?.stop();
    await this.beat(false).catch(() => undefined);
  }
}
