import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mrlError } from '../errors.js';
import type { Encoder, ModelManifest } from './encoder.js';
import { parseModelJson } from './model-files.js';
import { initTf, tf } from './tf-backend.js';
import { USE_DIM, UseLite } from './use-lite.js';

/**
 * The `text-use-adaptor` loader: Universal Sentence Encoder lite (from node_modules) followed by
 * the MRL adaptor stored in the model directory (TF.js layers format: model.json +
 * weights.bin). Output: the adaptor's full 512 values, not normalised.
 */

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/**
 * Writes a layers model as model.json + weights.bin (tfjs-node's file:// handler is absent on
 * offline hosts, so this is the save handler). Each file is written beside and renamed.
 */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(join(dir, `${WEIGHTS_BIN}.tmp`), Buffer.from(weights));
      await writeFile(join(dir, `${MODEL_JSON}.tmp`), JSON.stringify(json));
      await rename(join(dir, `${WEIGHTS_BIN}.tmp`), join(dir, WEIGHTS_BIN));
      await rename(join(dir, `${MODEL_JSON}.tmp`), join(dir, MODEL_JSON));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

/** Reads a layers model written by saveLayersModel (one weights file). */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const file = join(dir, MODEL_JSON);
  const json = parseModelJson(await readFile(file, 'utf8'), file);
  const group = json.weightsManifest.at(0);
  if (!group || group.paths.length !== 1) throw new Error(`${dir}/${MODEL_JSON}: expected one weights file`);
  const buf = await readFile(join(dir, group.paths[0]));
  const expected = group.weights.reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (buf.byteLength !== expected) throw new Error(`${dir}/${group.paths[0]}: ${buf.byteLength} bytes, expected ${expected}`);
  return tf.loadLayersModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      weightSpecs: group.weights,
      weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
    }),
  });
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;
  if (manifest.loader !== 'text-use-adaptor') throw new Error(`${dir}: loader is '${manifest.loader}', not 'text-use-adaptor'`);
  if (manifest.input?.kind !== 'text' || !(manifest.input.maxLength > 0))
    throw new Error(`${dir}: input must be { kind: 'text', maxLength > 0 }`);
  if (manifest.dim !== USE_DIM) throw new Error(`${dir}: dim ${manifest.dim}, the adaptor outputs ${USE_DIM}`);
  return manifest;
}

/** The text encoders' input check (TF.js and ONNX alike). */
export function validateText(manifest: ModelManifest, input: unknown, field: string): asserts input is string {
  if (typeof input !== 'string')
    throw mrlError('VALIDATION', `${field} must be a string, got ${input === null ? 'null' : typeof input}`, { field });
  if (input.trim().length === 0) throw mrlError('VALIDATION', `${field} must be a non-empty string (not only whitespace)`, { field });
  const max = (manifest.input as { maxLength: number }).maxLength;
  if (input.length > max) throw mrlError('VALIDATION', `${field} has ${input.length} characters, at most ${max} are accepted`, { field });
}

class TextEncoder implements Encoder {
  private disposed = false;
  private inFlight = 0;
  /** Embed calls run one at a time: each already uses every core the backend has. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly manifest: ModelManifest,
    private readonly use: UseLite,
    private readonly adaptor: tf.LayersModel,
  ) {}

  validate(input: unknown, field: string): void {
    validateText(this.manifest, input, field);
  }

  countTokens(input: unknown): number {
    return this.use.tokenize(String(input)).length;
  }

  async embed(inputs: unknown[]): Promise<Float32Array[]> {
    if (this.disposed) throw new Error(`text encoder '${this.manifest.name}' is disposed`);
    inputs.forEach((input, i) => this.validate(input, `inputs[${i}]`));
    if (inputs.length === 0) return [];
    this.inFlight++;
    const run = this.queue.then(() => this.use.embed(inputs as string[], { transform: (u) => this.adaptor.predict(u) as tf.Tensor2D }));
    this.queue = run
      .catch(() => undefined)
      .finally(() => {
        if (--this.inFlight === 0 && this.disposed) this.release();
      });
    return run;
  }

  /** Releases the models now, or when the embeds already started have finished. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.inFlight === 0) this.release();
  }

  private release(): void {
    this.adaptor.dispose();
    this.use.dispose();
  }
}

/** Loads `models/<name>/` (manifest loader 'text-use-adaptor') into an Encoder. */
export async function loadTextEncoder(dir: string): Promise<Encoder> {
  await initTf();
  const manifest = await readManifest(dir);
  const adaptor = await loadLayersModel(dir);
  try {
    const use = await UseLite.load();
    return new TextEncoder(manifest, use, adaptor);
  } catch (err) {
    adaptor.dispose();
    throw err;
  }
}
