import { tf } from '../encoders/tf-backend.js';
import { headLogits, type HeadSet } from '../encoders/heads.js';

/**
 * The Matryoshka loss (MRL paper, eq. 1): L = Σ_{m∈M} c_m · CE(W_m·z[0:m], y), CE being the
 * batch-mean softmax cross-entropy. `oneHot` is [B, C]; `weights` are the c_m (default 1 each).
 * Returns the total and the per-dim logits (for accuracy).
 */
export function mrlLoss(
  heads: HeadSet,
  z: tf.Tensor2D,
  oneHot: tf.Tensor2D,
  weights: number[] = heads.dims.map(() => 1),
): { loss: tf.Scalar; logits: tf.Tensor2D[] } {
  if (weights.length !== heads.dims.length) {
    throw new Error(`${weights.length} loss weights for ${heads.dims.length} nesting dims`);
  }
  const logits = heads.dims.map((m) => headLogits(heads, z, m));
  const terms = logits.map((l, i) => tf.mul<tf.Scalar>(tf.losses.softmaxCrossEntropy(oneHot, l), weights[i]));
  return { loss: tf.addN(terms), logits };
}
