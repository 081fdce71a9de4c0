import { tf } from './tf-backend.js';
import { glorotUniform } from '../core/rng.js';
import { denseLinear } from './dense-op.js';

export type Objective = 'mrl' | 'mrl-e' | 'fixed';

/**
 * The linear classification heads on an embedding z (MRL paper §3).
 * - 'mrl':   one head per nesting dim m: logits_m = z[:, 0:m]·W_m + b_m, W_m of shape m×C.
 * - 'mrl-e': one shared W of shape D×C (and one bias); head m uses W's first m rows.
 * - 'fixed': one head at the single dim D'.
 * `kernels`/`biases` are variables while training and plain tensors once loaded for inference.
 */
export interface HeadSet {
  objective: Objective;
  /** Nesting dims, ascending; the last is D. */
  dims: number[];
  numClasses: number;
  kernels: tf.Tensor2D[];
  biases: tf.Tensor1D[];
}

export function createHeads(objective: Objective, dims: number[], numClasses: number, rand: () => number): HeadSet {
  const mk = (rows: number, name: string) => {
    const kernel = glorotUniform(rows, numClasses, rand);
    // tidy: tf.variable keeps its own handle on the data; the initial tensor must go.
    return tf.tidy(() => ({
      kernel: tf.variable(tf.tensor2d(kernel, [rows, numClasses]), true, `${name}/kernel`),
      bias: tf.variable(tf.zeros<tf.Rank.R1>([numClasses]), true, `${name}/bias`),
    }));
  };
  const made = objective === 'mrl-e' ? [mk(dims[dims.length - 1], 'head_shared')] : dims.map((m) => mk(m, `head_${m}`));
  return {
    objective,
    dims: [...dims],
    numClasses,
    kernels: made.map((h) => h.kernel as tf.Tensor2D),
    biases: made.map((h) => h.bias),
  };
}

/** Logits of the head at nesting dim m for embeddings z [B, ≥m]: z[:, 0:m]·W_m + b_m. */
export function headLogits(heads: HeadSet, z: tf.Tensor2D, m: number): tf.Tensor2D {
  const i = heads.dims.indexOf(m);
  if (i < 0) throw new Error(`no head at dim ${m} (heads: ${heads.dims.join(', ')})`);
  const prefix = m === z.shape[1] ? z : tf.slice<tf.Rank.R2, tf.Tensor2D>(z, [0, 0], [-1, m]);
  if (heads.objective === 'mrl-e') {
    const w = heads.kernels[0];
    const rows = m === w.shape[0] ? w : tf.slice<tf.Rank.R2, tf.Tensor2D>(w, [0, 0], [m, -1]);
    return denseLinear(prefix, rows, heads.biases[0]);
  }
  return denseLinear(prefix, heads.kernels[i], heads.biases[i]);
}

/** Every tensor the heads own (one kernel and one bias per head; a single pair for 'mrl-e'). */
export function headTensors(heads: HeadSet): tf.Tensor[] {
  return [...heads.kernels, ...heads.biases];
}

export function disposeHeads(heads: HeadSet): void {
  for (const t of headTensors(heads)) t.dispose();
}
