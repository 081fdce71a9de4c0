import { classifyAtDim, embedPixels } from '../encoders/image-encoder.js';
import { loadLayersModelFromDir } from '../encoders/model-files.js';
import type { HeadSet } from '../encoders/heads.js';
import type { ImageSplit } from '../data/fashion-mnist.js';
import { cascade as runCascade, cascadeSweep, dimsForAccuracy, fixedDimAccuracy } from '../eval/classify.js';
import { argMax, isConfident, type DimProbs } from '../core/classify-rule.js';
import { summarise } from '../core/stats.js';
import type { LatencyFigures } from '../eval/types.js';
import type { ClassificationFigures, HeadAccuracy } from './types.js';

/** Cascade settings timed one query at a time (besides those that reach the targets). */
const LATENCY_THRESHOLDS = [0.5, 0.9, 0.99];
export const THRESHOLDS = [0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999, 1];

function latencyFigures(ms: Float64Array): LatencyFigures {
  const { p50, p99, mean } = summarise(
    ms,
    ms.reduce((a, b) => a + b, 0),
  );
  return { p50, p99, mean };
}

/** n rows of `dim` values as views (classifyAtDim takes one array per embedding). */
function rowsOf(z: Float32Array, n: number, dim: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => z.subarray(i * dim, (i + 1) * dim));
}

/** Softmax probabilities of every head, n × C each (row-major), through classifyAtDim. */
export function probsByDim(heads: HeadSet, z: Float32Array, n: number, dim: number, chunk = 2000): DimProbs[] {
  const rows = rowsOf(z, n, dim);
  const C = heads.numClasses;
  return heads.dims.map((m) => {
    const probs = new Float32Array(n * C);
    for (let s = 0; s < n; s += chunk) classifyAtDim(heads, rows.slice(s, s + chunk), m).forEach((p, i) => probs.set(p, (s + i) * C));
    return { dims: m, probs };
  });
}

export interface FixedModelHeads {
  model: string;
  heads: HeadSet;
  queries: Float32Array;
  dim: number;
}

export interface ClassificationInput {
  modelName: string;
  modelDir: string;
  heads: HeadSet;
  queries: Float32Array;
  dim: number;
  labels: ArrayLike<number>;
  /** The test images (for the encoder's per-image latency). */
  images: ImageSplit;
  fixed: FixedModelHeads[];
  latencySample: number;
}

/**
 * Adaptive classification (MRL paper §4.2.2) on the test split: the cascade's accuracy against
 * mean dims over a threshold sweep, each head alone, the fixed-feature models' heads, and how
 * small the cascade gets at the accuracy of the full-dim heads.
 */
export async function classificationFigures(inp: ClassificationInput): Promise<ClassificationFigures> {
  const t0 = performance.now();
  const n = inp.labels.length;
  const C = inp.heads.numClasses;
  const byDim = probsByDim(inp.heads, inp.queries, n, inp.dim);
  const cascade = cascadeSweep(byDim, C, inp.labels, THRESHOLDS);
  // A row that stops at head m has computed every head up to m: 2·C·Σ_{m' ≤ m} m' FLOPs.
  const cumulative = new Map(inp.heads.dims.map((m) => [m, 2 * C * inp.heads.dims.filter((x) => x <= m).reduce((a, b) => a + b, 0)]));
  const headFlops = THRESHOLDS.map((threshold) => {
    const { dimsUsed } = runCascade(byDim, C, threshold);
    let f = 0;
    for (const d of dimsUsed) f += cumulative.get(d) as number;
    return { threshold, meanHeadFlops: f / dimsUsed.length };
  });
  const mrlHeads: HeadAccuracy[] = fixedDimAccuracy(byDim, C, inp.labels).map((h) => ({ model: inp.modelName, ...h }));
  const fixedHeads: HeadAccuracy[] = inp.fixed.map((f) => {
    const [acc] = fixedDimAccuracy(probsByDim(f.heads, f.queries, n, f.dim), f.heads.numClasses, inp.labels);
    return { model: f.model, dims: acc.dims, accuracy: acc.accuracy };
  });
  const full = mrlHeads[mrlHeads.length - 1];
  const targets = [
    { name: `${inp.modelName} head at ${full.dims}`, accuracy: full.accuracy },
    { name: `${inp.modelName} head at ${full.dims} − 0.1 point`, accuracy: full.accuracy - 0.001 },
    ...fixedHeads.filter((f) => f.dims === full.dims).map((f) => ({ name: `${f.model} head`, accuracy: f.accuracy })),
  ].map((t) => {
    const point = dimsForAccuracy(cascade, t.accuracy);
    return { ...t, point, ratio: point ? full.dims / point.meanDims : null };
  });
  const chosen = targets.map((t) => t.point?.threshold).filter((t): t is number => t !== undefined);
  const latency = await cascadeLatency(
    inp,
    [...new Set([...chosen, ...LATENCY_THRESHOLDS])].sort((a, b) => a - b),
  );
  const encoderFlops = await encoderFlopsOf(inp.modelDir);
  return {
    model: inp.modelName,
    examples: n,
    numClasses: C,
    thresholds: THRESHOLDS,
    cascade,
    headFlops,
    mrlHeads,
    fixedHeads,
    targets,
    latency,
    flops: { encoder: encoderFlops, headPerDim: 2 * C },
    ms: performance.now() - t0,
  };
}

/**
 * Per-query latency, one query at a time as a server would answer it: the encoder on one image,
 * then heads from the smallest dim up through classifyAtDim until one is confident. Reported for
 * the encoder alone, the largest head alone, and the cascade at the given thresholds.
 */
async function cascadeLatency(inp: ClassificationInput, thresholds: number[]): Promise<ClassificationFigures['latency']> {
  const sample = Math.min(inp.latencySample, inp.labels.length);
  const rows = rowsOf(inp.queries, sample, inp.dim);
  const dims = inp.heads.dims;
  const out: ClassificationFigures['latency'] = [];
  const model = await loadLayersModelFromDir(inp.modelDir);
  const { rows: r, cols: c } = inp.images;
  try {
    const enc = new Float64Array(sample);
    for (let i = -20; i < sample; i++) {
      const j = Math.max(0, i);
      const t = performance.now();
      await embedPixels(model, inp.images.images.subarray(j * r * c, (j + 1) * r * c), 1, r, c);
      if (i >= 0) enc[i] = performance.now() - t;
    }
    out.push({ what: 'encoder alone (one image)', sample, threshold: null, meanDims: 0, latencyMs: latencyFigures(enc) });
  } finally {
    model.dispose();
  }
  const runs: { what: string; threshold: number | null; heads: number[] }[] = [
    { what: `head at ${dims[dims.length - 1]} alone`, threshold: null, heads: [dims[dims.length - 1]] },
    ...[...new Set(thresholds)].map((t) => ({ what: `cascade, threshold ${t}`, threshold: t, heads: dims })),
  ];
  for (const run of runs) {
    const lat = new Float64Array(sample);
    let used = 0;
    for (let i = -20; i < sample; i++) {
      const row = rows[Math.max(0, i)];
      const t = performance.now();
      let m = run.heads[0];
      for (const d of run.heads) {
        m = d;
        const [p] = classifyAtDim(inp.heads, [row], d);
        if (run.threshold === null || isConfident(argMax(p, 0, p.length).value, run.threshold)) break;
      }
      if (i >= 0) {
        lat[i] = performance.now() - t;
        used += m;
      }
    }
    out.push({ what: run.what, sample, threshold: run.threshold, meanDims: used / sample, latencyMs: latencyFigures(lat) });
  }
  return out;
}

/** Multiply-adds × 2 of the encoder's dense layers for one image (from the saved model's kernels). */
async function encoderFlopsOf(dir: string): Promise<number> {
  const model = await loadLayersModelFromDir(dir);
  try {
    return model.layers.reduce(
      (acc, l) =>
        acc +
        l
          .getWeights()
          .filter((w) => w.shape.length === 2)
          .reduce((a, w) => a + 2 * w.shape[0] * (w.shape[1] as number), 0),
      0,
    );
  } finally {
    model.dispose();
  }
}
