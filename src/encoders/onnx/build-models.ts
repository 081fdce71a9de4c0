import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FLOAT, INT32 } from '../../compute/onnx-proto.js';
import type { ModelManifest } from '../encoder.js';
import { USE_PACKAGE, useModelDir } from '../use-lite.js';
import { GraphBuilder } from './graph-builder.js';
import { appendLayersModel, readLayersModel } from './layers-graph.js';
import { appendUseLite, readUseWeights } from './use-lite-graph.js';

/**
 * ONNX versions of the shipped encoders, built from their TF.js files (`npm run build:onnx`,
 * also run by `prepare`): `models/<name>/model.onnx` plus `model.onnx.json`, which records the
 * SHA-256 of every file the graph was built from. An encoder uses the ONNX file only while
 * those digests still match (a retrained adaptor makes it stale: TF.js serves until rebuilt).
 */
export const ONNX_FILE = 'model.onnx';
export const ONNX_INFO = 'model.onnx.json';

export interface OnnxInfo {
  format: 'mrl-onnx/1';
  loader: ModelManifest['loader'];
  inputs: string[];
  output: string;
  /** source → sha256 (see sourceKey). */
  sources: Record<string, string>;
}

/** The files a model's graph is built from. */
export function onnxSources(dir: string, loader: ModelManifest['loader']): string[] {
  const own = (json: string) => {
    const m = JSON.parse(readFileSync(json, 'utf8')) as { weightsManifest: { paths: string[] }[] };
    return m.weightsManifest.flatMap((g) => g.paths.map((p) => join(json, '..', p)));
  };
  const local = [join(dir, 'model.json'), ...own(join(dir, 'model.json'))];
  if (loader === 'image-mlp') return local;
  const use = useModelDir();
  return [join(use, 'model.json'), ...own(join(use, 'model.json')), ...local];
}

/** A source's name in model.onnx.json: relative to the model directory, or the package's name and file. */
function sourceKey(dir: string, file: string): string {
  return file.startsWith(`${dir}/`) ? file.slice(dir.length + 1) : `${USE_PACKAGE}/${basename(file)}`;
}

function digest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The graph of a model directory, in memory. */
export function buildOnnxModel(dir: string, loader: ModelManifest['loader']): { bytes: Uint8Array; info: Omit<OnnxInfo, 'sources'> } {
  const adaptor = readLayersModel(dir);
  if (loader === 'image-mlp') {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;
    if (manifest.input.kind !== 'image') throw new Error(`${dir}: not an image model`);
    const g = new GraphBuilder('image-mlp');
    const out = appendLayersModel(g, adaptor, 'pixels');
    g.op('Identity', [out], [], 'embedding');
    const bytes = g.build(
      [{ name: 'pixels', type: FLOAT, dims: ['B', ...manifest.input.shape] }],
      [{ name: 'embedding', dims: ['B', manifest.dim] }],
    );
    return { bytes, info: { format: 'mrl-onnx/1', loader, inputs: ['pixels'], output: 'embedding' } };
  }
  const g = new GraphBuilder('use-lite-adaptor');
  const use = appendUseLite(g, readUseWeights(useModelDir()), 'ids', 'mask');
  const out = appendLayersModel(g, adaptor, use);
  g.op('Identity', [out], [], 'embedding');
  const bytes = g.build(
    [
      { name: 'ids', type: INT32, dims: ['B', 'L'] },
      { name: 'mask', type: FLOAT, dims: ['B', 'L'] },
    ],
    [{ name: 'embedding', dims: ['B', 512] }],
  );
  return { bytes, info: { format: 'mrl-onnx/1', loader, inputs: ['ids', 'mask'], output: 'embedding' } };
}

/** Builds and writes model.onnx + model.onnx.json into the model directory (each through a rename). */
export function writeOnnxModel(dir: string): { file: string; bytes: number } {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;
  const { bytes, info } = buildOnnxModel(dir, manifest.loader);
  const sources = Object.fromEntries(onnxSources(dir, manifest.loader).map((f) => [sourceKey(dir, f), digest(f)]));
  const file = join(dir, ONNX_FILE);
  writeFileSync(`${file}.tmp`, bytes);
  writeFileSync(join(dir, `${ONNX_INFO}.tmp`), `${JSON.stringify({ ...info, sources }, null, 1)}\n`);
  renameSync(`${file}.tmp`, file);
  renameSync(join(dir, `${ONNX_INFO}.tmp`), join(dir, ONNX_INFO));
  return { file, bytes: bytes.length };
}

/**
 * Whether `dir` has an ONNX file built from its current sources: the file's info, or why not
 * (a reason for /health).
 */
export function checkOnnxModel(
  dir: string,
  loader: ModelManifest['loader'],
): { ok: true; file: string; info: OnnxInfo } | { ok: false; reason: string } {
  const file = join(dir, ONNX_FILE);
  if (!existsSync(file) || !existsSync(join(dir, ONNX_INFO))) return { ok: false, reason: `no ${ONNX_FILE} (run npm run build:onnx)` };
  let info: OnnxInfo;
  try {
    info = JSON.parse(readFileSync(join(dir, ONNX_INFO), 'utf8')) as OnnxInfo;
  } catch (err) {
    return { ok: false, reason: `${ONNX_INFO}: ${(err as Error).message}` };
  }
  if (info.format !== 'mrl-onnx/1' || info.loader !== loader) return { ok: false, reason: `${ONNX_INFO} is not a '${loader}' graph` };
  const want = onnxSources(dir, loader).map((f) => [sourceKey(dir, f), f] as const);
  if (want.length !== Object.keys(info.sources).length)
    return { ok: false, reason: `${ONNX_FILE} is stale: built from other files (run npm run build:onnx)` };
  for (const [key, path] of want) {
    if (info.sources[key] !== digest(path))
      return { ok: false, reason: `${ONNX_FILE} is stale: ${key} changed since it was built (run npm run build:onnx)` };
  }
  return { ok: true, file, info };
}
