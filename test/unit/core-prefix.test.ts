import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultNesting, normalizedPrefix, prefixCosine, prefixNorm } from '../../src/core/prefix.js';

test('normalizedPrefix truncates first, then normalises', () => {
  const v = [3, 4, 12, 0];
  const p = normalizedPrefix(v, 2);
  assert.deepEqual(Array.from(p), [0.6000000238418579, 0.800000011920929]);
  // The classic bug (normalise the full vector, then truncate) gives a shorter vector.
  const full = Math.hypot(...v);
  const buggy = [v[0] / full, v[1] / full];
  assert.ok(Math.abs(Math.hypot(...buggy) - 1) > 0.5);
  assert.ok(Math.abs(Math.hypot(...p) - 1) < 1e-6);
});

test('a zero prefix stays zero instead of becoming NaN', () => {
  const p = normalizedPrefix([0, 0, 1], 2);
  assert.deepEqual(Array.from(p), [0, 0]);
  assert.equal(prefixCosine([0, 0, 1], [1, 0, 0], 2), 0);
});

test('prefixCosine equals the dot product of normalised prefixes', () => {
  const a = [1, 2, 3, 4, 5];
  const b = [2, -1, 0.5, 3, -2];
  for (const d of [1, 2, 3, 5]) {
    const pa = normalizedPrefix(a, d);
    const pb = normalizedPrefix(b, d);
    let dot = 0;
    for (let i = 0; i < d; i++) dot += pa[i] * pb[i];
    assert.ok(Math.abs(prefixCosine(a, b, d) - dot) < 1e-6, `d=${d}`);
  }
  assert.equal(prefixCosine(a, b, 1), 1); // same sign at d=1
});

test('prefixNorm reads at an offset', () => {
  const data = new Float32Array([9, 9, 3, 4, 7]);
  assert.equal(prefixNorm(data, 2, 2), 5);
});

test('defaultNesting is 8, 16, … below D, plus D', () => {
  assert.deepEqual(defaultNesting(768), [8, 16, 32, 64, 128, 256, 512, 768]);
  assert.deepEqual(defaultNesting(512), [8, 16, 32, 64, 128, 256, 512]);
  assert.deepEqual(defaultNesting(4), [4]);
});
