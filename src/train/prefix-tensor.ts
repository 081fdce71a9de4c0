import { tf } from '../encoders/tf-backend.js';

/**
 * The tensor form of normalizedPrefix (src/core/prefix.ts): each row of x[:, :m] divided by its
 * norm (truncate first, then normalise), so cosine at prefix m is a dot product. A zero prefix
 * stays zero (the norm is floored at 1e-12).
 */
export function normalizedPrefixTensor(x: tf.Tensor2D, m: number): tf.Tensor2D {
  const p = m === x.shape[1] ? x : x.slice([0, 0], [-1, m]);
  return p.div(p.norm('euclidean', 1, true).maximum(1e-12));
}
