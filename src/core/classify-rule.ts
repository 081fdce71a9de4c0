import { mrlError } from '../errors.js';

/**
 * What a classification cascade needs at each head (MRL paper, section 4.2.2), shared by the
 * server's cascade (src/encoders/classify-cascade.ts) and the offline figures (src/eval/classify.ts).
 */

/** One head's softmax output: `probs` holds n rows of numClasses probabilities, row-major. */
export interface DimProbs {
  dims: number;
  probs: Float32Array;
}

/**
 * The acceptance rule: a head's prediction stands when its max probability is *above* the
 * threshold. Strict, so that both ends are exact: 0 always stops at the smallest head (a softmax
 * max is ≥ 1/C > 0) and 1 always reaches the largest (a float32 softmax can round to exactly 1).
 * Compared at float32, the probabilities' precision: a probability stored as fround(0.8) is not
 * above a threshold of 0.8.
 */
export function isConfident(maxProb: number, threshold: number): boolean {
  return maxProb > Math.fround(threshold);
}

/** Index and value of a row's largest probability (the first on ties, like Array#indexOf(max)). */
export function argMax(probs: ArrayLike<number>, offset: number, numClasses: number): { index: number; value: number } {
  let index = 0;
  let value = probs[offset];
  for (let c = 1; c < numClasses; c++) {
    if (probs[offset + c] > value) {
      value = probs[offset + c];
      index = c;
    }
  }
  return { index, value };
}

export function checkThreshold(threshold: number, field = 'threshold'): void {
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    throw mrlError('VALIDATION', `${field}: ${String(threshold)} is not a number in [0, 1]`, { field });
  }
}
