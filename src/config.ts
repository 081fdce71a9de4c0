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
  /** Encoders (src/encoders/registry.ts): backend, onnxruntime threads, micro-batching of concurrent embeds, query-embedding cache entries. */
  embed: { backend: 'auto' | 'onnx' | 'tfjs'; threads: number; batchWindowUs: number; batchMax: number; cacheSize: number };
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
    embed: {
      backend: oneOf(env, 'MRL_ENCODER_BACKEND', 'auto', ['auto', 'onnx', 'tfjs'] as const),
      // Two threads halve a sentence's latency (bench/embed.ts); more mostly contend with the HTTP thread and the kernel.
      threads: int(env, 'MRL_EMBED_THREADS', Math.min(2, cpus().length), 1, 64),
      batchWindowUs: int(env, 'MRL_EMBED_BATCH_WINDOW_US', 0, 0, 1_000_000),
      batchMax: int(env, 'MRL_EMBED_BATCH_MAX', 64, 1, 4096),
      cacheSize: int(env, 'MRL_EMBED_CACHE', 1024, 0, 1_000_000),
    },
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
    ...overrides,
  };
  return Object.freeze(cfg);
}
