import { tf } from '../../encoders/tf-backend.js';

/**
 * a·b with a gradient that also uses plain (untransposed) products. tfjs-backend-wasm 4.22
 * sends matMul with a transpose flag to a slow loop (~0.7 GFLOP/s here, against ~10 for the
 * XNNPACK path), and tf.matMul's own gradient uses those flags; an explicit transpose (a copy)
 * followed by a plain product is about 15x faster.
 */
const matMulNNGrad = (a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor2D, [sa, sb]: tf.Tensor[]) => [
      tf.matMul(dy, sb.transpose<tf.Tensor2D>()),
      tf.matMul(sa.transpose<tf.Tensor2D>(), dy),
    ],
  };
};
export const matMulNN = tf.customGrad(matMulNNGrad as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
  a: tf.Tensor2D,
  b: tf.Tensor2D,
) => tf.Tensor2D;
