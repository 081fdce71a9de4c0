import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { MrlError, mrlError } from '../errors.js';
import type { Encoder, ModelManifest } from './encoder.js';
import { normalizedPrefix } from '../core/prefix.js';

/** How each manifest `loader` is loaded; modules are imported only when a model is first used. */
const LOADERS: Record<ModelManifest['loader'], (dir: string) => Promise<Encoder>> = {
  'image-mlp': async (dir) => (await import('./image-encoder.js')).loadImageEncoder(dir),
  'text-use-adaptor': async (dir) => (await import('./text-encoder.js')).loadTextEncoder(dir),
};

/** Inputs per model call: small enough that one call stays well under ~50 ms on 2 cores. */
const CHUNK: Record<ModelManifest['input']['kind'], number> = { image: 64, text: 8 };

/**
 * The models a server can use: manifests read at start from `models/<name>/manifest.json`,
 * encoders loaded on first use and kept. Long batches are embedded in chunks that yield to the
 * event loop between them.
 */
export class EncoderRegistry {
  private readonly manifests = new Map<string, { dir: string; manifest: ModelManifest }>();
  private readonly loaded = new Map<string, Promise<Encoder>>();
  readonly problems: { dir: string; error: string }[] = [];

  constructor(readonly modelsDir: string) {
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
      p = LOADERS[m.manifest.loader](m.dir);
      p.catch(() => this.loaded.delete(name)); // a failed load may be retried
      this.loaded.set(name, p);
    }
    return p;
  }

  /** Validates every input, then embeds them chunk by chunk: full-D vectors, not normalised. */
  async embed(name: string, inputs: unknown[], field = 'inputs'): Promise<Float32Array[]> {
    if (!Array.isArray(inputs) || inputs.length === 0) throw mrlError('VALIDATION', `${field} must be a non-empty array`);
    const encoder = await this.get(name);
    inputs.forEach((x, i) => encoder.validate(x, `${field}[${i}]`));
    const chunk = CHUNK[encoder.manifest.input.kind];
    const out: Float32Array[] = [];
    for (let i = 0; i < inputs.length; i += chunk) {
      if (i > 0) await yieldToLoop();
      out.push(...(await encoder.embed(inputs.slice(i, i + chunk))));
    }
    return out;
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

  async dispose(): Promise<void> {
    const all = await Promise.allSettled(this.loaded.values());
    for (const r of all) if (r.status === 'fulfilled') r.value.dispose();
    this.loaded.clear();
  }
}
