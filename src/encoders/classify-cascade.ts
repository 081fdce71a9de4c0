import { MrlError, mrlError } from '../errors.js';
import { argMax, checkThreshold, isConfident, type DimProbs } from '../core/classify-rule.js';
import type { Encoder } from './encoder.js';
import type { ImageEncoder } from './image-encoder.js';
import type { EncoderRegistry } from './registry.js';

/**
 * Default confidence threshold of POST /classify. Measured on fashion-mrl's 10k test images
 * (`mrl eval --classify`): 0.9 gives exactly the 512-dim head's accuracy (89.15%) at 145 mean
 * dims (3.5× fewer). 0.85 also reaches it (89.16% at 121 dims), but 0.8 to 0.9 differ by a
 * handful of images out of 10k: the default keeps a margin instead of sitting on the test set's
 * edge. Lower thresholds trade accuracy for dims (0.5: 88.82% at 18 mean dims).
 */
export const DEFAULT_THRESHOLD = 0.9;

export interface CascadeLabel {
  label: string;
  classIndex: number;
  /** The max softmax probability of the head that answered. */
  confidence: number;
  /** The nesting dim whose head answered. */
  dims: number;
  /** The dims whose heads were run, in order (the last is `dims`). */
  dimsTried: number[];
}

export interface ClassifyOptions {
  threshold?: number;
  /** A subset of the model's head dims to cascade over (default: all of them). */
  dims?: number[];
}

function isClassifier(enc: Encoder): enc is ImageEncoder {
  const e = enc as Partial<ImageEncoder>;
  return typeof e.classify === 'function' && Array.isArray(e.headDims) && e.headDims.length > 0;
}

/** The model's encoder if it has classification heads; UNKNOWN_ENCODER or NO_CLASSIFIER otherwise. */
export async function classifierFor(encoders: EncoderRegistry, model: string): Promise<ImageEncoder> {
  const manifest = encoders.manifest(model);
  // A manifest without class names has no heads to read: refuse before loading its model.
  if (!manifest.classes?.length) throw new MrlError('NO_CLASSIFIER', { model });
  const enc = await encoders.get(model);
  if (!isClassifier(enc)) throw new MrlError('NO_CLASSIFIER', { model });
  return enc;
}

/** The cascade's dims: `dims` (each one a head dim, no repeats) sorted ascending, or all head dims. */
export function cascadeDims(enc: ImageEncoder, dims?: number[]): number[] {
  if (dims === undefined) return [...enc.headDims];
  if (!Array.isArray(dims) || dims.length === 0)
    throw mrlError('VALIDATION', 'dims: expected a non-empty array of head dims', { field: 'dims' });
  const seen = new Set<number>();
  for (const d of dims) {
    if (!enc.headDims.includes(d)) {
      throw mrlError(
        'VALIDATION',
        `dims: model '${enc.manifest.name}' has no classification head at ${String(d)} (heads at ${enc.headDims.join(', ')})`,
        { field: 'dims' },
      );
    }
    if (seen.has(d)) throw mrlError('VALIDATION', `dims: ${d} is repeated`, { field: 'dims' });
    seen.add(d);
  }
  return [...seen].sort((a, b) => a - b);
}

/** Softmax probabilities of every head in `dims` for full-D embeddings, as the tables src/eval/classify.ts reads. */
export function headProbabilities(enc: ImageEncoder, embeddings: Float32Array[], dims: readonly number[]): DimProbs[] {
  return dims.map((d) => {
    const rows = enc.classify(embeddings, d);
    const C = rows[0]?.length ?? 0;
    const probs = new Float32Array(rows.length * C);
    rows.forEach((r, i) => probs.set(r, i * C));
    return { dims: d, probs };
  });
}

/**
 * Embeds `inputs` with `model` and classifies them by the cascade: each head runs only on the
 * inputs that the smaller heads were not confident about, so the work saved is real.
 */
export async function classifyCascade(
  encoders: EncoderRegistry,
  model: string,
  inputs: unknown[],
  opts: ClassifyOptions = {},
): Promise<{ threshold: number; results: CascadeLabel[] }> {
  const threshold = opts.threshold ?? DEFAULT_THRESHOLD;
  const enc = await classifierFor(encoders, model);
  checkThreshold(threshold);
  const dims = cascadeDims(enc, opts.dims);
  const embeddings = await encoders.embed(model, inputs);
  const classes = enc.manifest.classes ?? [];
  const results = new Array<CascadeLabel>(embeddings.length);
  let pending = embeddings.map((_, i) => i);
  for (let k = 0; k < dims.length && pending.length > 0; k++) {
    const last = k === dims.length - 1;
    const probs = enc.classify(
      pending.map((i) => embeddings[i]),
      dims[k],
    );
    const next: number[] = [];
    pending.forEach((i, j) => {
      const { index, value } = argMax(probs[j], 0, probs[j].length);
      if (!last && !isConfident(value, threshold)) {
        next.push(i);
        return;
      }
      results[i] = {
        label: classes[index] ?? String(index),
        classIndex: index,
        confidence: value,
        dims: dims[k],
        dimsTried: dims.slice(0, k + 1),
      };
    });
    pending = next;
  }
  return { threshold, results };
}
