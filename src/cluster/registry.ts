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
  /** When this node last stored its heartbeat; long ago: the registry cannot be written (no NATS quorum). */
  private beatAt = Date.now();
  private ticking = false;

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

  private async watch(attempts = 30): Promise<void> {
    this.heardAt = Date.now();
    this.watcher = await retry(() => this.kv.watch(), 'cannot follow the node registry', attempts);
    void this.follow(this.watcher);
  }

  /**
   * Heartbeat; and a watch that has delivered nothing for 3 periods (its consumer was on a NATS
   * server that went away) is replaced, or every peer would soon look dead.
   */
  private async tick(): Promise<void> {
    if (this.ticking) return; // the last one still waits for NATS
    this.ticking = true;
    try {
      if (Date.now() - this.heardAt > this.staleMs()) {
        this.watcher?.stop();
        await this.watch(5);
      }
      await this.beat(true);
    } finally {
      this.ticking = false;
    }
  }

  private staleMs(): number {
    return 3 * this.heartbeatMs + 500;
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
    this.beatAt = Date.now();
  }

  /**
   * Live: marked live and a heartbeat within three periods. While this node cannot store its
   * own heartbeat (NATS has no quorum) or does not hear it back (its watch went quiet with its
   * NATS server), its view is what is stale, not the peers: it stays as it was, peers marked
   * live stay candidates, and a scatter-gather skips one that does not answer in time.
   */
  isLive(n: NodeInfo): boolean {
    if (n.id === this.self.id) return true;
    const now = Date.now();
    const stale = this.staleMs();
    return n.live && (now - n.at < stale || now - this.beatAt > stale || now - this.heardAt > stale);
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
