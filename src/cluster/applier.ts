import { ConsumerEvents, DeliverPolicy, type ConsumerMessages } from 'nats';
import type { Engine } from '../engine/engine.js';
import { MrlError } from '../errors.js';
import type { ItemStore } from '../store/items.js';
import { decodeOp } from './codec.js';
import type { LocalState } from './local-state.js';
import { streamOf, type Nats } from './nats.js';

type Waiter = { seq: number; resolve: () => void };
const RESTART_MS = 500;
/** How often a replica that applied nothing checks whether its shard's log moved on without it. */
const STALL_CHECK_MS = 3000;

/**
 * Follows one shard's stream from the sequence after the one this node applied last (kept in
 * SQLite, so it survives a crash) with an ordered consumer, and applies each message to the
 * store together with its sequence (one transaction), then to the caches. A gap in the sequence
 * means the log was purged past this replica: it stops and says it needs a backup.
 */
export class ShardApplier {
  applied: number;
  /** Set when this replica can no longer follow the log (it was purged past it). */
  broken: string | null = null;
  private stopped = false;
  private messages?: ConsumerMessages;
  private waiters: Waiter[] = [];
  private loop?: Promise<void>;
  private stallTimer?: NodeJS.Timeout;
  private checkedAt = 0;

  constructor(private readonly n: Nats, private readonly engine: Engine, private readonly items: ItemStore, state: LocalState, readonly collection: string, readonly shard: number, private readonly log: (msg: string, err?: unknown) => void) {
    this.applied = state.applied(collection, shard);
  }

  start(): void {
    this.loop = this.run();
    this.stallTimer = setInterval(() => void this.checkStalled().catch(() => undefined), STALL_CHECK_MS);
    this.stallTimer.unref();
  }

  /** A stalled consumer (the log has messages past `applied` and none arrived for a period) is replaced. */
  private async checkStalled(): Promise<void> {
    const at = this.applied;
    if (this.checkedAt !== at) {
      this.checkedAt = at;
      return;
    }
    const info = await this.n.jsm.streams.info(streamOf(this.collection, this.shard));
    if (info.state.last_seq > at && this.applied === at && this.messages) {
      this.log(`applier ${this.collection}/${this.shard}: stalled at ${at} (log at ${info.state.last_seq}), starting another consumer`);
      await this.messages.close();
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped && !this.broken) {
      try {
        const c = await this.n.js.consumers.get(streamOf(this.collection, this.shard), { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.applied + 1 });
        // A short pull expiry: heartbeats then reveal within seconds a consumer lost with its NATS server (it is recreated).
        this.messages = await c.consume({ max_messages: 256, expires: 2000 });
        void this.watchdog(this.messages);
        for await (const m of this.messages) {
          if (this.stopped) break;
          await this.applyOne(m.info.streamSequence, m.data);
          if (this.broken) break;
        }
      } catch (err) {
        if (!this.stopped) this.log(`applier ${this.collection}/${this.shard} restarts`, err);
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, RESTART_MS));
    }
  }

  /**
   * The client's own reset of an ordered consumer whose server went away does not always
   * recover (seen with nats-server 2.9): after two missed heartbeats the iterator is closed
   * and the loop above starts a fresh consumer from the applied sequence.
   */
  private async watchdog(msgs: ConsumerMessages): Promise<void> {
    try {
      for await (const st of await msgs.status()) {
        if (st.type === ConsumerEvents.HeartbeatsMissed && Number(st.data) >= 2) {
          this.log(`applier ${this.collection}/${this.shard}: consumer lost (missed heartbeats), starting another at ${this.applied + 1}`);
          await msgs.close();
          return;
        }
      }
    } catch {
      // closed
    }
  }

  private async applyOne(seq: number, data: Uint8Array): Promise<void> {
    if (seq <= this.applied) return; // redelivered
    if (seq !== this.applied + 1) {
      this.broken = `the log of shard ${this.shard} starts at ${seq} but this replica applied only ${this.applied}: restore it from a peer's backup (MRL_JOIN_FROM)`;
      this.log(this.broken);
      return;
    }
    const rt = this.engine.runtime(this.collection);
    const { upserts, deletes } = decodeOp(data);
    const res = this.items.applyLogged(rt.record.id, { collection: this.collection, shard: this.shard, seq }, upserts, deletes);
    if (res) await rt.apply(res.added, res.removedSeqs);
    this.applied = seq;
    if (this.waiters.length) {
      const ready = this.waiters.filter((w) => w.seq <= seq);
      this.waiters = this.waiters.filter((w) => w.seq > seq);
      for (const w of ready) w.resolve();
    }
  }

  /** Resolves once `seq` is applied (store and caches); throws CONSISTENCY_TIMEOUT after `ms`. */
  async waitFor(seq: number, ms: number): Promise<void> {
    if (this.applied >= seq) return;
    await new Promise<void>((resolve, reject) => {
      const w: Waiter = { seq, resolve: () => { clearTimeout(t); resolve(); } };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new MrlError('CONSISTENCY_TIMEOUT', { collection: this.collection, shard: this.shard, seq, ms }));
      }, ms);
      this.waiters.push(w);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.stallTimer);
    try {
      await this.messages?.close();
    } catch {
      // the connection may be gone already
    }
    await this.loop?.catch(() => undefined);
  }
}
