import { join, resolve } from 'node:path';
import { projectRoot } from './paths.js';
import { availableParallelism, cpus } from 'node:os';
import { MAX_K, MAX_SHORTLIST } from './search/options.js';

/** The only reader of process.env: raw strings in, a frozen, validated Config out. */
export interface Config {
  dataDir: string;
  kernel: 'auto' | 'onnx' | 'js' | 'gpu';
  threads: number;
  /** Search worker threads (src/engine/pool/): one per core by default; 0 = searches on the HTTP thread. The GPU kernel keeps them there. */
  searchThreads: number;
  /** NDJSON and file ingest parsed, validated and committed on a thread of their own (src/ingest/); false: on the HTTP thread. */
  ingestThread: boolean;
  /** The ingest thread's nice value (0..19; Linux gives each thread its own): above 0 searches take the cores first. */
  ingestNice: number;
  /** Nice value of the thread-pool threads while they insert into HNSW (MRL_INDEX_NICE). */
  indexNice: number;
  /** Vector kernel batching window (compute/gpu/batch-window.ts): µs to collect concurrent calls (0 = off), most queries per launch. */
  batch: { windowUs: number; max: number };
  defaults: { k: number; shortlist: number };
  /** Model directories (models/<name>/manifest.json). */
  modelsDir: string;
  /** The encoder the `default` collection is bound to when a new data dir is created ('' for none). */
  defaultEncoder: string;
  tfBackend: 'tensorflow' | 'wasm' | 'cpu';
  /** Encoders (src/encoders/registry.ts): backend, onnxruntime threads, micro-batching of concurrent embeds, query-embedding cache entries. */
  embed: { backend: 'auto' | 'onnx' | 'tfjs'; threads: number; batchWindowUs: number; batchMax: number; cacheSize: number };
  /** Share of searches the quality guard re-runs exactly at full D in idle time (0 = none, 1 = all). */
  auditRate: number;
  http: {
    port: number;
    host: string;
    logLevel: string;
    bodyLimit: number;
    ingestBodyLimit: number;
    maxBatch: number;
    ndjsonBatch: number;
    maxK: number;
    maxShortlist: number;
    maxEmbedBatch: number;
  };
  /** Access control (src/http/auth.ts): on when a key exists or mode is 'required'; 'off' disables it. */
  auth: { mode: 'auto' | 'required' | 'off'; adminKey: string; metricsPublic: boolean };
  /** Abuse limits (src/http/limits.ts). rateLimit null: off on loopback with no keys, 6000 otherwise; 0: off. */
  limits: {
    rateLimit: number | null;
    rateLimitExpensive: number;
    maxIngestStreams: number;
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
  };
  /** Cluster mode (src/cluster/, docs/cluster.md), set when MRL_NATS_URL is; null: one node, as always. */
  cluster: ClusterConfig | null;
}

export interface ClusterConfig {
  /** NATS servers (MRL_NATS_URL, comma-separated). */
  natsServers: string[];
  nodeId: string;
  /** Where other nodes reach this node's HTTP API (MRL_NODE_URL). */
  nodeUrl: string;
  /** Which shards this node serves (MRL_SERVE_SHARDS): 'all', '0,2' (of every collection) or 'docs:0,1;logs:2'. */
  serveShards: string;
  /** Shared secret of node-to-node requests (MRL_CLUSTER_KEY, header x-mrl-cluster-key). */
  key: string;
  /** A peer's URL to copy the database from when this data dir is new (MRL_JOIN_FROM). */
  joinFrom: string;
  /** Per replica request timeout of a scatter-gather; default bound of `consistency.after` and `wait`. */
  requestTimeoutMs: number;
  consistencyTimeoutMs: number;
  heartbeatMs: number;
  /** Bound of a write's wait for the log (MRL_WRITE_TIMEOUT_MS): past it the write fails with 503 CLUSTER_UNAVAILABLE. */
  writeTimeoutMs: number;
  /** How often the log is purged up to what every registered replica has applied (0 = never). */
  compactMs: number;
}

export class ConfigError extends Error {}

/** What a caller may set over the environment: any field, nested groups field by field. */
export type ConfigOverrides = { [K in keyof Config]?: Config[K] extends object ? Partial<Config[K]> : Config[K] };

// Step 1 reads the environment as it is (a number must parse as one); step 2 checks the merged
// result, so that overrides pass the same checks as environment variables.

function int(env: NodeJS.ProcessEnv, key: string, dflt: number, what = 'an integer'): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (Number.isNaN(v)) throw new ConfigError(`${key} must be ${what} (got '${raw}')`);
  return v;
}

/** A number that need not be an integer (its range is checked with the rest). */
const num = (env: NodeJS.ProcessEnv, key: string, dflt: number) => int(env, key, dflt, 'a number');

function str<T extends string>(env: NodeJS.ProcessEnv, key: string, dflt: T): T {
  const raw = env[key];
  return raw === undefined || raw === '' ? dflt : (raw as T);
}

function bool(env: NodeJS.ProcessEnv, key: string, dflt = false): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  if (raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${key} must be true or false (got '${raw}')`);
}

function ranged(env: NodeJS.ProcessEnv, key: string, dflt: number, lo: number, hi: number): number {
  const v = int(env, key, dflt);
  if (!Number.isInteger(v) || v < lo || v > hi) throw new ConfigError(`${key} must be an integer in ${lo}..${hi} (got '${v}')`);
  return v;
}

function readCluster(env: NodeJS.ProcessEnv, port: number, host: string): ClusterConfig | null {
  const servers = (env.MRL_NATS_URL ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (servers.length === 0) return null;
  const nodeId = env.MRL_NODE_ID || `node-${port}`;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(nodeId)) throw new ConfigError(`MRL_NODE_ID must be 1-64 letters, digits, _ or - (got '${nodeId}')`);
  const key = env.MRL_CLUSTER_KEY ?? '';
  if (key.length < 16)
    throw new ConfigError('MRL_CLUSTER_KEY (at least 16 characters) is required with MRL_NATS_URL: nodes authenticate each other with it');
  const serveShards = env.MRL_SERVE_SHARDS || 'all';
  if (!/^(all|[\w-]+:\d+(,\d+)*(;[\w-]+:\d+(,\d+)*)*|\d+(,\d+)*)$/.test(serveShards)) {
    throw new ConfigError(`MRL_SERVE_SHARDS must be 'all', '0,2' or 'coll:0,1;other:2' (got '${serveShards}')`);
  }
  return {
    natsServers: servers,
    nodeId,
    key,
    serveShards,
    nodeUrl: (env.MRL_NODE_URL || `http://${host}:${port}`).replace(/\/+$/, ''),
    joinFrom: (env.MRL_JOIN_FROM ?? '').replace(/\/+$/, ''),
    requestTimeoutMs: ranged(env, 'MRL_CLUSTER_TIMEOUT_MS', 2000, 10, 600_000),
    consistencyTimeoutMs: ranged(env, 'MRL_CONSISTENCY_TIMEOUT_MS', 5000, 0, 600_000),
    heartbeatMs: ranged(env, 'MRL_HEARTBEAT_MS', 1000, 50, 60_000),
    writeTimeoutMs: ranged(env, 'MRL_WRITE_TIMEOUT_MS', 10_000, 500, 600_000),
    compactMs: ranged(env, 'MRL_CLUSTER_COMPACT_MS', 60_000, 0, 86_400_000),
  };
}

/**
 * One search worker per core from 4 cores up; below, searches run on the HTTP thread. Measured on
 * 2 cores (30k × 768, 32-d index → 100 → 768): in-thread 3,136 QPS with 8 in flight and p50
 * 0.28 ms, a pool of 2 workers 1,917 QPS and 0.56 ms — the workers and the HTTP thread share two
 * cores, and a worker reranks with the JS kernel (onnxruntime refuses shared memory).
 */
export function defaultSearchThreads(cores: number): number {
  return cores >= 4 ? cores : 0;
}

function readEnv(env: NodeJS.ProcessEnv): Config {
  const kernel = str<Config['kernel']>(env, 'MRL_KERNEL', 'auto');
  return {
    dataDir: resolve(env.MRL_DATA_DIR || './data'),
    kernel,
    threads: int(env, 'MRL_THREADS', Math.max(1, cpus().length)),
    searchThreads: int(env, 'MRL_SEARCH_THREADS', defaultSearchThreads(availableParallelism())),
    ingestThread: bool(env, 'MRL_INGEST_THREAD', true),
    ingestNice: int(env, 'MRL_INGEST_NICE', 10),
    indexNice: int(env, 'MRL_INDEX_NICE', 10),
    // On by default only for the GPU kernel, where one launch per query wastes the device; on
    // the CPU a batch saves less than the window costs a lone query (bench/search.ts --concurrency).
    batch: { windowUs: int(env, 'MRL_BATCH_WINDOW_US', kernel === 'gpu' ? 200 : 0), max: int(env, 'MRL_BATCH_MAX', 64) },
    defaults: { k: int(env, 'MRL_DEFAULT_K', 10), shortlist: int(env, 'MRL_DEFAULT_SHORTLIST', 200) },
    modelsDir: resolve(env.MRL_MODELS_DIR || join(projectRoot(), 'models')),
    defaultEncoder: env.MRL_DEFAULT_ENCODER ?? 'text-mrl',
    tfBackend: str<Config['tfBackend']>(env, 'MRL_TF_BACKEND', 'tensorflow'),
    embed: {
      backend: str<Config['embed']['backend']>(env, 'MRL_ENCODER_BACKEND', 'auto'),
      // Two threads halve a sentence's latency (bench/embed.ts); more mostly contend with the HTTP thread and the kernel.
      threads: int(env, 'MRL_EMBED_THREADS', Math.min(2, cpus().length)),
      batchWindowUs: int(env, 'MRL_EMBED_BATCH_WINDOW_US', 0),
      batchMax: int(env, 'MRL_EMBED_BATCH_MAX', 64),
      cacheSize: int(env, 'MRL_EMBED_CACHE', 1024),
    },
    auditRate: num(env, 'MRL_AUDIT_RATE', 0.01),
    http: {
      port: int(env, 'PORT', 8080),
      host: env.HOST || '127.0.0.1',
      logLevel: str(env, 'MRL_LOG_LEVEL', 'info'),
      bodyLimit: int(env, 'MRL_BODY_LIMIT', 1 << 20),
      ingestBodyLimit: int(env, 'MRL_INGEST_BODY_LIMIT', 64 << 20),
      maxBatch: int(env, 'MRL_MAX_BATCH', 2000),
      ndjsonBatch: int(env, 'MRL_NDJSON_BATCH', 1000),
      maxK: int(env, 'MRL_MAX_K', MAX_K),
      maxShortlist: int(env, 'MRL_MAX_SHORTLIST', MAX_SHORTLIST),
      maxEmbedBatch: int(env, 'MRL_MAX_EMBED_BATCH', 256),
    },
    auth: {
      mode: str<Config['auth']['mode']>(env, 'MRL_AUTH', 'auto'),
      adminKey: env.MRL_ADMIN_KEY ?? '',
      metricsPublic: bool(env, 'MRL_METRICS_PUBLIC'),
    },
    limits: {
      rateLimit: env.MRL_RATE_LIMIT ? int(env, 'MRL_RATE_LIMIT', 0) : null,
      rateLimitExpensive: int(env, 'MRL_RATE_LIMIT_EXPENSIVE', 60),
      maxIngestStreams: int(env, 'MRL_MAX_INGEST_STREAMS', 4),
      requestTimeoutMs: int(env, 'MRL_REQUEST_TIMEOUT_MS', 300_000),
      headersTimeoutMs: int(env, 'MRL_HEADERS_TIMEOUT_MS', 30_000),
      keepAliveTimeoutMs: int(env, 'MRL_KEEP_ALIVE_TIMEOUT_MS', 5_000),
    },
    cluster: readCluster(env, int(env, 'PORT', 8080), env.HOST || '127.0.0.1'),
  };
}

function merge(cfg: Config, o: ConfigOverrides): Config {
  return {
    ...cfg,
    ...o,
    batch: { ...cfg.batch, ...o.batch },
    defaults: { ...cfg.defaults, ...o.defaults },
    embed: { ...cfg.embed, ...o.embed },
    http: { ...cfg.http, ...o.http },
    auth: { ...cfg.auth, ...o.auth },
    limits: { ...cfg.limits, ...o.limits },
  };
}

/** Integer fields: where they live, the variable that sets them, their range. */
const INTS: [get: (c: Config) => number, key: string, lo: number, hi: number][] = [
  [(c) => c.threads, 'MRL_THREADS', 1, 256],
  [(c) => c.searchThreads, 'MRL_SEARCH_THREADS', 0, 256],
  [(c) => c.ingestNice, 'MRL_INGEST_NICE', 0, 19],
  [(c) => c.indexNice, 'MRL_INDEX_NICE', 0, 19],
  [(c) => c.batch.windowUs, 'MRL_BATCH_WINDOW_US', 0, 1_000_000],
  [(c) => c.batch.max, 'MRL_BATCH_MAX', 1, 4096],
  [(c) => c.defaults.k, 'MRL_DEFAULT_K', 1, MAX_K],
  [(c) => c.defaults.shortlist, 'MRL_DEFAULT_SHORTLIST', 1, MAX_SHORTLIST],
  [(c) => c.embed.threads, 'MRL_EMBED_THREADS', 1, 64],
  [(c) => c.embed.batchWindowUs, 'MRL_EMBED_BATCH_WINDOW_US', 0, 1_000_000],
  [(c) => c.embed.batchMax, 'MRL_EMBED_BATCH_MAX', 1, 4096],
  [(c) => c.embed.cacheSize, 'MRL_EMBED_CACHE', 0, 1_000_000],
  [(c) => c.http.port, 'PORT', 0, 65535],
  [(c) => c.http.bodyLimit, 'MRL_BODY_LIMIT', 1024, 1 << 30],
  [(c) => c.http.ingestBodyLimit, 'MRL_INGEST_BODY_LIMIT', 1024, 2 ** 31 - 1],
  [(c) => c.http.maxBatch, 'MRL_MAX_BATCH', 1, 1_000_000],
  [(c) => c.http.ndjsonBatch, 'MRL_NDJSON_BATCH', 1, 100_000],
  [(c) => c.http.maxK, 'MRL_MAX_K', 1, MAX_K],
  [(c) => c.http.maxShortlist, 'MRL_MAX_SHORTLIST', 1, MAX_SHORTLIST],
  [(c) => c.http.maxEmbedBatch, 'MRL_MAX_EMBED_BATCH', 1, 100_000],
  [(c) => c.limits.rateLimit ?? 0, 'MRL_RATE_LIMIT', 0, 1_000_000_000],
  [(c) => c.limits.rateLimitExpensive, 'MRL_RATE_LIMIT_EXPENSIVE', 1, 1_000_000_000],
  [(c) => c.limits.maxIngestStreams, 'MRL_MAX_INGEST_STREAMS', 1, 1000],
  [(c) => c.limits.requestTimeoutMs, 'MRL_REQUEST_TIMEOUT_MS', 1000, 86_400_000],
  [(c) => c.limits.headersTimeoutMs, 'MRL_HEADERS_TIMEOUT_MS', 1000, 600_000],
  [(c) => c.limits.keepAliveTimeoutMs, 'MRL_KEEP_ALIVE_TIMEOUT_MS', 1, 600_000],
];

const ENUMS: [get: (c: Config) => string, key: string, allowed: readonly string[]][] = [
  [(c) => c.kernel, 'MRL_KERNEL', ['auto', 'onnx', 'js', 'gpu']],
  [(c) => c.tfBackend, 'MRL_TF_BACKEND', ['tensorflow', 'wasm', 'cpu']],
  [(c) => c.embed.backend, 'MRL_ENCODER_BACKEND', ['auto', 'onnx', 'tfjs']],
  [(c) => c.http.logLevel, 'MRL_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']],
  [(c) => c.auth.mode, 'MRL_AUTH', ['auto', 'required', 'off']],
];

function check(cfg: Config): void {
  for (const [get, key, lo, hi] of INTS) {
    const v = get(cfg);
    if (!Number.isInteger(v) || v < lo || v > hi) throw new ConfigError(`${key} must be an integer in ${lo}..${hi} (got '${v}')`);
  }
  for (const [get, key, allowed] of ENUMS) {
    const v = get(cfg);
    if (!allowed.includes(v)) throw new ConfigError(`${key} must be one of ${allowed.join(', ')} (got '${v}')`);
  }
  for (const [v, key] of [
    [cfg.dataDir, 'MRL_DATA_DIR'],
    [cfg.modelsDir, 'MRL_MODELS_DIR'],
    [cfg.http.host, 'HOST'],
  ] as const) {
    if (typeof v !== 'string' || v === '') throw new ConfigError(`${key} must be a non-empty string`);
  }
  if (typeof cfg.defaultEncoder !== 'string') throw new ConfigError('MRL_DEFAULT_ENCODER must be a string');
  if (cfg.defaults.shortlist < cfg.defaults.k) throw new ConfigError('MRL_DEFAULT_SHORTLIST must be at least MRL_DEFAULT_K');
  if (cfg.http.maxK < cfg.defaults.k) throw new ConfigError('MRL_MAX_K must be at least MRL_DEFAULT_K');
  checkAuth(cfg);
  if (typeof cfg.auditRate !== 'number' || !(cfg.auditRate >= 0 && cfg.auditRate <= 1))
    throw new ConfigError(`MRL_AUDIT_RATE must be a number in 0..1 (got '${cfg.auditRate}')`);
}

function checkAuth(cfg: Config): void {
  // MRL_ADMIN_KEY: long enough to be a secret (the keys the server makes have 43 random characters).
  const { adminKey, metricsPublic } = cfg.auth;
  if (typeof adminKey !== 'string' || (adminKey !== '' && !/^[\x21-\x7e]{20,256}$/.test(adminKey))) {
    throw new ConfigError('MRL_ADMIN_KEY must be 20 to 256 printable characters without spaces');
  }
  if (typeof metricsPublic !== 'boolean') throw new ConfigError('MRL_METRICS_PUBLIC must be true or false');
  if (cfg.limits.headersTimeoutMs > cfg.limits.requestTimeoutMs)
    throw new ConfigError('MRL_HEADERS_TIMEOUT_MS must not exceed MRL_REQUEST_TIMEOUT_MS');
}

/** Reads the environment, lays the overrides over it, then checks the result as a whole. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const cfg = merge(readEnv(env), overrides);
  check(cfg);
  for (const group of [cfg.batch, cfg.defaults, cfg.embed, cfg.http, cfg.auth, cfg.limits, cfg.cluster]) if (group) Object.freeze(group);
  return Object.freeze(cfg);
}
