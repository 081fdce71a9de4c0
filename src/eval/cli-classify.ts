import { parseOptions, UsageError } from '../cli/usage.js';
import { loadConfig } from '../config.js';
import { EncoderRegistry } from '../encoders/registry.js';
import { initTf } from '../encoders/tf-backend.js';
import { classifierFor, headProbabilities } from '../encoders/classify-cascade.js';
import { FASHION_MNIST_DIR, loadSplit } from '../data/fashion-mnist.js';
import { cascadeSweep, dimsForAccuracy, fixedDimAccuracy, type CascadePoint } from './classify.js';
import type { DimProbs } from '../core/classify-rule.js';

export const CLASSIFY_EVAL_USAGE = `usage: mrl eval --classify [--model fashion-mrl] [--data ${FASHION_MNIST_DIR}]
                 [--thresholds 0.5,0.6,...] [--limit N] [--json]
  Adaptive classification (the MRL paper's cascade) on the Fashion-MNIST test split (t10k files in --data):
  accuracy of each head alone, then of the cascade (smallest head first, next head while the max
  softmax probability is not above the threshold) against the mean dims it uses.`;

const DEFAULT_THRESHOLDS = [0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999, 1];
/** Accuracy targets below the largest head's: "x× smaller at equal accuracy, or within 0.1% / 0.5%". */
const TARGET_SLACK = [0, 0.001, 0.005];
const EMBED_CHUNK = 1000;

function parse(argv: string[]) {
  const values = parseOptions(argv, {
    classify: { type: 'boolean' },
    model: { type: 'string' },
    data: { type: 'string' },
    thresholds: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  const thresholds =
    values.thresholds === undefined
      ? DEFAULT_THRESHOLDS
      : values.thresholds.split(',').map((s) => {
          const t = s.trim() === '' ? Number.NaN : Number(s);
          if (!(t >= 0 && t <= 1)) throw new UsageError(`--thresholds: '${s}' is not a number in [0, 1]`);
          return t;
        });
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit === Infinity || (Number.isInteger(limit) && limit > 0)))
    throw new UsageError(`--limit must be a positive integer, got '${values.limit}'`);
  return { model: values.model ?? 'fashion-mrl', data: values.data ?? FASHION_MNIST_DIR, thresholds, limit, json: values.json === true };
}

export interface ClassifyEvalReport {
  model: string;
  examples: number;
  /** The largest head dim: the "full D" the ratios compare against. */
  fullDims: number;
  fixed: { dims: number; accuracy: number }[];
  sweep: CascadePoint[];
  /** For each target (the largest head's accuracy, minus slack): the cheapest sweep point reaching it. */
  targets: { slack: number; target: number; point: CascadePoint | null; smaller: number | null }[];
  seconds: number;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

function formatReport(r: ClassifyEvalReport): string {
  const lines = [`${r.model}: adaptive classification on ${r.examples} test images (full D = ${r.fullDims})`, '', 'fixed head   accuracy'];
  for (const f of r.fixed) lines.push(`${String(f.dims).padStart(10)}   ${pct(f.accuracy).padStart(8)}`);
  lines.push('', ' threshold   accuracy   mean dims   D/mean');
  for (const p of r.sweep) {
    lines.push(
      `${String(p.threshold).padStart(10)}   ${pct(p.accuracy).padStart(8)}   ${p.meanDims.toFixed(1).padStart(9)}   ${(r.fullDims / p.meanDims).toFixed(1).padStart(5)}×`,
    );
  }
  lines.push('');
  for (const t of r.targets) {
    const what = t.slack === 0 ? `full-D accuracy ${pct(t.target)}` : `full-D accuracy − ${(100 * t.slack).toFixed(1)}% = ${pct(t.target)}`;
    lines.push(
      t.point === null
        ? `${what}: not reached by any swept threshold`
        : `${what} reached at threshold ${t.point.threshold}: ${pct(t.point.accuracy)} at mean dims ${t.point.meanDims.toFixed(1)} = ${r.fullDims}/${t.point.meanDims.toFixed(1)} = ${t.smaller!.toFixed(1)}× smaller`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Embeds the test split, runs every head once, then sweeps the cascade's threshold on those tables. */
async function evaluate(o: ReturnType<typeof parse>): Promise<ClassifyEvalReport> {
  const t0 = performance.now();
  const config = loadConfig();
  await initTf(config.tfBackend);
  const encoders = new EncoderRegistry(config.modelsDir);
  try {
    const enc = await classifierFor(encoders, o.model);
    const test = loadSplit(o.data, 't10k', o.limit);
    const [rows, cols] = enc.manifest.input.kind === 'image' ? enc.manifest.input.shape : [0, 0];
    if (test.rows !== rows || test.cols !== cols)
      throw new Error(`${o.data}: images are ${test.rows}×${test.cols}, ${o.model} takes ${rows}×${cols}`);
    if (test.count === 0) throw new Error(`${o.data}: the t10k split is empty`);
    const dims = [...enc.headDims];
    const px = rows * cols;
    const parts: DimProbs[][] = [];
    for (let start = 0; start < test.count; start += EMBED_CHUNK) {
      const n = Math.min(EMBED_CHUNK, test.count - start);
      const images = Array.from({ length: n }, (_, i) =>
        Array.from({ length: rows }, (_, r) => {
          const at = (start + i) * px + r * cols;
          return Array.from(test.images.subarray(at, at + cols));
        }),
      );
      parts.push(headProbabilities(enc, await enc.embed(images), dims));
    }
    const numClasses = parts[0][0].probs.length / Math.min(EMBED_CHUNK, test.count);
    const byDim: DimProbs[] = dims.map((d, k) => {
      const probs = new Float32Array(test.count * numClasses);
      let at = 0;
      for (const p of parts) {
        probs.set(p[k].probs, at);
        at += p[k].probs.length;
      }
      return { dims: d, probs };
    });
    const labels = Array.from(test.labels);
    const fixed = fixedDimAccuracy(byDim, numClasses, labels);
    const sweep = cascadeSweep(byDim, numClasses, labels, o.thresholds);
    const fullDims = dims[dims.length - 1];
    const full = fixed[fixed.length - 1].accuracy;
    const targets = TARGET_SLACK.map((slack) => {
      const point = dimsForAccuracy(sweep, full - slack);
      return { slack, target: full - slack, point, smaller: point ? fullDims / point.meanDims : null };
    });
    return { model: o.model, examples: test.count, fullDims, fixed, sweep, targets, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await encoders.dispose();
  }
}

/** `mrl eval --classify`: the adaptive classification table for a model with heads. */
export async function runClassifyEval(argv: string[]): Promise<number> {
  const o = parse(argv); // a UsageError goes to the CLI, which prints it with the eval usage
  try {
    const report = await evaluate(o);
    process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return 0;
  } catch (err) {
    process.stderr.write(`mrl eval --classify: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
