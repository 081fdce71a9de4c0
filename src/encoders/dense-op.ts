import { tf } from './tf-backend.js';

export type DenseActivation = 'relu' | 'linear';

/**
 * A dense layer `act(x·W + b)` with a hand-written gradient.
 *
 * Why: the forward is `tf.fused.matMul`, exactly what a tfjs-layers Dense layer runs, so the
 * trainer's embeddings equal the saved model's bit for bit. The gradient avoids transposed
 * matMuls: on the wasm backend `matMul(a, b, transposeA/B)` (what TF.js's own gradient uses)
 * takes a slow path, 10–13× slower than transposing first and multiplying plainly.
 * With `inputGrad: false` the gradient for x is zeros (skips one matMul: the first layer's input
 * is data, not a variable).
 */
export function makeDense(activation: DenseActivation, inputGrad = true) {
  return tf.customGrad<tf.Tensor2D>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const y = tf.fused.matMul({ a: x, b: w, bias: b, activation }) as tf.Tensor2D;
    save(activation === 'relu' ? [x, w, y] : [x, w]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sx, sw, sy] = saved;
        let g = dy;
        if (activation === 'relu') g = tf.mul<tf.Tensor2D>(g, tf.step(sy));
        const dx = inputGrad ? tf.matMul(g, tf.transpose(sw as tf.Tensor2D)) : tf.zerosLike(sx);
        const dw = tf.matMul(tf.transpose(sx as tf.Tensor2D), g);
        const db = tf.sum(g, 0);
        return [dx, dw, db];
      },
    };
  }) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
}

export const denseRelu = makeDense('relu');
export const denseReluNoInputGrad = makeDense('relu', false);
export const denseLinear = makeDense('linear');
export const denseLinearNoInputGrad = makeDense('linear', false);
