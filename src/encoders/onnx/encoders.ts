import type { Encoder, ModelManifest } from '../encoder.js';
import { imageToPixels, loadImageEncoder, type ImageEncoder } from '../image-encoder.js';
import { readManifest, validateText } from '../text-encoder.js';
import { loadUseTokenizer, useTokenIds } from '../use-lite.js';
import type { OnnxInfo } from './build-models.js';
import type { OnnxRunner } from './runner.js';

/**
 * Encoders on onnxruntime (graphs from ./build-models.ts, run in the runner's worker thread).
 * Their embeddings equal the TF.js encoders' to float rounding (test/unit/onnx-agreement.test.ts).
 */

/** Most sentences, and most padded tokens (sentences × longest), per graph run. */
const TEXT_MAX_BATCH = 64;
const TEXT_MAX_TOKENS = 4096;
/** Most padded tokens per real token in one run. */
const TEXT_MAX_PADDING = 1.25;
const IMAGE_MAX_BATCH = 1024;

let sessionSeq = 0;

async function loadSession(runner: OnnxRunner, name: string, file: string, threads: number): Promise<string> {
  const key = `${name}#${++sessionSeq}`;
  await runner.load(key, file, threads);
  return key;
}

export async function loadOnnxTextEncoder(
  dir: string,
  file: string,
  info: OnnxInfo,
  runner: OnnxRunner,
  threads: number,
): Promise<Encoder> {
  const manifest: ModelManifest = await readManifest(dir);
  const [tokenizer, key] = await Promise.all([loadUseTokenizer(), loadSession(runner, manifest.name, file, threads)]);
  const dim = manifest.dim;
  let disposed = false;
  return {
    manifest,
    validate: (input, field) => validateText(manifest, input, field),
    countTokens: (input) => useTokenIds(tokenizer, String(input)).length,
    async embed(inputs) {
      if (disposed) throw new Error(`text encoder '${manifest.name}' is disposed`);
      inputs.forEach((input, i) => validateText(manifest, input, `inputs[${i}]`));
      const ids = (inputs as string[]).map((t) => useTokenIds(tokenizer, t));
      ids.forEach((x, i) => {
        if (x.length === 0) throw new Error(`inputs[${i}]: no tokens`);
      });
      // Runs of similar length (sorted), so that padding wastes little: a run grows while its
      // padded tokens stay within TEXT_MAX_PADDING of its real ones. On the CPU a GEMM over 25
      // rows is about as efficient per row as one over 200, so splitting costs ~0.1 ms a run.
      const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length);
      const out = new Array<Float32Array>(inputs.length);
      for (let start = 0; start < order.length;) {
        let end = start + 1;
        let real = ids[order[start]].length;
        while (end < order.length && end - start < TEXT_MAX_BATCH) {
          const len = ids[order[end]].length;
          const padded = (end - start + 1) * len;
          if (padded > TEXT_MAX_TOKENS || padded > TEXT_MAX_PADDING * (real + len)) break;
          real += len;
          end++;
        }
        const rows = order.slice(start, end);
        const L = ids[rows[rows.length - 1]].length;
        const tok = new Int32Array(rows.length * L);
        const mask = new Float32Array(rows.length * L);
        rows.forEach((r, b) => {
          tok.set(ids[r], b * L);
          mask.fill(1, b * L, b * L + ids[r].length);
        });
        const { data } = await runner.run(
          key,
          {
            [info.inputs[0]]: { type: 'int32', data: tok, dims: [rows.length, L] },
            [info.inputs[1]]: { type: 'float32', data: mask, dims: [rows.length, L] },
          },
          info.output,
        );
        rows.forEach((r, b) => (out[r] = data.slice(b * dim, (b + 1) * dim)));
        start = end;
      }
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      void runner.release(key).catch(() => undefined);
    },
  };
}

/**
 * The image encoder on onnxruntime for embedding; the classification heads (a few small
 * matrices) stay on TF.js, so classify() is the TF.js encoder's.
 */
export async function loadOnnxImageEncoder(
  dir: string,
  file: string,
  info: OnnxInfo,
  runner: OnnxRunner,
  threads: number,
): Promise<ImageEncoder> {
  const base = await loadImageEncoder(dir);
  let key: string;
  try {
    key = await loadSession(runner, base.manifest.name, file, threads);
  } catch (err) {
    base.dispose();
    throw err;
  }
  const { manifest } = base;
  if (manifest.input.kind !== 'image') throw new Error(`${dir}: not an image model`);
  const [rows, cols] = manifest.input.shape;
  const dim = manifest.dim;
  let disposed = false;
  return {
    manifest,
    headDims: base.headDims,
    validate: (input, field) => base.validate(input, field),
    classify: (embeddings, d) => base.classify(embeddings, d),
    async embed(inputs) {
      if (disposed) throw new Error(`encoder ${manifest.name} is disposed`);
      const px = rows * cols;
      const out: Float32Array[] = [];
      for (let start = 0; start < inputs.length; start += IMAGE_MAX_BATCH) {
        const n = Math.min(IMAGE_MAX_BATCH, inputs.length - start);
        const pixels = new Float32Array(n * px);
        for (let i = 0; i < n; i++) pixels.set(imageToPixels(inputs[start + i], `inputs[${start + i}]`, rows, cols), i * px);
        const { data } = await runner.run(key, { [info.inputs[0]]: { type: 'float32', data: pixels, dims: [n, rows, cols] } }, info.output);
        for (let i = 0; i < n; i++) out.push(data.slice(i * dim, (i + 1) * dim));
      }
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      base.dispose();
      void runner.release(key).catch(() => undefined);
    },
  };
}
