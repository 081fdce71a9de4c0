import { symmetricEigen } from '../core/eigen.js';

/**
 * The MRL paper's "SVD" baseline (section 4.2): the principal axes of a fixed-feature model's
 * full embeddings, so that the first m coordinates of a projected vector are its best m-value
 * linear code (Eckart–Young). Computed as the eigenvectors of the covariance of the centred
 * training embeddings, which are the right singular vectors of the centred matrix.
 */
export interface PcaFit {
  d: number;
  /** Mean of the rows the axes were fitted on (subtracted before projecting). */
  mean: Float64Array;
  /** d × d, row-major: column j is the j-th principal axis (unit length), by variance descending. */
  axes: Float64Array;
  /** Variance along each axis (eigenvalues of the covariance), descending. */
  variances: Float64Array;
}

/** Fits the principal axes of the rows of x (n × d, row-major), in float64. */
export function fitPca(x: Float32Array, n: number, d: number): PcaFit {
  if (x.length !== n * d) throw new Error(`fitPca: ${x.length} values, expected ${n}×${d}`);
  if (n < 2) throw new Error('fitPca: needs at least two rows');
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] += x[r * d + i];
  for (let i = 0; i < d; i++) mean[i] /= n;
  // Upper triangle of Σ_r (x_r - μ)(x_r - μ)ᵀ, then mirrored.
  const cov = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) c[i] = x[r * d + i] - mean[i];
    for (let i = 0; i < d; i++) {
      const ci = c[i];
      if (ci === 0) continue;
      const row = i * d;
      for (let j = i; j < d; j++) cov[row + j] += ci * c[j];
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = cov[i * d + j] / n;
      cov[i * d + j] = v;
      cov[j * d + i] = v;
    }
  }
  const values = symmetricEigen(cov, d); // cov now holds the eigenvectors as columns
  const order = Array.from({ length: d }, (_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
  const axes = new Float64Array(d * d);
  const variances = new Float64Array(d);
  order.forEach((src, col) => {
    variances[col] = Math.max(0, values[src]);
    // A deterministic sign: the largest-magnitude component of each axis is positive.
    let big = 0;
    for (let row = 0; row < d; row++) if (Math.abs(cov[row * d + src]) > Math.abs(cov[big * d + src])) big = row;
    const sign = cov[big * d + src] < 0 ? -1 : 1;
    for (let row = 0; row < d; row++) axes[row * d + col] = sign * cov[row * d + src];
  });
  return { d, mean, axes, variances };
}

/** (x_r - μ) projected on the first m axes: n × m, row-major (prefix m' ≤ m is the top-m' code). */
export function projectPca(fit: PcaFit, x: Float32Array, n: number, m = fit.d): Float32Array {
  const { d, mean, axes } = fit;
  if (x.length !== n * d) throw new Error(`projectPca: ${x.length} values, expected ${n}×${d}`);
  if (m < 1 || m > d) throw new Error(`projectPca: m must be in 1..${d}`);
  // Axes as rows (m × d) so the inner loop walks contiguous memory.
  const at = new Float64Array(m * d);
  for (let row = 0; row < d; row++) for (let col = 0; col < m; col++) at[col * d + row] = axes[row * d + col];
  const out = new Float32Array(n * m);
  const c = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) c[i] = x[r * d + i] - mean[i];
    for (let col = 0; col < m; col++) {
      let s = 0;
      const off = col * d;
      for (let i = 0; i < d; i++) s += c[i] * at[off + i];
      out[r * m + col] = s;
    }
  }
  return out;
}
