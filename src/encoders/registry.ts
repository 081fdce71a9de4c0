import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { MrlError, mrlError } from '../errors.js';
import type { Encoder, ModelManifest } from './encoder.js';
import { normalizedPrefix } from '../core/prefix.js';
import { EmbedBatcher, type BatcherStats } from './embed-batcher.js';
import { EmbedCache } from './embed-cache.js';
import { checkOnnxModel, type OnnxInfo } from './onnx/build-models.js';
import { OnnxRunner } from './onnx/runner.js';

/** How each manifest `loader` is loaded on TF.js; modules are imported only when a model is first used. */
const LOADERS: Record<ModelManifest['loader'], (dir: string) => Promise<Encoder>> = {
  'image-mlp': async (dir) => (await import('./image-encoder.js')).loadImageEncoder(dir),
  'text-use-adaptor': async (dir) => (await import('./text-encoder.js')).loadTextEncoder(dir),
};

/** The same on onnxruntime, from a checked model.onnx. */
const ONNX_LOADERS: Record<
  ModelManifest['loader'],
  (dir: string, file: string, info: OnnxInfo, runner: OnnxRunner, threads: number) => Promise<Encoder>
> = {
  'image-mlp': async (...a) => (await import('./onnx/encoders.js')).loadOnnxImageEncoder(...a),
  'text-use-adaptor': async (...a) => (await import('./onnx/encoders.js')).loadOnnxTextEncoder(...a),
};

/**
 * Inputs per model call. TF.js runs on the HTTP thread: small enough that one call stays well
 * under ~50 ms on 2 cores. onnxruntime runs in a worker thread: larger calls cost the loop nothing.
 */
const CHUNK: Record<EncoderBackendName, Record<ModelManifest['input']['kind'], number>> = {
  tfjs: { image: 64, text: 8 },
  onnxruntime: { image: 1024, text: 64 },
};

/** Requests with at most this many inputs fill the query cache (bulk ingest would only flush it). */
const CACHE_MAX_REQUEST = 16;

export type EncoderBackendName = 'onnxruntime' | 'tfjs';

export interface EncoderOptions {
  /** 'auto': onnxruntime where a model.onnx built from the current files exists, else TF.js. */
  backend: 'auto' | 'onnx' | 'tfjs';
  /** onnxruntime intra-op threads per model. */
  threads: number;
  batchWindowUs: number;
  batchMax: number;
  cacheSize: number;
}

export const DEFAULT_ENCODER_OPTIONS: EncoderOptions = { backend: 'auto', threads: 2, batchWindowUs: 0, batchMax: 64, cacheSize: 1024 };

export interface EncoderStatus {
  name: string;
  backend: EncoderBackendName;
  loaded: boolean;
  fallbackReason: string | null;
  batch: BatcherStats | null;
}

/**
 * The models a server can use: manifests read at start from `models/<name>/manifest.json`,
 * encoders loaded on first use and kept, on onnxruntime where the model has a current
 * model.onnx (else TF.js). Concurrent embed calls are micro-batched per model, and small
 * requests go through an LRU cache of query embeddings. Long batches are embedded in chunks
 * that yield to the event loop between them.
 */
export class EncoderRegistry {
  private readonly manifests = new Map<string, { dir: string; manifest: ModelManifest }>();
  private readonly loaded = new Map<string, Promise<Encoder>>();
  private readonly backends = new Map<string, { backend: EncoderBackendName; fallbackReason: string | null }>();
  /** Per model, the ONNX check (it hashes the model's files, ~31 MB for text): done once. */
  private readonly plans = new Map<string, ReturnType<typeof checkOnnxModel>>();
  private readonly batchers = new Map<string, EmbedBatcher>();
  private runner: OnnxRunner | null = null;
  readonly cache: EmbedCache;
  readonly options: EncoderOptions;
  readonly problems: { dir: string; error: string }[] = [];

  constructor(
    readonly modelsDir: string,
    options: Partial<EncoderOptions> = {},
  ) {
    this.options = { ...DEFAULT_ENCODER_OPTIONS, ...options };
    this.cache = new EmbedCache(this.options.cacheSize);
    if (!existsSync(modelsDir)) return;
    for (const name of readdirSync(modelsDir).sort()) {
      const dir = join(modelsDir, name);
      const file = join(dir, 'manifest.json');
      if (!existsSync(file)) continue;
      try {
        const manifest = JSON.parse(readFileSync(file, 'utf8')) as ModelManifest;
        if (!(manifest.loader in LOADERS)) throw new Error(`unknown loader '${manifest.loader}'`);
        this.manifests.set(manifest.name, { dir, manifest });
      } catch (err) {
        this.problems.push({ dir, error: (err as Error).message });
      }
    }
  }

  names(): string[] {
    return [...this.manifests.keys()];
  }

  has(name: string): boolean {
    return this.manifests.has(name);
  }

  manifest(name: string): ModelManifest {
    const m = this.manifests.get(name);
    if (!m) throw new MrlError('UNKNOWN_ENCODER', { encoder: name });
    return m.manifest;
  }

  list(): ModelManifest[] {
    return [...this.manifests.values()].map((m) => m.manifest);
  }

  get(name: string): Promise<Encoder> {
    const m = this.manifests.get(name);
    if (!m) return Promise.reject(new MrlError('UNKNOWN_ENCODER', { encoder: name }));
    let p = this.loaded.get(name);
    if (!p) {
      p = this.load(name, m.dir, m.manifest);
      p.catch(() => this.loaded.delete(name)); // a failed load may be retried
      this.loaded.set(name, p);
    }
    return p;
  }

  /** Which backend serves `name` (or will, once loaded), and why not onnxruntime when it is TF.js. */
  backendOf(name: string): { backend: EncoderBackendName; fallbackReason: string | null } {
    const known = this.backends.get(name);
    if (known) return known;
    const m = this.manifests.get(name);
    if (!m) throw new MrlError('UNKNOWN_ENCODER', { encoder: name });
    const plan = this.plan(name, m.dir, m.manifest);
    const out = plan.ok
      ? { backend: 'onnxruntime' as const, fallbackReason: null }
      : { backend: 'tfjs' as const, fallbackReason: plan.reason };
    this.backends.set(name, out);
    return out;
  }

  status(): EncoderStatus[] {
    return this.names().map((name) => ({
      name,
      ...this.backendOf(name),
      loaded: this.loaded.has(name),
      batch: this.batchers.get(name)?.stats() ?? null,
    }));
  }

  private plan(name: string, dir: string, manifest: ModelManifest): ReturnType<typeof checkOnnxModel> {
    if (this.options.backend === 'tfjs') return { ok: false, reason: 'MRL_ENCODER_BACKEND=tfjs' };
    let plan = this.plans.get(name);
    if (!plan) {
      plan = checkOnnxModel(dir, manifest.loader);
      this.plans.set(name, plan);
    }
    return plan;
  }

  private async load(name: string, dir: string, manifest: ModelManifest): Promise<Encoder> {
    this.backends.delete(name);
    this.cache.clear(name);
    const plan = this.plan(name, dir, manifest);
    let fallbackReason: string;
    if (plan.ok) {
      try {
        this.runner ??= new OnnxRunner();
        const enc = await ONNX_LOADERS[manifest.loader](dir, plan.file, plan.info, this.runner, this.options.threads);
        this.backends.set(name, { backend: 'onnxruntime', fallbackReason: null });
        return enc;
      } catch (err) {
        if (this.options.backend === 'onnx') throw err;
        fallbackReason = `onnxruntime failed to load ${plan.file}: ${(err as Error).message}`;
      }
    } else {
      if (this.options.backend === 'onnx') throw new Error(`${name}: MRL_ENCODER_BACKEND=onnx but ${plan.reason}`);
      fallbackReason = plan.reason;
    }
    const enc = await LOADERS[manifest.loader](dir);
    this.backends.set(name, { backend: 'tfjs', fallbackReason });
    return enc;
  }

  /** Embeds validated inputs in chunks (yielding to the event loop between them): one batched launch. */
  private async embedChunked(name: string, inputs: unknown[]): Promise<Float32Array[]> {
    const encoder = await this.get(name);
    const chunk = CHUNK[this.backendOf(name).backend][encoder.manifest.input.kind];
    const out: Float32Array[] = [];
    for (let i = 0; i < inputs.length; i += chunk) {
      if (i > 0) await yieldToLoop();
      out.push(...(await encoder.embed(inputs.slice(i, i + chunk))));
    }
    return out;
  }

  private batcher(name: string): EmbedBatcher {
    let b = this.batchers.get(name);
    if (!b) {
      b = new EmbedBatcher((inputs) => this.embedChunked(name, inputs), {
        windowUs: this.options.batchWindowUs,
        maxBatch: this.options.batchMax,
      });
      this.batchers.set(name, b);
    }
    return b;
  }

  /**
   * Validates every input, then embeds those not in the cache (micro-batched with concurrent
   * calls): full-D vectors, not normalised, in input order.
   */
  async embed(name: string, inputs: unknown[], field = 'inputs'): Promise<Float32Array[]> {
    if (!Array.isArray(inputs) || inputs.length === 0) throw mrlError('VALIDATION', `${field} must be a non-empty array`);
    const encoder = await this.get(name);
    inputs.forEach((x, i) => encoder.validate(x, `${field}[${i}]`));
    const out: (Float32Array | undefined)[] = inputs.map((x) => this.cache.get(name, x));
    const miss = out.flatMap((v, i) => (v === undefined ? [i] : []));
    if (miss.length > 0) {
      const vectors = await this.batcher(name).submit(miss.map((i) => inputs[i]));
      const fill = inputs.length <= CACHE_MAX_REQUEST;
      miss.forEach((i, j) => {
        out[i] = vectors[j];
        if (fill) this.cache.set(name, inputs[i], vectors[j]);
      });
    }
    return out as Float32Array[];
  }

  /**
   * What POST /embed returns: embeddings truncated to `dims` (default D) and L2-normalised
   * there (truncate first, then normalise, like OpenAI's `dimensions`).
   */
  async embedAtDims(name: string, inputs: unknown[], dims?: number): Promise<{ dims: number; embeddings: number[][] }> {
    const m = this.manifest(name);
    const d = dims ?? m.dim;
    if (!Number.isInteger(d) || d < 1 || d > m.dim) throw new MrlError('INVALID_DIMS', { dims: String(dims), model: name, dim: m.dim });
    const full = await this.embed(name, inputs);
    return { dims: d, embeddings: full.map((v) => Array.from(normalizedPrefix(v, d))) };
  }

  /** Tokens the model reads for these validated inputs (0 for models without tokens, e.g. images). */
  async countTokens(name: string, inputs: unknown[]): Promise<number> {
    const encoder = await this.get(name);
    return encoder.countTokens ? inputs.reduce<number>((s, x) => s + encoder.countTokens!(x), 0) : 0;
  }

  async dispose(): Promise<void> {
    const all = await Promise.allSettled(this.loaded.values());
    for (const r of all) if (r.status === 'fulfilled') r.value.dispose();
    this.loaded.clear();
    this.batchers.clear();
    this.cache.clear();
    const runner = this.runner;
    this.runner = null;
    await runner?.close();
  }
}
