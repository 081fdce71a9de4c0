import { tf } from '../../encoders/tf-backend.js';
import type { HeadSet } from '../../encoders/heads.js';
import { USE_DIM } from '../../encoders/use-lite.js';
import { matMulNN } from './matmul-nn.js';

export interface AdaptorOptions {
  /** Width of the MLP branch. */
  hidden: number;
  seed: number;
  /** d x d initial kernel of the linear skip (e.g. principalAxes); identity when absent. */
  skipKernel?: Float32Array;
}

/**
 * The adaptor: z = u·R + W₂ relu(W₁u + b₁) + b₂, 512 -> 512. The linear skip R starts as the
 * principal axes of the training embeddings (so every prefix starts as the best linear code),
 * the MLP branch starts near zero and learns the non-linear correction.
 */
export function buildAdaptor(opts: AdaptorOptions): tf.LayersModel {
  const d = USE_DIM;
  const input = tf.input({ shape: [d], name: 'use' });
  const skip = tf.layers.dense({ units: d, useBias: false, name: 'skip', kernelInitializer: 'identity' }).apply(input) as tf.SymbolicTensor;
  const hidden = tf.layers
    .dense({ units: opts.hidden, activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.heNormal({ seed: opts.seed }) })
    .apply(input) as tf.SymbolicTensor;
  const branch = tf.layers
    .dense({ units: d, name: 'branch', kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 1e-3, seed: opts.seed + 1 }) })
    .apply(hidden) as tf.SymbolicTensor;
  const output = tf.layers.add({ name: 'mrl' }).apply([skip, branch]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: 'text_mrl_adaptor' });
  if (opts.skipKernel) tf.tidy(() => model.getLayer('skip').setWeights([tf.tensor2d(opts.skipKernel!, [d, d])]));
  return model;
}

function layerVariable(model: tf.LayersModel, layer: string, kind: 'kernel' | 'bias'): tf.Tensor2D {
  const w = model.getLayer(layer).trainableWeights.find((v) => v.originalName.endsWith(kind));
  if (!w) throw new Error(`adaptor layer '${layer}' has no ${kind}`);
  return w.read() as unknown as tf.Tensor2D;
}

/**
 * The same function as `model.apply(u)`, written with matMulNN over the model's own variables
 * (for training speed; test/unit/text-adaptor.test.ts checks that both agree).
 */
export function adaptorForward(model: tf.LayersModel, u: tf.Tensor2D): tf.Tensor2D {
  const h = tf.relu(matMulNN(u, layerVariable(model, 'hidden', 'kernel')).add(layerVariable(model, 'hidden', 'bias')));
  const branch = matMulNN(h as tf.Tensor2D, layerVariable(model, 'branch', 'kernel')).add(layerVariable(model, 'branch', 'bias'));
  return matMulNN(u, layerVariable(model, 'skip', 'kernel')).add(branch);
}

/** The genre heads trained with the adaptor: one 'mrl' head per nesting dim (src/encoders/heads.ts), as variables. */
export interface Heads extends HeadSet {
  kernels: tf.Variable<tf.Rank.R2>[];
  biases: tf.Variable<tf.Rank.R1>[];
}

export function buildHeads(nesting: number[], classes: number, seed: number): Heads {
  return {
    objective: 'mrl',
    dims: [...nesting],
    numClasses: classes,
    kernels: nesting.map((m, i) =>
      tf.variable(tf.initializers.glorotUniform({ seed: seed + 100 + i }).apply([m, classes]) as tf.Tensor2D, true),
    ),
    biases: nesting.map(() => tf.variable(tf.zeros<tf.Rank.R1>([classes]), true)),
  };
}

/** Runs the adaptor over n x 512 rows in chunks; returns n x 512. */
export function applyAdaptor(model: tf.LayersModel, x: Float32Array, n: number, chunk = 2048): Float32Array {
  const out = new Float32Array(n * USE_DIM);
  for (let s = 0; s < n; s += chunk) {
    const rows = Math.min(chunk, n - s);
    const z = tf.tidy(() => model.predict(tf.tensor2d(x.subarray(s * USE_DIM, (s + rows) * USE_DIM), [rows, USE_DIM])) as tf.Tensor2D);
    out.set(z.dataSync(), s * USE_DIM);
    z.dispose();
  }
  return out;
}
