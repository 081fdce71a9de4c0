import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisScale, log2Ticks, niceTicks, tickDecimals } from '../../public/chart-core.js';

// public/chart-core.js is the one tick and scale module of the web page and the report.

test('niceTicks: steps of 1, 2, 2.5 or 5 × 10^k covering the range', () => {
  assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0, 1.5), [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]);
  assert.deepEqual(niceTicks(0.589, 0.743, 5), [0.6, 0.65, 0.7]);
  assert.deepEqual(niceTicks(3, 3), [3]);
});

test('log2Ticks: the powers of two inside the range, thinned to at most maxTicks', () => {
  assert.deepEqual(log2Ticks(8, 512), [8, 16, 32, 64, 128, 256, 512]);
  assert.deepEqual(log2Ticks(6, 600), [8, 16, 32, 64, 128, 256, 512]);
  assert.deepEqual(log2Ticks(1, 2 ** 20, 8), [1, 8, 64, 512, 4096, 32768, 262144]);
});

test('tickDecimals: the fewest decimals that print every tick exactly', () => {
  assert.equal(tickDecimals([0, 2, 4]), 0);
  assert.equal(tickDecimals([0.6, 0.65, 0.7]), 2);
  // A narrow mAP@10 range: five ticks that two decimals would all print as 0.83.
  assert.equal(tickDecimals([0.826, 0.828, 0.83, 0.832, 0.834]), 3);
  assert.equal(tickDecimals([0.885, 0.8875, 0.89]), 4);
});

test('axisScale: the pixel map, the ticks inside the domain and their labels', () => {
  const lin = axisScale({ lo: 0.589, hi: 0.743, target: 5 }, 240, 20);
  assert.equal(lin.map(0.589), 240);
  assert.equal(lin.map(0.743), 20);
  assert.ok(Math.abs(lin.map(0.666) - 130) < 1e-9);
  assert.deepEqual(lin.ticks, [0.6, 0.65, 0.7]);
  assert.deepEqual(lin.ticks.map(lin.format), ['0.60', '0.65', '0.70']);

  const log = axisScale({ lo: 8, hi: 512, log2: true }, 0, 600);
  assert.deepEqual(log.ticks.map(log.format), ['8', '16', '32', '64', '128', '256', '512']);
  const px = log.ticks.map(log.map);
  px.slice(1).forEach((x, i) => assert.ok(Math.abs(x - px[i] - 100) < 1e-9, `gap ${x - px[i]}`));

  const given = axisScale({ lo: 0, hi: 10, ticks: [-5, 0, 5, 15], format: (v) => `${v}%` }, 0, 100);
  assert.deepEqual(given.ticks, [0, 5]);
  assert.equal(given.format(5), '5%');
});
