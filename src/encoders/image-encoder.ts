import { PNG } from 'pngjs';
import { tf } from './tf-backend.js';
import type { Encoder, ModelManifest } from './encoder.js';
import { mrlError } from '../errors.js';
import { loadHeads, loadLayersModelFromDir, readManifest } from './model-files.js';
import { disposeHeads, headLogits, type HeadSet } from './heads.js';

/**
 * The 'image-mlp' loader: a model directory written by `mrl train` (see src/encoders/model-files.ts).
 * Inputs are rows×cols grey images (28×28 for fashion-mrl), given either as an array of `rows`
 * arrays of `cols` numbers 0..255, or as a base64 PNG of exactly that size (RGB(A) is converted
 * to grey: ITU-R 601 luma, alpha composited over black, the Fashion-MNIST background).
 */
export interface ImageEncoder extends Encoder {
  /** Nesting dims that have a classification head. */
  readonly headDims: readonly number[];
  /** Softmax class probabilities from the head at `dim`, for full-D embeddings (see classifyAtDim). */
  classify(embeddings: Float32Array[], dim: number): Float32Array[];
}

const EMBED_BATCH = 256;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function expected(rows: number, cols: number): string {
  return `expected a ${rows}×${cols} array of numbers 0..255 or a base64 PNG string of ${rows}×${cols} pixels`;
}

function decodePng(input: string, field: string, rows: number, cols: number): Float32Array {
  const b64 = input.replace(/^data:image\/png;base64,/, '');
  if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64))
    throw mrlError('VALIDATION', `${field}: not base64 (${expected(rows, cols)})`, { field });
  const bytes = Buffer.from(b64, 'base64');
  if (!PNG_SIGNATURE.every((b, i) => bytes[i] === b)) throw mrlError('VALIDATION', `${field}: not a PNG image`, { field });
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (err) {
    throw mrlError('VALIDATION', `${field}: unreadable PNG (${err instanceof Error ? err.message : String(err)})`, { field });
  }
  if (png.width !== cols || png.height !== rows) {
    throw mrlError('VALIDATION', `${field}: PNG is ${png.width}×${png.height} pixels, expected ${cols}×${rows}`, { field });
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) {
    const [r, g, b, a] = png.data.subarray(4 * i, 4 * i + 4);
    out[i] = Math.round((0.299 * r + 0.587 * g + 0.114 * b) * (a / 255));
  }
  return out;
}

function describe(v: unknown): string {
  return typeof v === 'number' || v === undefined ? String(v) : typeof v === 'string' ? JSON.stringify(v) : typeof v;
}

/** Validates one image input and returns its rows*cols pixels (0..255, row-major). */
export function imageToPixels(input: unknown, field: string, rows: number, cols: number): Float32Array {
  if (typeof input === 'string') return decodePng(input, field, rows, cols);
  if (!Array.isArray(input)) throw mrlError('VALIDATION', `${field}: ${expected(rows, cols)}`, { field });
  if (input.length !== rows) throw mrlError('VALIDATION', `${field}: has ${input.length} rows, expected ${rows}`, { field });
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row: unknown = input[r];
    if (!Array.isArray(row) || row.length !== cols) {
      const what = Array.isArray(row) ? `has ${row.length} values` : 'is not an array';
      throw mrlError('VALIDATION', `${field}[${r}]: ${what}, expected ${cols} numbers 0..255`, { field: `${field}[${r}]` });
    }
    for (let c = 0; c < cols; c++) {
      const v: unknown = row[c];
      if (typeof v !== 'number' || !(v >= 0 && v <= 255)) {
        throw mrlError('VALIDATION', `${field}[${r}][${c}]: ${describe(v)} is not a number 0..255`, { field: `${field}[${r}][${c}]` });
      }
      out[r * cols + c] = v;
    }
  }
  return out;
}

/** Embeds `count` images (pixels row-major, 0..255) in batches inside tf.tidy: N×D floats, row-major. */
export async function embedPixels(
  model: tf.LayersModel,
  pixels: Float32Array | Uint8Array,
  count: number,
  rows: number,
  cols: number,
  batchSize = EMBED_BATCH,
): Promise<Float32Array> {
  const px = rows * cols;
  const dim = (model.outputs[0].shape as number[])[1];
  const out = new Float32Array(count * dim);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const z = tf.tidy(() => {
      const slice = pixels.subarray(start * px, (start + n) * px);
      const x = tf.tensor3d(slice instanceof Float32Array ? slice : Float32Array.from(slice), [n, rows, cols]);
      return model.predict(x) as tf.Tensor2D;
    });
    try {
      out.set(await z.data<'float32'>(), start * dim);
    } finally {
      z.dispose();
    }
  }
  return out;
}

/**
 * Softmax class probabilities from the head at nesting dim `dim`, given full-D embeddings:
 * the head reads z[0:dim] (for the adaptive classification cascade: try the smallest dim first).
 */
export function classifyAtDim(heads: HeadSet, embeddings: Float32Array[], dim: number): Float32Array[] {
  if (!heads.dims.includes(dim))
    throw mrlError('VALIDATION', `dim: no head at ${dim} (heads at ${heads.dims.join(', ')})`, { field: 'dim' });
  if (embeddings.length === 0) return [];
  const D = embeddings[0].length;
  embeddings.forEach((e, i) => {
    if (e.length !== D || D < dim)
      throw mrlError('VALIDATION', `embeddings[${i}]: has ${e.length} values, expected ${D} ≥ ${dim}`, { field: `embeddings[${i}]` });
  });
  const flat = new Float32Array(embeddings.length * D);
  embeddings.forEach((e, i) => flat.set(e, i * D));
  const probs = tf.tidy(() => tf.softmax(headLogits(heads, tf.tensor2d(flat, [embeddings.length, D]), dim)).dataSync<'float32'>());
  const C = heads.numClasses;
  return embeddings.map((_, i) => probs.slice(i * C, (i + 1) * C));
}

export async function loadImageEncoder(dir: string): Promise<ImageEncoder> {
  const manifest: ModelManifest = readManifest(dir);
  if (manifest.loader !== 'image-mlp' || manifest.input.kind !== 'image') {
    throw new Error(`${dir}: loader '${manifest.loader}' with ${manifest.input.kind} input is not an image-mlp model`);
  }
  const [rows, cols] = manifest.input.shape;
  const model = await loadLayersModelFromDir(dir);
  const heads = loadHeads(dir);
  const outDim = (model.outputs[0].shape as number[])[1];
  if (outDim !== manifest.dim) {
    model.dispose();
    disposeHeads(heads);
    throw new Error(`${dir}: model outputs ${outDim} values, manifest says dim ${manifest.dim}`);
  }
  let disposed = false;
  return {
    manifest,
    headDims: heads.dims,
    validate(input, field) {
      imageToPixels(input, field, rows, cols);
    },
    async embed(inputs) {
      if (disposed) throw new Error(`encoder ${manifest.name} is disposed`);
      if (!Array.isArray(inputs)) throw mrlError('VALIDATION', 'inputs: expected an array of images', { field: 'inputs' });
      const pixels = new Float32Array(inputs.length * rows * cols);
      inputs.forEach((input, i) => pixels.set(imageToPixels(input, `inputs[${i}]`, rows, cols), i * rows * cols));
      const flat = await embedPixels(model, pixels, inputs.length, rows, cols);
      return inputs.map((_, i) => flat.slice(i * manifest.dim, (i + 1) * manifest.dim));
    },
    classify(embeddings, dim) {
      if (disposed) throw new Error(`encoder ${manifest.name} is disposed`);
      return classifyAtDim(heads, embeddings, dim);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      model.dispose();
      disposeHeads(heads);
    },
  };
}
