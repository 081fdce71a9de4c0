import { tf } from '../encoders/tf-backend.js';
import { headLogits, type HeadSet } from '../encoders/heads.js';
import { normalizedPrefixRows } from '../core/prefix.js';
import { queryFigures } from '../core/retrieval-metrics.js';

/** Figures keyed by metric name, then by dim (as a string, the manifest's `metrics` shape). */
export type FiguresByDim = Record<string, Record<string, number>>;

function transpose(mat: Float32Array, n: number, m: number): Float32Array {
  const out = new Float32Array(n * m);
  for (let r = 0; r < n; r++) for (let i = 0; i < m; i++) out[i * n + r] = mat[r * m + i];
  return out;
}

export interface KnnInput {
  db: Float32Array;
  dbLabels: ArrayLike<number>;
  queries: Float32Array;
  queryLabels: ArrayLike<number>;
  /** Row length of db and queries. */
  dim: number;
}

/**
 * Exact cosine kNN at each prefix length: 1-NN accuracy (`knn1`), the paper's mAP@k (`map10`),
 * the hits-normalised variant (`map10_hits`) and P@k (`p10`). Queries are not in the database.
 * Scores are one matMul per query chunk against the pre-transposed database (wasm's matMul is
 * slow with transposed operands), then topk.
 */
export async function knnFigures(input: KnnInput, dims: number[], k = 10, chunk = 256): Promise<FiguresByDim> {
  const { db, dbLabels, queries, queryLabels, dim } = input;
  const nDb = dbLabels.length;
  const nQ = queryLabels.length;
  const kk = Math.min(k, nDb);
  const out: FiguresByDim = { knn1: {}, [`map${k}`]: {}, [`map${k}_hits`]: {}, [`p${k}`]: {} };
  for (const m of dims) {
    const dbT = tf.tensor2d(transpose(normalizedPrefixRows(db, nDb, dim, m), nDb, m), [m, nDb]);
    const q = normalizedPrefixRows(queries, nQ, dim, m);
    const sums = { ap: 0, apHits: 0, precision: 0, top1: 0 };
    try {
      for (let s = 0; s < nQ; s += chunk) {
        const n = Math.min(chunk, nQ - s);
        const idx = tf.tidy(() => tf.topk(tf.matMul(tf.tensor2d(q.subarray(s * m, (s + n) * m), [n, m]), dbT), kk).indices);
        const ids = await idx.data<'int32'>();
        idx.dispose();
        const labels = new Int32Array(kk);
        for (let r = 0; r < n; r++) {
          for (let j = 0; j < kk; j++) labels[j] = dbLabels[ids[r * kk + j]];
          const f = queryFigures(labels, queryLabels[s + r], k);
          sums.ap += f.ap;
          sums.apHits += f.apHits;
          sums.precision += f.precision;
          sums.top1 += f.top1;
        }
      }
    } finally {
      dbT.dispose();
    }
    out.knn1[m] = sums.top1 / nQ;
    out[`map${k}`][m] = sums.ap / nQ;
    out[`map${k}_hits`][m] = sums.apHits / nQ;
    out[`p${k}`][m] = sums.precision / nQ;
  }
  return out;
}

/** Accuracy of each head (argmax of its logits on z[0:m]) on N full-D embeddings. */
export function headAccuracy(
  heads: HeadSet,
  z: Float32Array,
  labels: ArrayLike<number>,
  dim: number,
  chunk = 2048,
): Record<string, number> {
  const n = labels.length;
  const out: Record<string, number> = {};
  for (const m of heads.dims) {
    let correct = 0;
    for (let s = 0; s < n; s += chunk) {
      const c = Math.min(chunk, n - s);
      const pred = tf.tidy(() => tf.argMax(headLogits(heads, tf.tensor2d(z.subarray(s * dim, (s + c) * dim), [c, dim]), m), 1).dataSync());
      for (let i = 0; i < c; i++) if (pred[i] === labels[s + i]) correct++;
    }
    out[m] = correct / n;
  }
  return out;
}
