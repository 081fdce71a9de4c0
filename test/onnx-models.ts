import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { projectRoot } from '../src/paths.js';
import { writeOnnxModel } from '../src/encoders/onnx/build-models.js';
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

export { brownSentences, cosine, fashionImages, topKNeighbours } from '../bench/samples.js';
