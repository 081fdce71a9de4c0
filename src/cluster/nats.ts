import {
  connect,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type NatsConnection,
  type ObjectStore,
} from 'nats';
import { mrlError } from '../errors.js';

/**
 * The JetStream objects of a cluster: one stream per shard of each collection, three KV buckets
 * (nodes, collections, API keys) and an object store for the rotations bound by `adapt`.
 */
export const NODES_BUCKET = 'mrl_nodes';
export const COLLECTIONS_BUCKET = 'mrl_collections';
export const KEYS_BUCKET = 'mrl_keys';
export const ROTATIONS_BUCKET = 'mrl_rotations';
export const subjectOf = (collection: string, shard: number) => `mrl.${collection}.${shard}`;
export const streamOf = (collection: string, shard: number) => `MRL_${collection}_${shard}`;
/** Publishes with the same message id within this window are stored once (JetStream de-duplication). */
const DEDUP_WINDOW_NS = 120 * 1e9;

/** JetStream direct get (nats-server 2.9+): a stored message by sequence, from any replica of its stream. */
export interface DirectGet {
  getMessage(stream: string, query: { seq: number }): Promise<{ seq: number; data: Uint8Array }>;
}

export interface Nats {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  direct: DirectGet;
  nodes: KV;
  collections: KV;
  keys: KV;
  rotations: ObjectStore;
  replicas: number;
}

/**
 * Connects (reconnecting forever across the listed servers), waits for JetStream to have a
 * leader, and opens the KV buckets at min(3, servers) replicas.
 */
export async function openNats(servers: string[], name: string): Promise<Nats> {
  const nc = await connect({ servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 250, pingInterval: 2000 });
  try {
    const jsm = await retry(() => nc.jetstreamManager(), 'JetStream is not available');
    const js = nc.jetstream();
    const replicas = Math.min(3, servers.length);
    const nodes = await retry(() => js.views.kv(NODES_BUCKET, { replicas, history: 1 }), 'cannot open the node registry');
    const collections = await retry(() => js.views.kv(COLLECTIONS_BUCKET, { replicas, history: 1 }), 'cannot open the collection metadata');
    const keys = await retry(() => js.views.kv(KEYS_BUCKET, { replicas, history: 1 }), 'cannot open the API keys');
    const rotations = await retry(() => js.views.os(ROTATIONS_BUCKET, { replicas }), 'cannot open the rotations');
    // The manager's direct-get API (messages by sequence from any replica) is not in its declared type.
    const direct = (jsm as JetStreamManager & { direct: DirectGet }).direct;
    return { nc, js, jsm, direct, nodes, collections, keys, rotations, replicas };
  } catch (err) {
    await nc.close();
    throw err;
  }
}

/** Creates a shard's stream (file storage, R replicas, de-duplication window); an existing one is kept. */
export async function ensureStream(n: Nats, collection: string, shard: number, replicas: number, deadlineMs = Infinity): Promise<void> {
  const name = streamOf(collection, shard);
  await retry(
    async () => {
      try {
        await n.jsm.streams.info(name);
      } catch {
        await n.jsm.streams.add({
          name,
          subjects: [subjectOf(collection, shard)],
          num_replicas: replicas,
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.Old,
          duplicate_window: DEDUP_WINDOW_NS,
          // appliers read the log by sequence from any replica (nats-server 2.9+)
          allow_direct: true,
        });
      }
    },
    `cannot create stream ${name}`,
    30,
    deadlineMs,
  );
}

export async function deleteStream(n: Nats, collection: string, shard: number): Promise<void> {
  try {
    await n.jsm.streams.delete(streamOf(collection, shard));
  } catch {
    // already gone
  }
}

/**
 * Retries a JetStream call through leader elections and reconnects (about 15 s), then 503;
 * with `deadlineMs`, every attempt is cut at that many ms from the start (a write's bound: its
 * outcome is then unknown to the caller, as with any timed-out request, and retrying is safe).
 */
export async function retry<T>(fn: () => Promise<T>, what: string, attempts = 30, deadlineMs = Infinity): Promise<T> {
  let last: unknown;
  const end = Date.now() + deadlineMs;
  for (let i = 0; i < attempts && Date.now() < end; i++) {
    try {
      return await (Number.isFinite(deadlineMs) ? within(fn(), end - Date.now()) : fn());
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * (i + 1), Math.max(0, end - Date.now()))));
    }
  }
  throw mrlError(
    'CLUSTER_UNAVAILABLE',
    `${what}: ${last === undefined ? 'timed out' : last instanceof Error ? last.message : JSON.stringify(last)}`,
  );
}

/** Creates a KV key within the write bound: its revision, or null when the key exists (a compare-and-set on "no entry"). */
export function kvCreate(kv: KV, key: string, value: string, what: string, deadlineMs: number): Promise<number | null> {
  return retry(
    async () => {
      try {
        return await kv.create(key, value);
      } catch (err) {
        if (/wrong last sequence|exists/i.test((err as Error).message)) return null;
        throw err;
      }
    },
    what,
    10,
    deadlineMs,
  );
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error('TIMEOUT')), Math.max(0, ms))));
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
