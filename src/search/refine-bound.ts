/**
 * How far a score over int8 resident rows (core/quantize.ts) can be from the exact cosine, and
 * which candidates a refine must therefore read.
 *
 * A row x is held as codes c and one scale s (c_j = round(x_j / s), s = max|x| / 127), so each
 * value's rounding error e_j = x_j − s·c_j has |e_j| ≤ s/2. At d dims the int8 score is
 * (q · s·c)·r and the exact one (q · x)·r, with q the query's normalised prefix and r = 1/||x[0:d]||
 * (the same in both: prefix norms are kept from the float32 vector), hence
 *
 *   |int8 score − exact score| = r·|q · e| ≤ r · (s/2) · ||q||₁.
 *
 * Float arithmetic adds a little: the scale is stored as a float32 (relative error 2^-24, times a
 * code of at most 127: inside (s/2)·(1 + 2^-15) a value), and a float32 kernel summing d products
 * is off by at most d·2^-24 of Σ|q_j·s·c_j|·r ≤ 1 + bound (the exact score's own sum as much
 * again), plus the last roundings of r and of the score. BOUND_SLACK and the additive term cover these.
 */
const SCALE_SLACK = 1 + 2 ** -15;

/** The bound for one row: `rowScale` = r, `codeScale` = s, `l1` = ||q||₁ over `dims` values. */
export function int8Bound(rowScale: number, codeScale: number, l1: number, dims: number): number {
  const b = rowScale * codeScale * 0.5 * l1 * SCALE_SLACK;
  return b + (dims * 2 ** -23 + 2 ** -21) * (1 + b);
}

/** ||q||₁. */
export function l1Norm(q: Float32Array): number {
  let s = 0;
  for (let i = 0; i < q.length; i++) s += Math.abs(q[i]);
  return s;
}

/** What int8Bounds reads of a matrix (a ResidentMatrix is one). */
interface Int8Rows {
  readonly type: string;
  readonly codeScale: Float32Array;
}

/**
 * The bounds of a kernel's top over int8 rows: output i scored slot slots[picked[i]] with row
 * scale rowScale[picked[i]]. Undefined for rows of another type (no bound is kept for them).
 */
export function int8Bounds(
  m: Int8Rows,
  q: Float32Array,
  picked: ArrayLike<number>,
  slots: ArrayLike<number>,
  rowScale: ArrayLike<number>,
): number[] | undefined {
  if (m.type !== 'int8') return undefined;
  const l1 = l1Norm(q);
  const cs = m.codeScale;
  const out = new Array<number>(picked.length);
  for (let i = 0; i < picked.length; i++) out[i] = int8Bound(rowScale[picked[i]], cs[slots[picked[i]]], l1, q.length);
  return out;
}

/**
 * The candidates (their positions) whose exact score may be among the best k: every one whose
 * upper bound (score + bound) reaches the k-th largest lower bound (score − bound). Any other
 * candidate lies below k candidates whatever their exact scores, so refining these alone gives
 * the same top k as refining them all (when every candidate still exists). At least k of them.
 */
export function mayReachTop(scores: number[], bounds: number[], k: number): number[] {
  const n = scores.length;
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= k) return all;
  const lower = new Float64Array(n);
  for (let i = 0; i < n; i++) lower[i] = scores[i] - bounds[i];
  const kth = lower.slice().sort()[n - k]; // ascending: the k-th largest
  const picked = all.filter((i) => scores[i] + bounds[i] >= kth);
  return picked.length >= k ? picked : all; // fewer only when a score or bound is NaN
}
