import { tf } from '../../encoders/tf-backend.js';
import { USE_DIM } from '../../encoders/use-lite.js';
import { normalizedPrefixTensor } from '../prefix-tensor.js';
import { matMulNN } from './matmul-nn.js';
import { adaptorForward, type Heads } from './model.js';

export interface LossOptions {
  nesting: number[];
  /** c_m: the weight of each nesting dim's terms (MRL §3); all 1 when absent. */
  dimWeights?: number[];
  /** Temperature of the neighbourhood distributions. */
  tau: number;
  /** Weight of the squared error between prefix and teacher cosines. */
  mseWeight: number;
  /** Weight of the genre cross-entropy terms. */
  clsWeight: number;
}

/**
 * MRL loss for the adaptor (Kusupati et al. 2022, "Matryoshka Representation Learning", §3:
 * one loss term per nesting dim m, summed, so every prefix z[:m] is trained to be useful on its
 * own). Here each term is
 *  - similarity distillation: the in-batch neighbourhood of each row at prefix m, softmax over
 *    cos(p_m(z_i), p_m(z_j)) / tau, is matched (cross-entropy) to the teacher's, softmax over
 *    the cosines of the full normalised USE embeddings / tau; plus mseWeight x the squared error
 *    between the two cosine matrices (global geometry, not just the top of each row);
 *  - clsWeight x CE(W_m z[:m] + b_m, genre): the MRL classification term, one head per m.
 */
export function adaptorLoss(model: tf.LayersModel, heads: Heads, u: tf.Tensor2D, labels: tf.Tensor2D, o: LossOptions): tf.Scalar {
  const b = u.shape[0];
  const z = adaptorForward(model, u);
  const diag = tf.eye(b).mul(1e4);
  const teacher = tf.matMul(u, u.transpose());
  const target = tf.softmax(teacher.div(o.tau).sub(diag));
  let total: tf.Scalar = tf.scalar(0);
  o.nesting.forEach((m, i) => {
    const p = normalizedPrefixTensor(z, m);
    const cos = matMulNN(p, p.transpose());
    const logQ = tf.logSoftmax(cos.div(o.tau).sub(diag));
    const distil = target.mul(logQ).sum().neg().div(b);
    const mse = cos.sub(teacher).square().mean();
    const logits = matMulNN(m === USE_DIM ? z : z.slice([0, 0], [-1, m]), heads.kernels[i] as unknown as tf.Tensor2D).add(heads.biases[i]);
    const ce = tf.losses.softmaxCrossEntropy(labels, logits);
    const term = distil.add(mse.mul(o.mseWeight)).add(ce.mul(o.clsWeight));
    total = total.add(term.mul(o.dimWeights?.[i] ?? 1));
  });
  return total;
}
