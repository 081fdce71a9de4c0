import { tf } from '../../encoders/tf-backend.js';
import { normalizedPrefixTensor } from '../prefix-tensor.js';

// Evaluation: truncate THEN normalise (docs/design.md, "prefix similarity")

/** For each of the n rows, the ids of its k nearest other rows by cosine at prefix d (n x k). */
export function prefixNeighbours(x: Float32Array, n: number, d: number, k: number, chunk = 1024): Int32Array {
  const out = new Int32Array(n * k);
  const p = tf.tidy(() => normalizedPrefixTensor(tf.tensor2d(x, [n, x.length / n]), d));
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
  db: Float32Array,
  dbLabels: Int32Array,
  queries: Float32Array,
  queryLabels: Int32Array,
  d: number,
  chunk = 512,
): number {
  const nDb = dbLabels.length;
  const nQ = queryLabels.length;
  const pDb = tf.tidy(() => normalizedPrefixTensor(tf.tensor2d(db, [nDb, db.length / nDb]), d).transpose());
  let correct = 0;
  for (let s = 0; s < nQ; s += chunk) {
    const rows = Math.min(chunk, nQ - s);
    const best = tf.tidy(() => {
      const q = normalizedPrefixTensor(
        tf.tensor2d(queries.subarray((s * queries.length) / nQ, ((s + rows) * queries.length) / nQ), [rows, queries.length / nQ]),
        d,
      );
      return tf.matMul(q, pDb).argMax(1);
    });
    const ids = best.dataSync();
    best.dispose();
    for (let i = 0; i < rows; i++) if (dbLabels[ids[i]] === queryLabels[s + i]) correct++;
  }
  pDb.dispose();
  return correct / nQ;
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
  heldOut: Float32Array,
  truth: Int32Array,
  k: number,
  dims: number[],
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
