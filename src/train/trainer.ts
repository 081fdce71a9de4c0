import { tf } from '../encoders/tf-backend.js';
import { FASHION_CLASSES, type ImageSplit } from '../data/fashion-mnist.js';
import { MlpEncoder, type MlpSpec } from './mlp.js';
import { createHeads, disposeHeads, headTensors, type HeadSet, type Objective } from '../encoders/heads.js';
import { mrlLoss } from './mrl-loss.js';
import { mulberry32, shuffleInPlace, subSeed } from '../core/rng.js';
import { epochProgress } from './progress.js';
import { cosineLearningRate, ScheduledAdam } from './lr-schedule.js';

const NUM_CLASSES = FASHION_CLASSES.length;

export interface TrainOptions {
  objective: Objective;
  spec: MlpSpec;
  /** Nesting dims, ascending, last = spec.dim ('fixed': just [spec.dim]). */
  nesting: number[];
  /** c_m per nesting dim (default 1 each). */
  lossWeights?: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Progress bar on stderr. */
  progress: boolean;
  /** Stop after this many steps in total (tests). */
  maxSteps?: number;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
  seconds: number;
}

export interface TrainedModel {
  encoder: MlpEncoder;
  heads: HeadSet;
  history: EpochStats[];
  steps: number;
  /** Wall time of the training loop alone (no data loading, saving or evaluation). */
  seconds: number;
  dispose(): void;
}

export function checkNesting(objective: Objective, nesting: number[], dim: number): void {
  const ok = nesting.length > 0 && nesting.every((m, i) => Number.isInteger(m) && m >= 1 && (i === 0 || m > nesting[i - 1]));
  if (!ok || nesting[nesting.length - 1] !== dim) throw new Error(`nesting ${JSON.stringify(nesting)} must ascend and end at dim ${dim}`);
  if (objective === 'fixed' && nesting.length !== 1) throw new Error(`a fixed-feature model has one dim, got ${nesting.length}`);
}

/** Copies the images at `idx` into one float batch [n, rows, cols] of raw 0..255 values. */
function gatherBatch(data: ImageSplit, idx: Uint32Array): { x: tf.Tensor3D; yIdx: tf.Tensor1D } {
  const px = data.rows * data.cols;
  const xs = new Float32Array(idx.length * px);
  const ys = new Int32Array(idx.length);
  idx.forEach((j, i) => {
    xs.set(data.images.subarray(j * px, (j + 1) * px), i * px);
    ys[i] = data.labels[j];
  });
  return { x: tf.tensor3d(xs, [idx.length, data.rows, data.cols]), yIdx: tf.tensor1d(ys, 'int32') };
}

/**
 * Trains encoder + heads with Adam (cosine-decayed learning rate) on the MRL loss, or its MRL-E /
 * fixed-feature variants (the objective only changes the heads). Seeded: `seed` drives weight
 * init and the per-epoch shuffles.
 */
export async function trainMrl(data: ImageSplit, opts: TrainOptions): Promise<TrainedModel> {
  checkNesting(opts.objective, opts.nesting, opts.spec.dim);
  const initRand = mulberry32(subSeed(opts.seed, 'init'));
  const shuffleRand = mulberry32(subSeed(opts.seed, 'shuffle'));
  const encoder = new MlpEncoder(opts.spec, initRand);
  const heads = createHeads(opts.objective, opts.nesting, NUM_CLASSES, initRand);
  const optimizer = new ScheduledAdam(opts.learningRate);
  const varList = [...encoder.variables, ...(headTensors(heads) as tf.Variable[])];
  const order = new Uint32Array(data.count).map((_, i) => i);
  const history: EpochStats[] = [];
  const t0 = performance.now();
  let steps = 0;
  const batches = Math.ceil(data.count / opts.batchSize);
  const totalSteps = Math.min(opts.maxSteps ?? Infinity, batches * opts.epochs);
  try {
    for (let epoch = 1; epoch <= opts.epochs && !(opts.maxSteps !== undefined && steps >= opts.maxSteps); epoch++) {
      const te = performance.now();
      shuffleInPlace(order, shuffleRand);
      const bar = epochProgress(epoch, opts.epochs, batches, opts.progress);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        if (opts.maxSteps !== undefined && steps >= opts.maxSteps) break;
        const idx = order.subarray(b * opts.batchSize, Math.min(data.count, (b + 1) * opts.batchSize));
        const { x, yIdx } = gatherBatch(data, idx);
        optimizer.setLearningRate(cosineLearningRate(opts.learningRate, steps, totalSteps));
        let hits: tf.Scalar | undefined;
        const loss = optimizer.minimize(
          (): tf.Scalar => {
            const z = encoder.forward(x);
            const out = mrlLoss(heads, z, tf.oneHot(yIdx, NUM_CLASSES).toFloat() as tf.Tensor2D, opts.lossWeights);
            const top = out.logits[out.logits.length - 1];
            hits = tf.keep(tf.sum<tf.Scalar>(tf.cast(tf.equal(tf.argMax(top, 1), yIdx), 'float32')));
            return out.loss;
          },
          true,
          varList,
        )!;
        lossSum += (await loss.data())[0] * idx.length;
        correct += (await hits!.data())[0];
        seen += idx.length;
        tf.dispose([x, yIdx, loss, hits!]);
        steps++;
        bar.update(b + 1, lossSum / seen, correct / seen);
      }
      bar.stop();
      history.push({ epoch, loss: lossSum / seen, accuracy: correct / seen, seconds: (performance.now() - te) / 1000 });
    }
  } catch (err) {
    encoder.dispose();
    disposeHeads(heads);
    throw err;
  } finally {
    optimizer.dispose();
  }
  return {
    encoder,
    heads,
    history,
    steps,
    seconds: (performance.now() - t0) / 1000,
    dispose() {
      encoder.dispose();
      disposeHeads(heads);
    },
  };
}
