import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultNesting } from '../../src/core/prefix.js';
import { principalRotation, randomRotation, rotate, rotateRows, unrotate } from '../../src/core/rotation.js';
import { measurePrefixes } from '../../src/quality/measure.js';
import { INLINE_MEASURE_WORK, measurePrefixesOffThread, principalRotationOffThread } from '../../src/quality/off-thread.js';
import { dueForReport, milestoneOf } from '../../src/quality/milestones.js';
import { kFor } from '../../src/quality/prefix-recall.js';
import { gainOf, maxGain, verdictOf } from '../../src/quality/verdict.js';
import { mrlLikeVectors } from '../helpers.js';

const N = 2000;
const D = 64;

function rows(): Float32Array {
  const { vectors } = mrlLikeVectors(N, D, 7);
  const out = new Float32Array(N * D);
  vectors.forEach((v, i) => out.set(v, i * D));
  return out;
}

async function verdictFor(data: Float32Array) {
  const prefixes = await measurePrefixes(data, N, D, defaultNesting(D), 200, 1);
  const gain = maxGain(prefixes, D, 200);
  return { prefixes, gain, verdict: verdictOf(gain) };
}

test('MRL-like vectors are matryoshka: the 16-dim prefix keeps most of what a random basis loses', async () => {
  const r = await verdictFor(rows());
  const at16 = r.prefixes.find((p) => p.dims === 16)!;
  assert.equal(r.verdict, 'matryoshka');
  assert.ok(at16.gain > 0.7, `gain at 16 = ${at16.gain}`);
  assert.ok(at16.shortlistRecall > at16.rotatedShortlistRecall);
  assert.equal(typeof at16.shortlistFor099, 'number');
  // Prefix figures grow with d and the full D is its own ground truth.
  for (let i = 1; i < r.prefixes.length; i++) assert.ok(r.prefixes[i].shortlistRecall >= r.prefixes[i - 1].shortlistRecall);
  assert.deepEqual(r.prefixes.at(-1), {
    dims: D,
    recallAt10: 1,
    shortlistRecall: 1,
    rotatedShortlistRecall: 1,
    gain: 0,
    shortlistFor099: 10,
  });
});

test('the same vectors under a random rotation are not-matryoshka', async () => {
  const data = rows();
  rotateRows(data, randomRotation(D, 99), D, 0, N);
  const r = await verdictFor(data);
  assert.equal(r.verdict, 'not-matryoshka', `max gain ${r.gain}`);
  assert.ok(r.gain < 0.15);
});

test('mixing the first three quarters of the dims among themselves gives a weak verdict', async () => {
  const data = rows();
  const half = (3 * D) / 4;
  const rot = randomRotation(half, 5);
  for (let i = 0; i < N; i++) data.set(rotate(data.subarray(i * D, i * D + half), rot, half), i * D);
  const r = await verdictFor(data);
  assert.equal(r.verdict, 'weak', `max gain ${r.gain}`);
});

test('measurement is seeded: the same seed gives the same figures', async () => {
  const data = rows().subarray(0, 500 * D);
  const a = await measurePrefixes(data, 500, D, [8, 16, 64], 50, 3);
  const b = await measurePrefixes(data, 500, D, [8, 16, 64], 50, 3);
  assert.deepEqual(a, b);
});

test('gain, verdict thresholds and the shortlist for 0.99', () => {
  assert.ok(Math.abs(gainOf(0.9, 0.6) - 0.75) < 1e-12);
  assert.equal(gainOf(1, 1), 0);
  assert.ok(gainOf(0.3, 0.4) < 0);
  assert.equal(verdictOf(0.5), 'matryoshka');
  assert.equal(verdictOf(0.49), 'weak');
  assert.equal(verdictOf(0.15), 'weak');
  assert.equal(verdictOf(0.149), 'not-matryoshka');
  // 100 ranks 0..99: 99 of them below 99 → K = 99 meets 0.99.
  assert.equal(
    kFor(
      Array.from({ length: 100 }, (_, i) => i),
      0.99,
    ),
    99,
  );
  assert.equal(kFor([0, 1, 2], 0.99), 10); // never below the top 10 itself
  assert.equal(kFor([5, 3000], 0.99), '> 2000');
  // Only prefixes d ≤ D/4 count.
  const p = (dims: number, gain: number) => ({
    dims,
    gain,
    recallAt10: 0,
    shortlistRecall: 0,
    rotatedShortlistRecall: 0,
    shortlistFor099: 10 as const,
  });
  assert.equal(maxGain([p(8, 0.2), p(16, 0.3), p(32, 0.9), p(64, 0)], 64), 0.3);
  // A gain where the random basis misses almost nothing is noise, and does not count.
  const q = (dims: number, gain: number, c: number) => ({ ...p(dims, gain), rotatedShortlistRecall: c });
  assert.equal(maxGain([q(8, 0.2, 0.9), q(16, 1, 0.999)], 64, 100), 0.2); // 1 miss of 1000 at 16
  assert.equal(maxGain([q(8, 0.2, 0.9), q(16, 1, 0.98)], 64, 100), 1); // 20 misses: it counts
  assert.equal(maxGain([q(8, 0.7, 0.999), q(16, 0.1, 1)], 64, 100), 0.7, 'none measurable: the smallest prefix');
  assert.equal(maxGain([q(32, 0.9, 0.5)], 64, 100), -Infinity);
});

test('ingest milestones: first 5k items, then every doubling', () => {
  assert.equal(milestoneOf(4999), 0);
  assert.equal(milestoneOf(5000), 5000);
  assert.equal(milestoneOf(19_999), 10_000);
  assert.equal(dueForReport(100, null), false);
  assert.equal(dueForReport(5000, null), true);
  assert.equal(dueForReport(9000, 5000), false);
  assert.equal(dueForReport(10_000, 5200), true);
  assert.equal(dueForReport(10_000, 10_000), false);
});

test('rotations are orthogonal: unrotate undoes rotate, norms and full-D cosines are kept', () => {
  const d = 24;
  const r = randomRotation(d, 11);
  const v = Float32Array.from({ length: d }, (_, i) => Math.sin(i + 1));
  const w = Float32Array.from({ length: d }, (_, i) => Math.cos(3 * i));
  const rv = rotate(v, r, d);
  const back = unrotate(rv, r, d);
  for (let i = 0; i < d; i++) assert.ok(Math.abs(back[i] - v[i]) < 1e-5);
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
  assert.ok(Math.abs(dot(rv, rotate(w, r, d)) - dot(v, w)) < 1e-4);
  assert.notDeepEqual(Array.from(rv), Array.from(v));
  // PCA: the first axis carries the largest eigenvalue, and R is orthogonal.
  const second = new Float64Array(d * d);
  for (let i = 0; i < d; i++) second[i * d + i] = i + 1; // variance grows along the dims
  const { rotation, eigenvalues } = principalRotation(second, d);
  assert.equal(Math.round(eigenvalues[0]), d);
  assert.ok(Math.abs(Math.abs(rotation[(d - 1) * d]) - 1) < 1e-6, 'the last input dim becomes the first');
});

test('MRL_AUDIT_RATE: a share in 0..1, default 0.01', async () => {
  const { loadConfig, ConfigError } = await import('../../src/config.js');
  assert.equal(loadConfig({}).auditRate, 0.01);
  assert.equal(loadConfig({ MRL_AUDIT_RATE: '1' }).auditRate, 1);
  assert.equal(loadConfig({ MRL_AUDIT_RATE: '0' }).auditRate, 0);
  for (const bad of ['2', '-0.1', 'often']) assert.throws(() => loadConfig({ MRL_AUDIT_RATE: bad }), ConfigError, bad);
});

test('the PCA rotation of a large D is computed in a worker thread, identical to the inline one', async () => {
  const d = 160; // above the inline limit
  const make = () => {
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) a[i * d + j] = a[j * d + i] = Math.sin(i * 31 + j * 7) / (1 + Math.abs(i - j));
    return a;
  };
  const off = await principalRotationOffThread(make(), d);
  const inline = principalRotation(make(), d);
  assert.deepEqual(off.eigenvalues, inline.eigenvalues);
  assert.deepEqual(Array.from(off.rotation), Array.from(inline.rotation));
});

test("a report's measurement runs in a worker thread (its module loaded from the sources) with the inline figures", async () => {
  const data = rows();
  const inline = await measurePrefixes(data, N, D, [8, 16], 40, 5);
  assert.ok(N * 40 * D < INLINE_MEASURE_WORK); // so 0 below is what sends it to the worker
  const job = { rows: data.slice(), n: N, dim: D, nesting: [8, 16], queries: 40, seed: 5 };
  const off = await measurePrefixesOffThread(job, 0);
  assert.equal(job.rows.length, 0, 'the rows were transferred to the worker');
  assert.deepEqual(off, inline);
});
