import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCollectionName, validateId, validatePayload, validateVector } from '../../src/core/validate.js';

const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;

test('a valid vector comes back as float32', () => {
  const v = validateVector([0.1, -2, 3.4e38], 3, 'c');
  assert.ok(v instanceof Float32Array);
  assert.equal(v[0], Math.fround(0.1));
});

test('bad vectors are rejected with coded errors', () => {
  assert.throws(() => validateVector([1, '2', 3], 3, 'c'), code('INVALID_VECTOR'));
  assert.throws(() => validateVector([1, NaN, 3], 3, 'c'), code('INVALID_VECTOR'));
  assert.throws(() => validateVector([1, Infinity, 3], 3, 'c'), code('INVALID_VECTOR'));
  assert.throws(() => validateVector([1, -Infinity, 3], 3, 'c'), code('INVALID_VECTOR'));
  assert.throws(() => validateVector([1, 1e39, 3], 3, 'c'), code('INVALID_VECTOR'));
  assert.throws(() => validateVector([1, null, 3], 3, 'c'), code('INVALID_VECTOR'));
  assert.throws(() => validateVector([1, true, 3], 3, 'c'), code('INVALID_VECTOR'));
  assert.throws(() => validateVector([], 3, 'c'), code('INVALID_VECTOR'));
  assert.throws(() => validateVector([0, 0, 0], 3, 'c'), code('INVALID_VECTOR'));
  assert.throws(() => validateVector('1,2,3', 3, 'c'), code('INVALID_VECTOR'));
  assert.throws(() => validateVector({ 0: 1, length: 3 }, 3, 'c'), code('INVALID_VECTOR'));
  assert.throws(
    () => validateVector([1, 2], 3, 'docs'),
    (err: unknown) => code('DIM_MISMATCH')(err) && /2 values, collection 'docs' expects 3/.test((err as Error).message),
  );
});

test('a value that underflows to zero in float32 counts as zero', () => {
  assert.throws(() => validateVector([1e-50, 0], 2, 'c'), code('INVALID_VECTOR'));
});

test('ids are non-empty strings of at most 256 characters', () => {
  assert.equal(validateId('a'), 'a');
  assert.equal(validateId('x'.repeat(256)).length, 256);
  assert.throws(() => validateId(''), code('INVALID_ID'));
  assert.throws(() => validateId('x'.repeat(257)), code('INVALID_ID'));
  assert.throws(() => validateId(12), code('INVALID_ID'));
});

test('collection names are safe identifiers', () => {
  assert.equal(validateCollectionName('docs_v2.1-a'), 'docs_v2.1-a');
  for (const bad of ['', '../x', 'a b', '-x', 'x'.repeat(65), 3])
    assert.throws(() => validateCollectionName(bad), code('INVALID_COLLECTION'));
});

test('payloads must serialise to JSON', () => {
  assert.equal(validatePayload({ a: 1 }), '{"a":1}');
  assert.equal(validatePayload(undefined), null);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => validatePayload(cyclic), code('VALIDATION'));
  assert.throws(() => validatePayload({ big: 'x'.repeat(1 << 20) }), code('PAYLOAD_TOO_LARGE'));
});
