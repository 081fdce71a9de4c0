import { mulberry32 } from './rng.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from '../encoders/tf-backend.js';
import { USE_DIM, UseLite, useModelDir } from '../encoders/use-lite.js';

/** Bump when tokenisation or clipping changes, so cached embeddings are recomputed. */
const USE_CACHE_REV = 'use-lite-v1';
const CACHE_CHUNK = 1000;

async function useIdentity(): Promise<string> {
  const h = createHash('sha256').update(USE_CACHE_REV);
  for (const f of ['model.json', 'vocab.json']) h.update(await readFile(join(useModelDir(), f)));
  return h.digest('hex');
}

/**
 * USE embeddings of `texts` (n x 512, row-major), computed once and cached under `cacheDir` in
 * chunks of 1000 texts keyed by the model files and the chunk's texts: an interrupted run
 * resumes, and a changed corpus or model recomputes only what changed.
 */
export async function cachedUseEmbeddings(
  texts: string[],
  cacheDir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<Float32Array> {
  await mkdir(cacheDir, { recursive: true });
  const identity = await useIdentity();
  const out = new Float32Array(texts.length * USE_DIM);
  let use: UseLite | undefined;
  try {
    for (let start = 0; start < texts.length; start += CACHE_CHUNK) {
      const chunk = texts.slice(start, start + CACHE_CHUNK);
      const key = createHash('sha256').update(identity).update(chunk.join('\u0000')).digest('hex').slice(0, 32);
      const file = join(cacheDir, `use-${key}.f32`);
      if (existsSync(file)) {
        const buf = await readFile(file);
        if (buf.byteLength === chunk.length * USE_DIM * 4) {
          out.set(new Float32Array(buf.buffer, buf.byteOffset, chunk.length * USE_DIM), start * USE_DIM);
          onProgress?.(start + chunk.length, texts.length);
          continue;
        }
      }
      use ??= await UseLite.load();
      const rows = await use.embed(chunk, { onBatch: (d) => onProgress?.(start + d, texts.length) });
      const flat = new Float32Array(chunk.length * USE_DIM);
      rows.forEach((r, i) => flat.set(r, i * USE_DIM));
      await writeFile(`${file}.tmp`, Buffer.from(flat.buffer));
      await rename(`${file}.tmp`, file);
      out.set(flat, start * USE_DIM);
    }
  } finally {
    use?.dispose();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Split, model, loss, training
// ---------------------------------------------------------------------------------------------

/** Seeded PRNG (mulberry32): shuffles and subsets are reproducible from --seed. */
export const rng = mulberry32;

export function shuffle<T>(xs: T[], random: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/**
 * Splits by document, within each genre (so every genre is held out, and no document has
 * paragraphs on both sides): returns the documents held out.
 */
export function heldOutDocuments(items: { doc: string; genre: string }[], fraction: number, seed: number): Set<string> {
  const byGenre = new Map<string, Set<string>>();
  for (const { doc, genre } of items) {
    if (!byGenre.has(genre)) byGenre.set(genre, new Set());
    byGenre.get(genre)!.add(doc);
  }
  const random = rng(seed);
  const out = new Set<string>();
  for (const genre of [...byGenre.keys()].sort()) {
    const docs = shuffle([...byGenre.get(genre)!].sort(), random);
    const take = docs.length < 2 ? 0 : Math.max(1, Math.round(docs.length * fraction));
    for (const d of docs.slice(0, take)) out.add(d);
  }
  return out;
}

/**
 * Symmetric eigendecomposition: Householder reduction to tridiagonal form, then implicit QL
 * with shifts (Golub & Van Loan §8.3), in float64. `a` (n x n, row-major) is overwritten with
 * the eigenvectors as COLUMNS; returns the eigenvalues (unsorted).
 */
export function symmetricEigen(a: Float64Array, n: number): Float64Array {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  // Householder: for row i (from the last), reflect a[i][0..i-1] onto its last element.
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    const ri = i * n;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(a[ri + k]);
      if (scale === 0) {
        e[i] = a[ri + l];
      } else {
        for (let k = 0; k <= l; k++) {
          a[ri + k] /= scale;
          h += a[ri + k] * a[ri + k];
        }
        let f = a[ri + l];
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        a[ri + l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          a[j * n + i] = a[ri + j] / h;
          g = 0;
          for (let k = 0; k <= j; k++) g += a[j * n + k] * a[ri + k];
          for (let k = j + 1; k <= l; k++) g += a[k * n + j] * a[ri + k];
          e[j] = g / h;
          f += e[j] * a[ri + j];
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          const fj = a[ri + j];
          const gj = (e[j] -= hh * fj);
          const rj = j * n;
          for (let k = 0; k <= j; k++) a[rj + k] -= fj * e[k] + gj * a[ri + k];
        }
      }
    } else {
      e[i] = a[ri + l];
    }
    d[i] = h;
  }
  d[0] = 0;
  e[0] = 0;
  // Accumulate the reflections into the orthogonal matrix Q (overwrites a).
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    if (d[i] !== 0) {
      for (let j = 0; j < i; j++) {
        let g = 0;
        for (let k = 0; k < i; k++) g += a[ri + k] * a[k * n + j];
        for (let k = 0; k < i; k++) a[k * n + j] -= g * a[k * n + i];
      }
    }
    d[i] = a[ri + i];
    a[ri + i] = 1;
    for (let j = 0; j < i; j++) a[j * n + i] = a[ri + j] = 0;
  }
  // Implicit QL on the tridiagonal (d, e), rotations applied to the columns of Q.
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  // Negligible off-diagonal: below rounding of the matrix's largest entries (a global scale, so
  // clusters of tiny eigenvalues do not stall the iteration).
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]) + Math.abs(e[i]));
  const tiny = Number.EPSILON * norm;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        if (Math.abs(e[m]) <= tiny) break;
      }
      if (m === l) break;
      if (++iter > 60) throw new Error('symmetricEigen: no convergence');
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        for (let k = 0; k < n; k++) {
          const rk = k * n;
          const zf = a[rk + i + 1];
          a[rk + i + 1] = s * a[rk + i] + c * zf;
          a[rk + i] = c * a[rk + i] - s * zf;
        }
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d;
}

/**
 * Eigenvectors of the uncentred second moment E[u uᵀ] of the rows of `x` (n x d), ordered by
 * eigenvalue, as the columns of a d x d matrix: `x · R` puts the principal axes first, so each
 * prefix of the result is the best linear code of u of that length (Eckart–Young), i.e.
 * already nested ("Matryoshka") for linear maps.
 */
export function principalAxes(x: Float32Array, n: number, d: number): Float32Array {
  const second = tf.tidy(() => {
    const t = tf.tensor2d(x, [n, d]);
    return matMulNN(t.transpose(), t).div(n);
  });
  const a = Float64Array.from(second.dataSync());
  second.dispose();
  const values = symmetricEigen(a, d);
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => values[j] - values[i]);
  const r = new Float32Array(d * d);
  for (let row = 0; row < d; row++) for (let col = 0; col < d; col++) r[row * d + col] = a[row * d + order[col]];
  return r;
}

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
    gradFunc: (dy: tf.Tensor2D, [sa, sb]: tf.Tensor[]) => [tf.matMul(dy, sb.transpose() as tf.Tensor2D), tf.matMul(sa.transpose() as tf.Tensor2D, dy)],
  };
};
export const matMulNN = tf.customGrad(matMulNNGrad as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
  a: tf.Tensor2D,
  b: tf.Tensor2D,
) => tf.Tensor2D;

export interface AdaptorOptions {
  /** Width of the MLP branch. */
  hidden: number;
  seed: number;
  /** d x d initial kernel of the linear skip (e.g. principalAxes); identity when absent. */
  skipKernel?: Float32Array;
}

/**
 * The adaptor: z = u·R + W₂ relu(W₁u + b₁) + b₂, 512 -> 512. The linear skip R starts as the
 * principal axes of the training embeddings (so every prefix starts as the best linear code),
 * the MLP branch starts near zero and learns the non-linear correction.
 */
export function buildAdaptor(opts: AdaptorOptions): tf.LayersModel {
  const d = USE_DIM;
  const input = tf.input({ shape: [d], name: 'use' });
  const skip = tf.layers.dense({ units: d, useBias: false, name: 'skip', kernelInitializer: 'identity' }).apply(input) as tf.SymbolicTensor;
  const hidden = tf.layers
    .dense({ units: opts.hidden, activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.heNormal({ seed: opts.seed }) })
    .apply(input) as tf.SymbolicTensor;
  const branch = tf.layers
    .dense({ units: d, name: 'branch', kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 1e-3, seed: opts.seed + 1 }) })
    .apply(hidden) as tf.SymbolicTensor;
  const output = tf.layers.add({ name: 'mrl' }).apply([skip, branch]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: 'text_mrl_adaptor' });
  if (opts.skipKernel) tf.tidy(() => model.getLayer('skip').setWeights([tf.tensor2d(opts.skipKernel!, [d, d])]));
  return model;
}

function layerVariable(model: tf.LayersModel, layer: string, kind: 'kernel' | 'bias'): tf.Tensor2D {
  const w = model.getLayer(layer).trainableWeights.find((v) => v.originalName.endsWith(kind));
  if (!w) throw new Error(`adaptor layer '${layer}' has no ${kind}`);
  return w.read() as unknown as tf.Tensor2D;
}

/**
 * The same function as `model.apply(u)`, written with matMulNN over the model's own variables
 * (for training speed; test/unit/text-adaptor.test.ts checks that both agree).
 */
export function adaptorForward(model: tf.LayersModel, u: tf.Tensor2D): tf.Tensor2D {
  const h = tf.relu(matMulNN(u, layerVariable(model, 'hidden', 'kernel')).add(layerVariable(model, 'hidden', 'bias')));
  const branch = matMulNN(h as tf.Tensor2D, layerVariable(model, 'branch', 'kernel')).add(layerVariable(model, 'branch', 'bias'));
  return matMulNN(u, layerVariable(model, 'skip', 'kernel')).add(branch);
}

export interface LossOptions {
  nesting: number[];
  /** c_m: the weight of each nesting dim's terms (MRL §3); all 1 when absent. */
  dimWeights?: number[];
  /** Temperature of the neighbourhood distributions. */
  tau: number;
  /** Weight of the squared error between prefix and teacher cosines. */
  mseWeight: number;
  /** Weight of the genre cross-entropy terms. */
  clsWeight: number;
}

export interface Heads {
  kernels: tf.Variable[];
  biases: tf.Variable[];
}

export function buildHeads(nesting: number[], classes: number, seed: number): Heads {
  return {
    kernels: nesting.map((m, i) => tf.variable(tf.initializers.glorotUniform({ seed: seed + 100 + i }).apply([m, classes]) as tf.Tensor2D, true)),
    biases: nesting.map(() => tf.variable(tf.zeros([classes]), true)),
  };
}

/** Rows of x[:, :m] divided by their norm: cosine at prefix m is then a dot product. */
export function normalizedPrefix(x: tf.Tensor2D, m: number): tf.Tensor2D {
  const p = m === x.shape[1] ? x : x.slice([0, 0], [-1, m]);
  return p.div(p.norm('euclidean', 1, true).maximum(1e-12));
}

/**
 * MRL loss for the adaptor (Kusupati et al. 2022, "Matryoshka Representation Learning", §3:
 * one loss term per nesting dim m, summed, so every prefix z[:m] is trained to be useful on its
 * own). Here each term is
 *  - similarity distillation: the in-batch neighbourhood of each row at prefix m, softmax over
 *    cos(p_m(z_i), p_m(z_j)) / tau, is matched (cross-entropy) to the teacher's, softmax over
 *    the cosines of the full normalised USE embeddings / tau; plus mseWeight x the squared error
 *    between the two cosine matrices (global geometry, not just the top of each row);
 *  - clsWeight x CE(W_m z[:m] + b_m, genre): the MRL classification term, one head per m.
 */
export function adaptorLoss(model: tf.LayersModel, heads: Heads, u: tf.Tensor2D, labels: tf.Tensor2D, o: LossOptions): tf.Scalar {
  const b = u.shape[0];
  const z = adaptorForward(model, u);
  const diag = tf.eye(b).mul(1e4);
  const teacher = tf.matMul(u, u.transpose());
  const target = tf.softmax(teacher.div(o.tau).sub(diag));
  let total: tf.Scalar = tf.scalar(0);
  o.nesting.forEach((m, i) => {
    const p = normalizedPrefix(z, m);
    const cos = matMulNN(p, p.transpose());
    const logQ = tf.logSoftmax(cos.div(o.tau).sub(diag));
    const distil = target.mul(logQ).sum().neg().div(b);
    const mse = cos.sub(teacher).square().mean();
    const logits = matMulNN(m === USE_DIM ? z : z.slice([0, 0], [-1, m]), heads.kernels[i] as unknown as tf.Tensor2D).add(heads.biases[i]);
    const ce = tf.losses.softmaxCrossEntropy(labels, logits);
    const term = distil.add(mse.mul(o.mseWeight)).add(ce.mul(o.clsWeight));
    total = total.add(term.mul(o.dimWeights?.[i] ?? 1));
  });
  return total;
}

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
  const random = rng(o.seed);
  const order = Array.from({ length: n }, (_, i) => i);
  const rowsX = new Float32Array(batch * USE_DIM);
  const rowsY = new Int32Array(batch);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    shuffle(order, random);
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

/** Runs the adaptor over n x 512 rows in chunks; returns n x 512. */
export function applyAdaptor(model: tf.LayersModel, x: Float32Array, n: number, chunk = 2048): Float32Array {
  const out = new Float32Array(n * USE_DIM);
  for (let s = 0; s < n; s += chunk) {
    const rows = Math.min(chunk, n - s);
    const z = tf.tidy(() => model.predict(tf.tensor2d(x.subarray(s * USE_DIM, (s + rows) * USE_DIM), [rows, USE_DIM])) as tf.Tensor2D);
    out.set(z.dataSync(), s * USE_DIM);
    z.dispose();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Evaluation: truncate THEN normalise (docs/design.md, "prefix similarity")
// ---------------------------------------------------------------------------------------------

/** For each of the n rows, the ids of its k nearest other rows by cosine at prefix d (n x k). */
export function prefixNeighbours(x: Float32Array, n: number, d: number, k: number, chunk = 1024): Int32Array {
  const out = new Int32Array(n * k);
  const p = tf.tidy(() => normalizedPrefix(tf.tensor2d(x, [n, x.length / n]), d));
  const pT = p.transpose();
  for (let s = 0; s < n; s += chunk) {
    const rows = Math.min(chunk, n - s);
    const idx = tf.tidy(() => {
      const sims = tf.matMul(p.slice([s, 0], [rows, d]), pT);
      const self = tf.oneHot(tf.range(s, s + rows, 1, 'int32'), n).mul(4); // cosines are <= 1: self drops out
      return tf.topk(sims.sub(self), k).indices;
    });
    out.set(idx.dataSync(), s * k);
    idx.dispose();
  }
  tf.dispose([p, pT]);
  return out;
}

/** Mean over queries of |found ∩ truth| / k, for two n x k neighbour lists. */
export function recallAtK(found: Int32Array, truth: Int32Array, k: number): number {
  const n = truth.length / k;
  let hits = 0;
  for (let q = 0; q < n; q++) {
    const t = new Set(truth.subarray(q * k, (q + 1) * k));
    for (let j = 0; j < k; j++) if (t.has(found[q * k + j])) hits++;
  }
  return hits / (n * k);
}

/** Fraction of queries whose nearest database row (cosine at prefix d) has the query's label. */
export function nearestNeighbourAccuracy(
  db: Float32Array, dbLabels: Int32Array, queries: Float32Array, queryLabels: Int32Array, d: number, chunk = 512,
): number {
  const nDb = dbLabels.length;
  const nQ = queryLabels.length;
  const pDb = tf.tidy(() => normalizedPrefix(tf.tensor2d(db, [nDb, db.length / nDb]), d).transpose());
  let correct = 0;
  for (let s = 0; s < nQ; s += chunk) {
    const rows = Math.min(chunk, nQ - s);
    const best = tf.tidy(() => {
      const q = normalizedPrefix(tf.tensor2d(queries.subarray((s * queries.length) / nQ, ((s + rows) * queries.length) / nQ), [rows, queries.length / nQ]), d);
      return tf.matMul(q, pDb).argMax(1);
    });
    const ids = best.dataSync();
    best.dispose();
    for (let i = 0; i < rows; i++) if (dbLabels[ids[i]] === queryLabels[s + i]) correct++;
  }
  pDb.dispose();
  return correct / nQ;
}

/** Accuracy of each nesting dim's genre head on rows `z` (already through the adaptor). */
export function headAccuracy(heads: Heads, z: Float32Array, y: Int32Array, nesting: number[]): Record<string, number> {
  const n = y.length;
  const out: Record<string, number> = {};
  nesting.forEach((m, i) => {
    const pred = tf.tidy(() => {
      const zm = tf.tensor2d(z, [n, z.length / n]).slice([0, 0], [-1, m]);
      return tf.matMul(zm, heads.kernels[i] as unknown as tf.Tensor2D).add(heads.biases[i]).argMax(1);
    });
    const p = pred.dataSync();
    pred.dispose();
    let correct = 0;
    for (let r = 0; r < n; r++) if (p[r] === y[r]) correct++;
    out[m] = correct / n;
  });
  return out;
}

export interface PrefixReport {
  /** recall@k of prefix-d neighbours against the full normalised USE neighbours, by dim. */
  recall: Record<string, number>;
  /** Genre of the nearest training paragraph, by dim (when labels are given). */
  nnAccuracy?: Record<string, number>;
}

/**
 * Figures for one embedding of the held-out rows (`heldOut`, n x 512) against the teacher's
 * neighbours `truth` (full normalised USE, n x k); with a database (training rows and labels),
 * also genre 1-NN accuracy.
 */
export function evaluatePrefixes(
  heldOut: Float32Array, truth: Int32Array, k: number, dims: number[],
  genre?: { db: Float32Array; dbLabels: Int32Array; queryLabels: Int32Array },
): PrefixReport {
  const n = truth.length / k;
  const report: PrefixReport = { recall: {} };
  if (genre) report.nnAccuracy = {};
  for (const d of dims) {
    report.recall[d] = recallAtK(prefixNeighbours(heldOut, n, d, k), truth, k);
    if (genre) report.nnAccuracy![d] = nearestNeighbourAccuracy(genre.db, genre.dbLabels, heldOut, genre.queryLabels, d);
  }
  return report;
}
