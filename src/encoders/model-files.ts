import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from './tf-backend.js';
import type { ModelManifest } from './encoder.js';
import type { HeadSet, Objective } from './heads.js';

/**
 * The on-disk layout of a model directory (what `mrl train` writes and encoders read):
 *   model.json + weights.bin   the encoder, a standard TF.js layers model (tf.loadLayersModel format)
 *   heads.json + heads.bin     the classification heads: TF.js weights-manifest format, one
 *                              `head_<m>/kernel` [m, C] + `head_<m>/bias` [C] per nesting dim m
 *                              ('mrl', 'fixed'), or one `head_shared/kernel` [D, C] +
 *                              `head_shared/bias` [C] whose first m rows are head m ('mrl-e')
 *   manifest.json              ModelManifest
 * tfjs-node is absent (it downloads at install), so files are written through tf.io handlers here.
 */
export const MODEL_FILES = {
  model: 'model.json',
  weights: 'weights.bin',
  heads: 'heads.json',
  headsWeights: 'heads.bin',
  manifest: 'manifest.json',
} as const;

export interface HeadsFile {
  format: 'mrl-heads/1';
  objective: Objective;
  dims: number[];
  numClasses: number;
  classes?: string[];
  weightsManifest: tf.io.WeightsManifestConfig;
}

/** Writes a file through a temp name and a rename, so a reader never sees half a file. */
function writeAtomic(path: string, data: string | Uint8Array): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

function joinWeights(data: tf.io.WeightData | undefined): Uint8Array {
  return data === undefined ? new Uint8Array(0) : new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      writeAtomic(join(dir, MODEL_FILES.weights), joinWeights(artifacts.weightData));
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [MODEL_FILES.weights], weights: artifacts.weightSpecs ?? [] }],
      };
      writeAtomic(join(dir, MODEL_FILES.model), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

function readWeightFiles(dir: string, manifest: tf.io.WeightsManifestConfig): [tf.io.WeightsManifestEntry[], ArrayBuffer] {
  const specs = manifest.flatMap((group) => group.weights);
  const parts = manifest.flatMap((group) =>
    group.paths.map((p) => {
      const buf = readFileSync(join(dir, p));
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    }),
  );
  return [specs, tf.io.concatenateArrayBuffers(parts)];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The parts of a TF.js model.json (layers or graph model) the loaders read: a modelTopology object and a weightsManifest of { paths, weights } groups. */
function isModelJson(v: unknown): v is tf.io.ModelJSON {
  return (
    isRecord(v) &&
    isRecord(v.modelTopology) &&
    Array.isArray(v.weightsManifest) &&
    v.weightsManifest.every(
      (g: unknown) => isRecord(g) && Array.isArray(g.weights) && Array.isArray(g.paths) && g.paths.every((p) => typeof p === 'string'),
    )
  );
}

/** Parses a TF.js model.json; `file` names it in the error when its shape is not one. */
export function parseModelJson(text: string, file: string): tf.io.ModelJSON {
  const json: unknown = JSON.parse(text);
  if (!isModelJson(json)) throw new Error(`${file}: not a TF.js model.json (expected a modelTopology object and a weightsManifest list)`);
  return json;
}

export async function loadLayersModelFromDir(dir: string): Promise<tf.LayersModel> {
  const file = join(dir, MODEL_FILES.model);
  const json = parseModelJson(readFileSync(file, 'utf8'), file);
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (m) => readWeightFiles(dir, m));
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

function headNames(heads: { objective: Objective; dims: number[] }): string[] {
  return heads.objective === 'mrl-e' ? ['head_shared'] : heads.dims.map((m) => `head_${m}`);
}

export async function saveHeads(heads: HeadSet, dir: string, classes?: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const named = headNames(heads).flatMap((name, i) => [
    { name: `${name}/kernel`, tensor: heads.kernels[i] },
    { name: `${name}/bias`, tensor: heads.biases[i] },
  ]);
  const { data, specs } = await tf.io.encodeWeights(named);
  writeAtomic(join(dir, MODEL_FILES.headsWeights), joinWeights(data));
  const file: HeadsFile = {
    format: 'mrl-heads/1',
    objective: heads.objective,
    dims: heads.dims,
    numClasses: heads.numClasses,
    classes,
    weightsManifest: [{ paths: [MODEL_FILES.headsWeights], weights: specs }],
  };
  writeAtomic(join(dir, MODEL_FILES.heads), JSON.stringify(file, null, 1));
}

/** Reads heads.json + heads.bin into plain (non-trainable) tensors; the caller disposes them. */
export function loadHeads(dir: string): HeadSet & { classes?: string[] } {
  const file = JSON.parse(readFileSync(join(dir, MODEL_FILES.heads), 'utf8')) as HeadsFile;
  if (file.format !== 'mrl-heads/1') throw new Error(`${dir}/${MODEL_FILES.heads}: unknown format ${String(file.format)}`);
  const [specs, data] = readWeightFiles(dir, file.weightsManifest);
  const tensors = tf.io.decodeWeights(data, specs);
  const names = headNames(file);
  const get = (name: string) => {
    const t = tensors[name];
    if (t === undefined) throw new Error(`${dir}/${MODEL_FILES.heads}: missing tensor ${name}`);
    return t;
  };
  return {
    objective: file.objective,
    dims: file.dims,
    numClasses: file.numClasses,
    classes: file.classes,
    kernels: names.map((n) => get(`${n}/kernel`) as tf.Tensor2D),
    biases: names.map((n) => get(`${n}/bias`) as tf.Tensor1D),
  };
}

export function writeManifest(dir: string, manifest: ModelManifest): void {
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, MODEL_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
}

export function readManifest(dir: string): ModelManifest {
  return JSON.parse(readFileSync(join(dir, MODEL_FILES.manifest), 'utf8')) as ModelManifest;
}
