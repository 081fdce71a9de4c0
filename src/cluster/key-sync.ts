import { Events, KvWatchInclude, type KV, type KvEntry, type NatsConnection, type QueuedIterator } from 'nats';
import { MrlError } from '../errors.js';
import { BOOTSTRAP_KEY_NAME, type ApiKey, type ApiKeyStore, type SharedKey } from '../store/api-keys.js';
import type { KeyWrites } from './facade.js';
import { kvCreate, retry } from './nats.js';

/**
 * Period of the safety-net resync. Changes arrive through the watch (milliseconds); a full resync
 * also runs on start, on every reconnect and whenever the watch is made again, so this only
 * bounds what a watch could lose without either (none is known).
 */
export const KEYS_RESYNC_MS = 60_000;
/** Pause before following the bucket again after the watch ended. */
const REWATCH_MS = 1000;

const parse = (e: KvEntry) => JSON.parse(Buffer.from(e.value).toString('utf8')) as SharedKey;
const same = (a: SharedKey, b: SharedKey) =>
  a.hash === b.hash && a.role === b.role && JSON.stringify(a.collections) === JSON.stringify(b.collections);

/**
 * API keys shared by every node (KV bucket mrl_keys, key = key name, value = the key's role,
 * scope and SHA-256 hash: never the secret). Each node mirrors the bucket into its own
 * `api_keys` table, which the auth hook reads on every request as on one node: a key created or
 * revoked through any node acts on every other once its watch delivers the change. The
 * `bootstrap` key (MRL_ADMIN_KEY) stays each node's own. A key in a node's table that the bucket
 * never held (made before the node joined, or with `mrl keys create` on its data dir) is added
 * to the bucket; one the bucket holds as deleted is removed from the table.
 */
export class KeyMirror implements KeyWrites {
  private watcher?: QueuedIterator<KvEntry>;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private syncing = false;
  /** A resync was asked for while one ran (which may have read before the event that asked): run once more. */
  private again = false;
  /**
   * Per key name: the lowest bucket revision still to apply. A resync reads each key while the
   * watch applies changes, so its read may be older than a change already applied: it is skipped.
   */
  private readonly since = new Map<string, number>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly store: ApiKeyStore,
    private readonly writeTimeoutMs: number,
    private readonly log: (msg: string, err?: unknown) => void,
  ) {}

  /** Follows the bucket first, so that a change made while the first sync reads arrives through the watch. */
  async start(): Promise<void> {
    await this.watch();
    try {
      await this.sync();
    } catch (err) {
      this.stop();
      throw err;
    }
    void this.resyncOnReconnect();
    this.timer = setInterval(() => this.resync(), KEYS_RESYNC_MS);
  }

  private async watch(): Promise<void> {
    const w = await retry(() => this.kv.watch({ include: KvWatchInclude.UpdatesOnly }), 'cannot follow the API keys');
    if (this.stopped) return w.stop();
    this.watcher = w;
    void this.follow(w);
  }

  /** Applies each change as it arrives; a watch that ended (its consumer could not be made again) is made again, then a resync covers the gap. */
  private async follow(w: QueuedIterator<KvEntry>): Promise<void> {
    try {
      for await (const e of w) this.apply(e);
    } catch (err) {
      this.log('the API key watch ended', err);
    }
    while (!this.stopped && !this.nc.isClosed()) {
      await new Promise((r) => setTimeout(r, REWATCH_MS));
      try {
        await this.watch();
        this.resync();
        return;
      } catch (err) {
        this.log('cannot follow the API keys', err);
      }
    }
  }

  /** A reconnect may follow changes the watch's consumer lost with its server: resync. */
  private async resyncOnReconnect(): Promise<void> {
    for await (const s of this.nc.status()) if (s.type === Events.Reconnect) this.resync();
  }

  private resync(): void {
    if (this.stopped) return;
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = true;
    this.sync()
      .catch((err) => this.log('API key sync failed', err))
      .finally(() => {
        this.syncing = false;
        if (this.again) {
          this.again = false;
          this.resync();
        }
      });
  }

  /** One bucket entry into the table, unless a newer revision of that key is applied already; `mine`: the table's row, when known. */
  private apply(e: KvEntry, mine?: SharedKey): void {
    if (e.key === BOOTSTRAP_KEY_NAME || e.revision < (this.since.get(e.key) ?? 0)) return;
    this.since.set(e.key, e.revision);
    try {
      if (e.operation !== 'PUT') this.store.revoke(e.key);
      else {
        const k = parse(e);
        if (!mine || !same(mine, k)) this.store.put(k);
      }
    } catch (err) {
      this.log(`API key ${e.key}: applying a change failed`, err);
    }
  }

  /** This node wrote revision `rev` of `name` itself: older entries are not applied. */
  private mark(name: string, rev: number): void {
    this.since.set(name, Math.max(rev, this.since.get(name) ?? 0));
  }

  /** The bucket into the table, and the table's keys the bucket never saw into the bucket. */
  private async sync(): Promise<void> {
    const names: string[] = [];
    await retry(async () => {
      names.length = 0;
      for await (const k of await this.kv.keys()) names.push(k);
    }, 'cannot list the API keys');
    const local = new Map(this.store.shared().map((k) => [k.name, k]));
    for (const name of new Set([...names, ...local.keys()])) {
      if (name === BOOTSTRAP_KEY_NAME || this.stopped) continue;
      const e = await retry(() => this.kv.get(name), `cannot read the API key ${name}`); // read now: a change since the listing wins
      const mine = local.get(name);
      if (e) this.apply(e, mine);
      else if (mine)
        await this.kv
          .create(name, JSON.stringify(mine))
          .then((rev) => this.mark(name, rev))
          .catch((err) => this.log(`API key ${name}: sharing it failed`, err));
    }
  }

  /** Stored in the bucket first (KEY_EXISTS if any node has one of that name), then in this node's table. */
  async create(spec: { name: unknown; role: unknown; collections?: unknown }): Promise<{ key: ApiKey; secret: string }> {
    const { shared, secret } = this.store.draft(spec);
    if (shared.name === BOOTSTRAP_KEY_NAME) throw new MrlError('KEY_EXISTS', { name: shared.name });
    const rev = await kvCreate(this.kv, shared.name, JSON.stringify(shared), 'cannot store the API key', this.writeTimeoutMs);
    if (rev === null) throw new MrlError('KEY_EXISTS', { name: shared.name });
    this.mark(shared.name, rev);
    this.store.put(shared);
    const { hash: _h, ...key } = shared;
    return { key: { ...key, lastUsedAt: null }, secret };
  }

  /** Deleted from the bucket (every node's table follows), then here; the bootstrap key is this node's only. */
  async revoke(name: string): Promise<boolean> {
    if (name !== BOOTSTRAP_KEY_NAME) {
      const e = await retry(() => this.kv.get(name), 'cannot read the API key', 10, this.writeTimeoutMs);
      if (e?.operation === 'PUT') {
        await retry(() => this.kv.delete(name), 'cannot revoke the API key', 10, this.writeTimeoutMs);
        this.mark(name, e.revision + 1); // the delete's revision is higher than the entry it deleted
        this.store.revoke(name);
        return true;
      }
    }
    return this.store.revoke(name);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.watcher?.stop();
  }
}
