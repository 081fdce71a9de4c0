import { join, resolve } from 'node:path';
import { projectRoot } from './paths.js';
import { cpus } from 'node:os';
import { MAX_K, MAX_SHORTLIST } from './core/funnel.js';

/** The only reader of process.env: raw strings in, a frozen, validated Config out. */
export interface Config {
  dataDir: string;
  kernel: 'auto' | 'onnx' | 'js' | 'gpu';
  threads: number;
  /** Vector kernel batching window (compute/batch-window.ts): µs to collect concurrent calls (0 = off), most queries per launch. */
  batch: { windowUs: number; max: number };
  defaults: { k: number; shortlist: number };
  /** Model directories (models/<name>/manifest.json). */
  modelsDir: string;
  /** The encoder the `default` collection is bound to when a new data dir is created ('' for none). */
  defaultEncoder: string;
  tfBackend: 'tensorflow' | 'wasm' | 'cpu';
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
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, key: string, dflt: number, lo: number, hi: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < lo || v > hi) throw new ConfigError(`${key} must be an integer in ${lo}..${hi} (got '${raw}')`);
  return v;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, key: string, dflt: T, allowed: readonly T[]): T {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${key} must be one of ${allowed.join(', ')} (got '${raw}')`);
  return raw as T;
}

function bool(env: NodeJS.ProcessEnv, key: string): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${key} must be true or false (got '${raw}')`);
}

/** MRL_ADMIN_KEY: long enough to be a secret (the keys the server makes have 43 random characters). */
function adminKey(env: NodeJS.ProcessEnv): string {
  const raw = env.MRL_ADMIN_KEY ?? '';
  if (raw !== '' && !/^[\x21-\x7e]{20,256}$/.test(raw)) throw new ConfigError('MRL_ADMIN_KEY must be 20 to 256 printable characters without spaces');
  return raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const k = int(env, 'MRL_DEFAULT_K', 10, 1, MAX_K);
  const shortlist = int(env, 'MRL_DEFAULT_SHORTLIST', 200, 1, MAX_SHORTLIST);
  if (shortlist < k) throw new ConfigError('MRL_DEFAULT_SHORTLIST must be at least MRL_DEFAULT_K');
  if (int(env, 'MRL_MAX_K', MAX_K, 1, MAX_K) < k) throw new ConfigError('MRL_MAX_K must be at least MRL_DEFAULT_K');
  const kernel = oneOf(env, 'MRL_KERNEL', 'auto', ['auto', 'onnx', 'js', 'gpu'] as const);
  const cfg: Config = {
    dataDir: resolve(env.MRL_DATA_DIR || './data'),
    kernel,
    threads: int(env, 'MRL_THREADS', Math.max(1, cpus().length), 1, 256),
    // On by default only for the GPU kernel, where one launch per query wastes the device; on
    // the CPU a batch saves less than the window costs a lone query (bench/search.ts --concurrency).
    batch: { windowUs: int(env, 'MRL_BATCH_WINDOW_US', kernel === 'gpu' ? 200 : 0, 0, 1_000_000), max: int(env, 'MRL_BATCH_MAX', 64, 1, 4096) },
    defaults: { k, shortlist },
    modelsDir: resolve(env.MRL_MODELS_DIR || join(projectRoot(), 'models')),
    defaultEncoder: env.MRL_DEFAULT_ENCODER ?? 'text-mrl',
    tfBackend: oneOf(env, 'MRL_TF_BACKEND', 'tensorflow', ['tensorflow', 'wasm', 'cpu'] as const),
    http: {
      port: int(env, 'PORT', 8080, 0, 65535),
      host: env.HOST || '127.0.0.1',
      logLevel: oneOf(env, 'MRL_LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
      bodyLimit: int(env, 'MRL_BODY_LIMIT', 1 << 20, 1024, 1 << 30),
      ingestBodyLimit: int(env, 'MRL_INGEST_BODY_LIMIT', 64 << 20, 1024, 2 ** 31 - 1),
      maxBatch: int(env, 'MRL_MAX_BATCH', 2000, 1, 1_000_000),
      ndjsonBatch: int(env, 'MRL_NDJSON_BATCH', 1000, 1, 100_000),
      maxK: int(env, 'MRL_MAX_K', MAX_K, 1, MAX_K),
      maxShortlist: int(env, 'MRL_MAX_SHORTLIST', MAX_SHORTLIST, 1, MAX_SHORTLIST),
      maxEmbedBatch: int(env, 'MRL_MAX_EMBED_BATCH', 256, 1, 100_000),
    },
    auth: { mode: oneOf(env, 'MRL_AUTH', 'auto', ['auto', 'required', 'off'] as const), adminKey: adminKey(env), metricsPublic: bool(env, 'MRL_METRICS_PUBLIC') },
    limits: {
      rateLimit: env.MRL_RATE_LIMIT ? int(env, 'MRL_RATE_LIMIT', 0, 0, 1_000_000_000) : null,
      rateLimitExpensive: int(env, 'MRL_RATE_LIMIT_EXPENSIVE', 60, 1, 1_000_000_000),
      maxIngestStreams: int(env, 'MRL_MAX_INGEST_STREAMS', 4, 1, 1000),
      requestTimeoutMs: int(env, 'MRL_REQUEST_TIMEOUT_MS', 300_000, 1000, 86_400_000),
      headersTimeoutMs: int(env, 'MRL_HEADERS_TIMEOUT_MS', 30_000, 1000, 600_000),
      keepAliveTimeoutMs: int(env, 'MRL_KEEP_ALIVE_TIMEOUT_MS', 5_000, 1, 600_000),
    },
    ...overrides,
  };
  if (cfg.limits.headersTimeoutMs > cfg.limits.requestTimeoutMs) throw new ConfigError('MRL_HEADERS_TIMEOUT_MS must not exceed MRL_REQUEST_TIMEOUT_MS');
  return Object.freeze(cfg);
}
