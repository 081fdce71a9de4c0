import type { Subscription } from 'nats';
import type { Engine } from '../engine/engine.js';
import { MrlError } from '../errors.js';
import type { ItemStore } from '../store/items.js';
import { decodeOp } from './codec.js';
import type { LocalState } from './local-state.js';
import { streamOf, subjectOf, type Nats } from './nats.js';

type Waiter = { seq: number; resolve: () => void };
/** Longest wait between two looks at the log when no publish woke the applier. */
const IDLE_MS = 1000;
/** Messages asked for at once while catching up (in order of sequence, applied one by one). */
const WINDOW = 16;

const notFound = (err: unknown) => /404|not found/i.test(String((err as { code?: string }).code ?? '') + (err as Error).message);

/**
 * Follows one shard's stream from the sequence after the one this node applied last (kept in
 * SQLite, so it survives a crash): it reads the log by sequence with JetStream direct gets
 * (answered by any replica of the stream, so a NATS server going away costs one retry, and no
 * consumer state can be lost with it), woken by a plain subscription to the shard's subject.
 * Each message is applied to the store together with its sequence (one transaction), then to
 * the caches. A log purged past this replica stops it: it needs a backup.
 */
export class ShardApplier {
  applied: number;
  /** Set when this replica can no longer follow the log (it was purged past it). */
  broken: string | null = null;
  private stopped = false;
  private waiters: Waiter[] = [];
  private loop?: Promise<void>;
  private sub?: Subscription;
  private wake?: () => void;
  private readonly stream: string;

  constructor(
    private readonly n: Nats,
    private readonly engine: Engine,
    private readonly items: ItemStore,
    state: LocalState,
    readonly collection: string,
    readonly shard: number,
    private readonly log: (msg: string, err?: unknown) => void,
  ) {
    this.applied = state.applied(collection, shard);
    this.stream = streamOf(collection, shard);
  }

  start(): void {
    this.sub = this.n.nc.subscribe(subjectOf(this.collection, this.shard), { callback: () => this.wake?.() });
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let window = WINDOW;
    let failures = 0;
    while (!this.stopped && !this.broken) {
      try {
        const got = await this.catchUp(window);
        failures = 0;
        window = got > 0 ? WINDOW : 1;
        if (got > 0) continue;
      } catch (err) {
        if (failures++ % 10 === 0 && !this.stopped)
          this.log(`applier ${this.collection}/${this.shard}: reading the log failed, retrying`, err);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, IDLE_MS);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Reads up to `window` messages after `applied` and applies those that follow on without a gap; returns how many. */
  private async catchUp(window: number): Promise<number> {
    const from = this.applied + 1;
    const got = await Promise.allSettled(
      Array.from({ length: window }, (_, i) => this.n.direct.getMessage(this.stream, { seq: from + i })),
    );
    let n = 0;
    for (const r of got) {
      if (r.status === 'rejected') {
        if (!notFound(r.reason)) throw r.reason;
        if (n === 0) await this.checkPurged(from);
        break;
      }
      if (this.stopped) break;
      await this.applyOne(r.value.seq, r.value.data);
      n++;
    }
    return n;
  }

  /** `from` is missing: not written yet, or purged (the log starts past it). */
  private async checkPurged(from: number): Promise<void> {
    const info = await this.n.jsm.streams.info(this.stream);
    if (info.state.first_seq > from && info.state.messages > 0) {
      this.broken = `the log of shard ${this.shard} starts at ${info.state.first_seq} but this replica applied only ${this.applied}: restore it from a peer's backup (MRL_JOIN_FROM)`;
      this.log(this.broken);
    }
  }

  private async applyOne(seq: number, data: Uint8Array): Promise<void> {
    if (seq !== this.applied + 1) throw new Error(`expected sequence ${this.applied + 1}, got ${seq}`);
    const rt = this.engine.runtime(this.collection);
    const { upserts, deletes, patches } = decodeOp(data);
    const res = this.items.applyLogged(rt.record.id, { collection: this.collection, shard: this.shard, seq }, upserts, deletes, patches);
    if (res)
      this.engine.applyCommitted(
        this.collection,
        upserts.map((u) => ({ ...u, text: u.text ?? null })),
        res,
        res.patchedSeqs,
      );
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
      const w: Waiter = {
        seq,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new MrlError('CONSISTENCY_TIMEOUT', { collection: this.collection, shard: this.shard, seq, ms }));
      }, ms);
      this.waiters.push(w);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sub?.unsubscribe();
    this.wake?.();
    await this.loop?.catch(() => undefined);
  }
}
