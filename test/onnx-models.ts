import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { projectRoot } from '../src/paths.js';
import { writeOnnxModel } from '../src/encoders/onnx/build-models.js';
import { readBrown } from '../src/data/brown.js';
import { loadSplit } from '../src/train/fashion-mnist.js';
import { tempDir } from './helpers.js';

/**
 * A copy of the shipped models (TF.js files only) with their ONNX graphs built, in a temp dir:
 * tests do not depend on whether `npm run build:onnx` ran in the checkout.
 */
export function modelsWithOnnx(t: TestContext, build = true): string {
  const dir = tempDir(t, 'mrl-models-');
  const src = join(projectRoot(), 'models');
  for (const name of readdirSync(src)) {
    cpSync(join(src, name), join(dir, name), { recursive: true, filter: (f) => !/model\.onnx/.test(f) });
    if (build) writeOnnxModel(join(dir, name));
  }
  return dir;
}

let shared: string | undefined;

/** The same, built once per test process and only read (removed when the process exits). */
export function sharedModelsWithOnnx(): string {
  if (shared) return shared;
  const dir = mkdtempSync(join(tmpdir(), 'mrl-models-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const src = join(projectRoot(), 'models');
  for (const name of readdirSync(src)) {
    cpSync(join(src, name), join(dir, name), { recursive: true, filter: (f) => !/model\.onnx/.test(f) });
    writeOnnxModel(join(dir, name));
  }
  return (shared = dir);
}

/** `n` Brown-corpus sentences spread over the corpus (every paragraph's sentences, taken at a stride). */
export function brownSentences(n: number): string[] {
  const all = readBrown().flatMap((p) => p.text.split(/(?<=[.!?]"?)\s+/)).filter((s) => s.split(' ').length >= 3);
  const stride = Math.floor(all.length / n);
  return Array.from({ length: n }, (_, i) => all[i * stride]);
}

/** The first `n` test images of the committed Fashion-MNIST sample, as 28×28 arrays. */
export function fashionImages(n: number, dir = join(projectRoot(), 'test/fixtures/fashion-sample')): number[][][] {
  const s = loadSplit(dir, 't10k', n);
  return Array.from({ length: s.count }, (_, i) => Array.from({ length: s.rows }, (_, r) => Array.from(s.images.subarray((i * s.rows + r) * s.cols, (i * s.rows + r + 1) * s.cols))));
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/** Indices of each vector's k nearest others by cosine (exact). */
export function topKNeighbours(vs: ArrayLike<number>[], k: number): number[][] {
  return vs.map((q, i) => vs.map((v, j) => ({ j, s: j === i ? -Infinity : cosine(q, v) })).sort((a, b) => b.s - a.s).slice(0, k).map((x) => x.j));
}
