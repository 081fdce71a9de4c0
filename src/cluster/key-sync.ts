import { KvWatchInclude, type KV, type KvEntry, type QueuedIterator } from 'nats';
import { MrlError } from '../errors.js';
import { BOOTSTRAP_KEY_NAME, type ApiKey, type ApiKeyStore, type SharedKey } from '../store/api-keys.js';
import type { KeyWrites } from './facade.js';
import { kvCreate, retry } from './nats.js';

/** Longest a change can take to reach a node whose watch lost it (its NATS server went away): the full resync period. */
export const KEYS_RESYNC_MS = 5000;

const parse = (e: KvEntry) => JSON.parse(Buffer.from(e.value).toString('utf8')) as SharedKey;

/**
 * API keys shared by every node (KV bucket mrl_keys, key = key name, value = the key's role,
 * scope and SHA-256 hash: never the secret). Each node mirrors the bucket into its own
 * `api_keys` table, which the auth hook reads on every request as on one node: a key created or
 * revoked through any node acts on every other once its watch delivers the change (milliseconds),
 * at the latest after the next resync (KEYS_RESYNC_MS). The `bootstrap` key (MRL_ADMIN_KEY) stays
 * each node's own. A key in a node's table that the bucket never held (made before the node
 * joined, or with `mrl keys create` on its data dir) is added to the bucket; one the bucket
 * holds as deleted is removed from the table.
 */
export class KeyMirror implements KeyWrites {
  private watcher?: QueuedIterator<KvEntry>;
  private timer?: NodeJS.Timeout;
  private syncing = false;

  constructor(
    private readonly kv: KV,
    private readonly store: ApiKeyStore,
    private readonly writeTimeoutMs: number,
    private readonly log: (msg: string, err?: unknown) => void,
  ) {}

  async start(): Promise<void> {
    await this.sync();
    this.watcher = await retry(() => this.kv.watch({ include: KvWatchInclude.UpdatesOnly }), 'cannot follow the API keys');
    void this.follow(this.watcher);
    this.timer = setInterval(() => {
      if (this.syncing) return; // the last one still waits for NATS
      this.syncing = true;
      this.sync()
        .catch((err) => this.log('API key sync failed', err))
        .finally(() => (this.syncing = false));
    }, KEYS_RESYNC_MS);
  }

  private async follow(w: QueuedIterator<KvEntry>): Promise<void> {
    for await (const e of w) {
      if (e.key === BOOTSTRAP_KEY_NAME) continue;
      try {
        if (e.operation === 'PUT') this.store.put(parse(e));
        else this.store.revoke(e.key);
      } catch (err) {
        this.log(`API key ${e.key}: applying a change failed`, err);
      }
    }
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
      if (name === BOOTSTRAP_KEY_NAME) continue;
      const e = await this.kv.get(name); // read now: a change since the listing wins
      if (e?.operation === 'PUT') {
        const k = parse(e);
        const mine = local.get(name);
        if (!mine || mine.hash !== k.hash || mine.role !== k.role || JSON.stringify(mine.collections) !== JSON.stringify(k.collections))
          this.store.put(k);
      } else if (e) this.store.revoke(name);
      else {
        const mine = local.get(name);
        if (mine) await this.kv.create(name, JSON.stringify(mine)).catch((err) => this.log(`API key ${name}: sharing it failed`, err));
      }
    }
  }

  /** Stored in the bucket first (KEY_EXISTS if any node has one of that name), then in this node's table. */
  async create(spec: { name: unknown; role: unknown; collections?: unknown }): Promise<{ key: ApiKey; secret: string }> {
    const { shared, secret } = this.store.draft(spec);
    if (shared.name === BOOTSTRAP_KEY_NAME) throw new MrlError('KEY_EXISTS', { name: shared.name });
    const created = await kvCreate(this.kv, shared.name, JSON.stringify(shared), 'cannot store the API key', this.writeTimeoutMs);
    if (!created) throw new MrlError('KEY_EXISTS', { name: shared.name });
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
        this.store.revoke(name);
        return true;
      }
    }
    return this.store.revoke(name);
  }

  stop(): void {
    clearInterval(this.timer);
    this.watcher?.stop();
  }
}
