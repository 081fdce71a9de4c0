import { mrlError } from '../errors.js';
import { argMax, checkThreshold, isConfident, type DimProbs } from '../core/classify-rule.js';

/**
 * Adaptive classification, as in the MRL paper (Kusupati et al. 2022): predict with the
 * smallest nesting dim's head; while its max softmax probability does not exceed a threshold,
 * move on to the next dim; the largest dim always answers. Pure: probability tables in, figures out.
 */

export interface CascadePoint {
  threshold: number;
  accuracy: number;
  meanDims: number;
}

const ROW_SUM_TOLERANCE = 1e-3;

/** Checks the tables (dims ascending, equal row counts, rows that are probability vectors) and returns n. */
function checkTables(byDim: DimProbs[], numClasses: number): number {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw mrlError('VALIDATION', `numClasses: ${numClasses} is not a positive integer`);
  if (!Array.isArray(byDim) || byDim.length === 0) throw mrlError('VALIDATION', 'byDim: expected at least one head');
  const n = (byDim[0]?.probs?.length ?? Number.NaN) / numClasses;
  byDim.forEach(({ dims, probs }, k) => {
    if (!Number.isInteger(dims) || dims < 1) throw mrlError('VALIDATION', `byDim[${k}].dims: ${dims} is not a positive integer`);
    if (k > 0 && dims <= byDim[k - 1].dims)
      throw mrlError('VALIDATION', `byDim: dims must ascend strictly (${byDim[k - 1].dims} then ${dims})`);
    if (!(probs instanceof Float32Array) || probs.length !== n * numClasses || !Number.isInteger(n)) {
      throw mrlError(
        'VALIDATION',
        `byDim[${k}].probs: expected ${Number.isInteger(n) ? n : '?'} rows × ${numClasses} classes, got ${probs?.length} values`,
      );
    }
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let c = 0; c < numClasses; c++) {
        const p = probs[i * numClasses + c];
        if (!(p >= 0 && p <= 1)) throw mrlError('VALIDATION', `byDim[${k}].probs row ${i}: ${p} is not a probability`);
        sum += p;
      }
      if (Math.abs(sum - 1) > ROW_SUM_TOLERANCE) throw mrlError('VALIDATION', `byDim[${k}].probs row ${i}: sums to ${sum}, not 1`);
    }
  });
  return n;
}

function checkLabels(labels: ArrayLike<number>, n: number, numClasses: number): void {
  if (labels.length !== n) throw mrlError('VALIDATION', `labels: ${labels.length} labels for ${n} rows`);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses)
      throw mrlError('VALIDATION', `labels[${i}]: ${y} is not a class index 0..${numClasses - 1}`);
  }
}

/** Each row's argmax and max probability at every head, computed once: [k * n + i]. */
function maxima(byDim: DimProbs[], n: number, numClasses: number): { index: Int32Array; value: Float32Array } {
  const index = new Int32Array(byDim.length * n);
  const value = new Float32Array(byDim.length * n);
  byDim.forEach(({ probs }, k) => {
    for (let i = 0; i < n; i++) {
      const m = argMax(probs, i * numClasses, numClasses);
      index[k * n + i] = m.index;
      value[k * n + i] = m.value;
    }
  });
  return { index, value };
}

type Maxima = ReturnType<typeof maxima>;

/** Runs the cascade on precomputed maxima: the head index `k` at which each row stops. */
function stops(m: Maxima, heads: number, n: number, threshold: number): Int32Array {
  const stop = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let k = 0;
    while (k < heads - 1 && !isConfident(m.value[k * n + i], threshold)) k++;
    stop[i] = k;
  }
  return stop;
}

/** The cascade over byDim (ascending dims): per row the predicted class, its probability, and the dim that answered. */
export function cascade(
  byDim: DimProbs[],
  numClasses: number,
  threshold: number,
): { predictions: Int32Array; confidence: Float32Array; dimsUsed: Int32Array } {
  checkThreshold(threshold);
  const n = checkTables(byDim, numClasses);
  const m = maxima(byDim, n, numClasses);
  const stop = stops(m, byDim.length, n, threshold);
  const predictions = new Int32Array(n);
  const confidence = new Float32Array(n);
  const dimsUsed = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const at = stop[i] * n + i;
    predictions[i] = m.index[at];
    confidence[i] = m.value[at];
    dimsUsed[i] = byDim[stop[i]].dims;
  }
  return { predictions, confidence, dimsUsed };
}

/** Accuracy and mean dims used at each threshold (the paper's accuracy vs. expected representation size). */
export function cascadeSweep(byDim: DimProbs[], numClasses: number, labels: ArrayLike<number>, thresholds: number[]): CascadePoint[] {
  thresholds.forEach((t, j) => checkThreshold(t, `thresholds[${j}]`));
  const n = checkTables(byDim, numClasses);
  checkLabels(labels, n, numClasses);
  if (n === 0) throw mrlError('VALIDATION', 'byDim: no rows to evaluate');
  const m = maxima(byDim, n, numClasses);
  return thresholds.map((threshold) => {
    const stop = stops(m, byDim.length, n, threshold);
    let correct = 0;
    let dims = 0;
    for (let i = 0; i < n; i++) {
      if (m.index[stop[i] * n + i] === labels[i]) correct++;
      dims += byDim[stop[i]].dims;
    }
    return { threshold, accuracy: correct / n, meanDims: dims / n };
  });
}

/** Top-1 accuracy of each head on its own. */
export function fixedDimAccuracy(byDim: DimProbs[], numClasses: number, labels: ArrayLike<number>): { dims: number; accuracy: number }[] {
  const n = checkTables(byDim, numClasses);
  checkLabels(labels, n, numClasses);
  if (n === 0) throw mrlError('VALIDATION', 'byDim: no rows to evaluate');
  return byDim.map(({ dims, probs }) => {
    let correct = 0;
    for (let i = 0; i < n; i++) if (argMax(probs, i * numClasses, numClasses).index === labels[i]) correct++;
    return { dims, accuracy: correct / n };
  });
}

/**
 * The smallest mean dims at which a sweep point reaches `target` accuracy (or null): for
 * "x× smaller at equal accuracy". Ties on mean dims go to the more accurate point.
 */
export function dimsForAccuracy(points: CascadePoint[], target: number): CascadePoint | null {
  if (!Number.isFinite(target)) throw mrlError('VALIDATION', `target: ${target} is not a finite accuracy`);
  let best: CascadePoint | null = null;
  for (const p of points) {
    if (!(p.accuracy >= target)) continue;
    if (best === null || p.meanDims < best.meanDims || (p.meanDims === best.meanDims && p.accuracy > best.accuracy)) best = p;
  }
  return best;
}
