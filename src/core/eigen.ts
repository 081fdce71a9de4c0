/**
 * Pure TS, float64, no dependencies: shared by the text adaptor's PCA start, the report's SVD
 * baseline and the quality guard's PCA rotation (src/quality/adapt.ts).
 *
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
