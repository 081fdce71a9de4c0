import { tf } from '../encoders/tf-backend.js';
import { glorotUniform } from '../core/rng.js';
import { denseLinear, denseLinearNoInputGrad, denseRelu, denseReluNoInputGrad } from '../encoders/dense-op.js';

/** The image encoder: raw pixels 0..255 → ×1/255 → flatten → [Dense+ReLU]* → Dense(dim), no activation. */
export interface MlpSpec {
  /** Image rows × cols (28×28 for Fashion-MNIST). */
  inputShape: [number, number];
  /** Hidden layer widths (ReLU). */
  hidden: number[];
  /** Embedding dimension D (the last, linear layer). */
  dim: number;
}

/** Pixel scaling, shared with the saved model's Rescaling layer. */
export const PIXEL_SCALE = 1 / 255;

interface DenseParams {
  kernel: tf.Variable<tf.Rank.R2>;
  bias: tf.Variable<tf.Rank.R1>;
}

/**
 * The encoder's weights as plain TF.js variables with a training forward; `toLayersModel()`
 * builds the equivalent tfjs-layers model (the one that is saved and served).
 */
export class MlpEncoder {
  readonly spec: MlpSpec;
  readonly layers: DenseParams[];

  constructor(spec: MlpSpec, rand: () => number) {
    this.spec = spec;
    const widths = [spec.inputShape[0] * spec.inputShape[1], ...spec.hidden, spec.dim];
    this.layers = [];
    for (let i = 0; i + 1 < widths.length; i++) {
      const [fanIn, fanOut] = [widths[i], widths[i + 1]];
      const kernel = glorotUniform(fanIn, fanOut, rand);
      // tidy: tf.variable keeps its own handle on the data; the initial tensor must go.
      this.layers.push(
        tf.tidy(() => ({
          kernel: tf.variable(tf.tensor2d(kernel, [fanIn, fanOut]), true, `mlp/dense_${i}/kernel`),
          bias: tf.variable(tf.zeros<tf.Rank.R1>([fanOut]), true, `mlp/dense_${i}/bias`),
        })),
      );
    }
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.kernel, l.bias]);
  }

  /** Pixels [B, rows, cols] (0..255) → embeddings [B, dim]; the same ops a loaded model runs. */
  forward(pixels: tf.Tensor3D): tf.Tensor2D {
    const [rows, cols] = this.spec.inputShape;
    // Rescaling layer: add(mul(x, scale), offset); kept op for op so embeddings match exactly.
    let h = tf.add(tf.mul(pixels, PIXEL_SCALE), 0).reshape<tf.Tensor2D>([-1, rows * cols]);
    const last = this.layers.length - 1;
    this.layers.forEach((l, i) => {
      const first = i === 0;
      const op = i === last ? (first ? denseLinearNoInputGrad : denseLinear) : first ? denseReluNoInputGrad : denseRelu;
      h = op(h, l.kernel, l.bias);
    });
    return h;
  }

  /** The same network as a tfjs-layers model holding copies of the current weights. */
  toLayersModel(name = 'mlp'): tf.LayersModel {
    const [rows, cols] = this.spec.inputShape;
    const model = tf.sequential({ name });
    model.add(tf.layers.rescaling({ inputShape: [rows, cols], scale: PIXEL_SCALE, offset: 0, name: 'rescale' }));
    model.add(tf.layers.flatten({ name: 'flatten' }));
    this.layers.forEach((l, i) => {
      const units = l.kernel.shape[1];
      const activation = i === this.layers.length - 1 ? 'linear' : 'relu';
      model.add(tf.layers.dense({ units, activation, name: i === this.layers.length - 1 ? 'embedding' : `hidden_${i}` }));
    });
    model.setWeights(this.layers.flatMap((l) => [l.kernel, l.bias]));
    return model;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
