/**
 * Orthogonal D×D rotations (row-major Float32Array/Float64Array R): a vector v maps to v·R.
 * Cosine at the full D is unchanged by any of them, only what each prefix holds moves.
 */
import { symmetricEigen } from './eigen.js';
import { mulberry32 } from './rng.js';

/** v·R for one vector (out_j = Σ_i v_i R_ij). */
export function rotate(v: ArrayLike<number>, r: ArrayLike<number>, dim: number): Float32Array {
  const acc = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    const x = v[i];
    if (x === 0) continue;
    const off = i * dim;
    for (let j = 0; j < dim; j++) acc[j] += x * r[off + j];
  }
  return Float32Array.from(acc);
}

/** v·Rᵀ: undoes `rotate` (R is orthogonal). */
export function unrotate(v: ArrayLike<number>, r: ArrayLike<number>, dim: number): Float32Array {
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const off = i * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s += v[j] * r[off + j];
    out[i] = s;
  }
  return out;
}

/** Rows [from, to) of an n×D matrix rotated in place. */
export function rotateRows(rows: Float32Array, r: ArrayLike<number>, dim: number, from: number, to: number): void {
  for (let row = from; row < to; row++) rows.set(rotate(rows.subarray(row * dim, (row + 1) * dim), r, dim), row * dim);
}

/**
 * A seeded Haar-random orthogonal matrix: Gram–Schmidt (twice, for orthogonality to rounding)
 * on the rows of a Gaussian matrix. The baseline of a model whose dims carry no order.
 */
export function randomRotation(dim: number, seed: number): Float64Array {
  const steps = randomRotationSteps(dim, seed);
  for (let r = steps.next(); ; r = steps.next()) if (r.done) return r.value;
}

/**
 * `randomRotation` one row at a time (it costs D³ in all): a caller that must not block for
 * long, the quality report, yields between steps; the matrix is the generator's return value.
 */
export function* randomRotationSteps(dim: number, seed: number): Generator<number, Float64Array, void> {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const q = new Float64Array(dim * dim);
  for (let i = 0; i < q.length; i++) q[i] = gauss();
  for (let i = 0; i < dim; i++) {
    const ri = i * dim;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        const rj = j * dim;
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += q[ri + k] * q[rj + k];
        for (let k = 0; k < dim; k++) q[ri + k] -= dot * q[rj + k];
      }
    }
    let nrm = 0;
    for (let k = 0; k < dim; k++) nrm += q[ri + k] * q[ri + k];
    nrm = Math.sqrt(nrm);
    for (let k = 0; k < dim; k++) q[ri + k] /= nrm;
    yield i;
  }
  return q;
}

/**
 * The principal axes of a D×D second-moment matrix (overwritten), ordered by eigenvalue, as
 * the columns of R: v·R puts the axes of most variance first, so every prefix of the rotated
 * vectors is the best linear code of that length (Eckart–Young): nested, as MRL asks.
 */
export function principalRotation(second: Float64Array, dim: number): { rotation: Float32Array; eigenvalues: number[] } {
  return principalRotationFromEigen(second, symmetricEigen(second, dim), dim);
}

/** The rotation from symmetricEigen's output: eigenvectors as the columns of `vectors`, unsorted `values`. */
export function principalRotationFromEigen(
  second: Float64Array,
  values: Float64Array,
  dim: number,
): { rotation: Float32Array; eigenvalues: number[] } {
  const order = Array.from({ length: dim }, (_, i) => i).sort((i, j) => values[j] - values[i]);
  const rotation = new Float32Array(dim * dim);
  for (let row = 0; row < dim; row++) for (let col = 0; col < dim; col++) rotation[row * dim + col] = second[row * dim + order[col]];
  return { rotation, eigenvalues: order.map((i) => values[i]) };
}
