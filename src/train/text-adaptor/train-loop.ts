import { mulberry32, shuffleInPlace } from '../../core/rng.js';
import { tf } from '../../encoders/tf-backend.js';
import { USE_DIM } from '../../encoders/use-lite.js';
import { adaptorLoss, type LossOptions } from './loss.js';
import type { Heads } from './model.js';

/** Adam whose learning rate can be lowered between steps (tfjs keeps it protected). */
class DecayingAdam extends tf.AdamOptimizer {
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

export interface TrainOptions extends LossOptions {
  /** Keep the linear skip at its initial value (e.g. the principal axes). */
  freezeSkip?: boolean;
  epochs: number;
  batch: number;
  learningRate: number;
  /** Learning rate of the classification heads. */
  headLearningRate: number;
  seed: number;
  onEpoch?: (epoch: number, loss: number, seconds: number) => void;
}

/**
 * Adam on the adaptor and (with its own rate) on the heads; seeded shuffles, fixed batch size (the last partial batch
 * of each epoch is dropped), learning rate decayed linearly to 10% over the run.
 */
export async function trainAdaptor(
  model: tf.LayersModel,
  heads: Heads,
  x: Float32Array,
  y: Int32Array,
  classes: number,
  o: TrainOptions,
): Promise<{ seconds: number; losses: number[] }> {
  const n = y.length;
  const batch = Math.min(o.batch, n);
  const steps = Math.floor(n / batch);
  // The heads start from scratch on features of scale ~0.05 (unit-norm USE, rotated): they get
  // their own, larger learning rate, the adaptor a small one (it starts at the PCA solution).
  const optimizer = new DecayingAdam(o.learningRate, 0.9, 0.999);
  const headOptimizer = new DecayingAdam(o.headLearningRate, 0.9, 0.999);
  const weights = model.trainableWeights.filter((w) => !(o.freezeSkip && w.originalName.startsWith('skip/')));
  const adaptorVars = weights.map((w) => w.read()) as tf.Variable[];
  const headVars = [...heads.kernels, ...heads.biases];
  const random = mulberry32(o.seed);
  const order = Array.from({ length: n }, (_, i) => i);
  const rowsX = new Float32Array(batch * USE_DIM);
  const rowsY = new Int32Array(batch);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    shuffleInPlace(order, random);
    let sum = 0;
    for (let s = 0; s < steps; s++) {
      const decay = 1 - (0.9 * (epoch * steps + s)) / (o.epochs * steps);
      optimizer.setLearningRate(o.learningRate * decay);
      headOptimizer.setLearningRate(o.headLearningRate * decay);
      for (let i = 0; i < batch; i++) {
        const r = order[s * batch + i];
        rowsX.set(x.subarray(r * USE_DIM, (r + 1) * USE_DIM), i * USE_DIM);
        rowsY[i] = y[r];
      }
      const loss = tf.tidy(() => {
        const u = tf.tensor2d(rowsX, [batch, USE_DIM]);
        const labels = tf.oneHot(tf.tensor1d(rowsY, 'int32'), classes).toFloat() as tf.Tensor2D;
        const { value, grads } = tf.variableGrads(() => adaptorLoss(model, heads, u, labels, o), [...adaptorVars, ...headVars]);
        optimizer.applyGradients(adaptorVars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        headOptimizer.applyGradients(headVars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        return value;
      });
      sum += (await loss.data())[0];
      loss.dispose();
    }
    losses.push(sum / steps);
    o.onEpoch?.(epoch + 1, sum / steps, (performance.now() - t0) / 1000);
  }
  optimizer.dispose();
  headOptimizer.dispose();
  return { seconds: (performance.now() - t0) / 1000, losses };
}
