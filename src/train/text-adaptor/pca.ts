import { tf } from '../../encoders/tf-backend.js';
import { symmetricEigen } from '../../core/eigen.js';
import { matMulNN } from './matmul-nn.js';

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
