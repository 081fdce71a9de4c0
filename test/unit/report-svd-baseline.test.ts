import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../src/core/rng.js';
import { fitPca, projectPca } from '../../src/report/svd-baseline.js';

/** n rows of d values with very different variances along a random rotation, plus an offset. */
function data(n: number, d: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const mix = Array.from({ length: d * d }, () => gauss());
  const x = new Float32Array(n * d);
  for (let row = 0; row < n; row++) {
    const z = Array.from({ length: d }, (_, i) => gauss() * (d - i)); // spread d, d-1, …, 1
    for (let j = 0; j < d; j++) {
      let s = 3 + j; // a non-zero mean that centring must remove
      for (let i = 0; i < d; i++) s += z[i] * mix[i * d + j];
      x[row * d + j] = s;
    }
  }
  return x;
}

const N = 400;
const D = 6;

test('principal axes are orthonormal and sorted by variance', () => {
  const fit = fitPca(data(N, D, 7), N, D);
  for (let a = 0; a < D; a++) {
    for (let b = 0; b < D; b++) {
      let dot = 0;
      for (let i = 0; i < D; i++) dot += fit.axes[i * D + a] * fit.axes[i * D + b];
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-9, `axes ${a}·${b} = ${dot}`);
    }
  }
  for (let i = 1; i < D; i++) assert.ok(fit.variances[i - 1] >= fit.variances[i]);
  assert.ok(fit.variances[0] > 2 * fit.variances[D - 1]);
});

test('projected coordinates are centred, uncorrelated, with the eigenvalues as variances', () => {
  const x = data(N, D, 11);
  const fit = fitPca(x, N, D);
  const y = projectPca(fit, x, N);
  for (let a = 0; a < D; a++) {
    let mean = 0;
    for (let r = 0; r < N; r++) mean += y[r * D + a];
    assert.ok(Math.abs(mean / N) < 1e-3 * Math.sqrt(fit.variances[a]), `mean of coordinate ${a}`);
    for (let b = 0; b < D; b++) {
      let s = 0;
      for (let r = 0; r < N; r++) s += y[r * D + a] * y[r * D + b];
      const cov = s / N;
      const want = a === b ? fit.variances[a] : 0;
      assert.ok(Math.abs(cov - want) < 1e-4 * fit.variances[0], `cov(${a},${b}) = ${cov}, want ${want}`);
    }
  }
});

test('all axes reconstruct the rows; the top-m code beats any other m coordinates', () => {
  const x = data(N, D, 3);
  const fit = fitPca(x, N, D);
  const y = projectPca(fit, x, N);
  let worst = 0;
  for (let r = 0; r < N; r++) {
    for (let j = 0; j < D; j++) {
      let s = fit.mean[j];
      for (let c = 0; c < D; c++) s += y[r * D + c] * fit.axes[j * D + c];
      worst = Math.max(worst, Math.abs(s - x[r * D + j]) / (1 + Math.abs(x[r * D + j])));
    }
  }
  assert.ok(worst < 1e-5, `reconstruction error ${worst}`);
  // Truncating to m = 2 keeps the variance of the top two axes: the residual is the rest.
  const y2 = projectPca(fit, x, N, 2);
  assert.equal(y2.length, N * 2);
  for (let r = 0; r < N; r++) for (let c = 0; c < 2; c++) assert.equal(y2[r * 2 + c], y[r * D + c]);
  // Eckart–Young: the top-2 code's mean squared residual is the sum of the other variances, and
  // it is smaller than keeping two raw (centred) coordinates.
  let resTop = 0;
  let resRaw = 0;
  for (let r = 0; r < N; r++) {
    for (let j = 0; j < D; j++) {
      const c = x[r * D + j] - fit.mean[j];
      let s = 0;
      for (let k = 0; k < 2; k++) s += y2[r * 2 + k] * fit.axes[j * D + k];
      resTop += (c - s) ** 2;
      if (j >= 2) resRaw += c * c;
    }
  }
  const rest = fit.variances.slice(2).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(resTop / N - rest) < 1e-4 * rest, `residual ${resTop / N} vs ${rest}`);
  assert.ok(resTop < resRaw);
});

test('fitting is deterministic and rejects a wrong shape', () => {
  const x = data(50, 4, 5);
  assert.deepEqual(fitPca(x, 50, 4), fitPca(x, 50, 4));
  assert.throws(() => fitPca(x, 49, 4), /expected 49×4/);
  assert.throws(() => projectPca(fitPca(x, 50, 4), x, 50, 5), /m must be in 1..4/);
});
