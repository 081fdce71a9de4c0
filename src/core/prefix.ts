/**
 * Matryoshka prefix maths (MRL paper, section 3): the first d values of an MRL vector are an
 * embedding in their own right. Similarity at d is cosine on the prefix: truncate FIRST, then
 * L2-normalise. (Normalising the full vector and then truncating gives wrong scores.)
 */

/** ||v[0:d]|| for a vector stored at offset `off` in `data`. */
export function prefixNorm(data: Float32Array, off: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) {
    const x = data[off + i];
    s += x * x;
  }
  return Math.sqrt(s);
}

/** p_d(v) = v[0:d] / ||v[0:d]|| as a new Float32Array; a zero prefix stays zero (scores 0). */
export function normalizedPrefix(v: Float32Array | readonly number[], d: number): Float32Array {
  const out = new Float32Array(d);
  let s = 0;
  for (let i = 0; i < d; i++) {
    const x = v[i];
    out[i] = x;
    s += x * x;
  }
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < d; i++) out[i] *= inv;
  }
  return out;
}

/** The n rows of an n×D matrix (row-major), each as normalizedPrefix(row, m): n×m, row-major. */
export function normalizedPrefixRows(mat: Float32Array, n: number, D: number, m: number): Float32Array {
  const out = new Float32Array(n * m);
  for (let r = 0; r < n; r++) out.set(normalizedPrefix(mat.subarray(r * D, r * D + m), m), r * m);
  return out;
}

/** Cosine similarity at prefix length d: p_d(a) · p_d(b). */
export function prefixCosine(a: Float32Array | readonly number[], b: Float32Array | readonly number[], d: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < d; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

/** The default nesting dims: 8, 16, 32, … (powers of two) below D, plus D itself. */
export function defaultNesting(dim: number): number[] {
  const out: number[] = [];
  for (let m = 8; m < dim; m *= 2) out.push(m);
  out.push(dim);
  return out;
}
