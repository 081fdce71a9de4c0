import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { encodeIdx, parseIdx } from '../../src/data/idx.js';
import { FASHION_CLASSES, loadSplit } from '../../src/data/fashion-mnist.js';
import { mulberry32, shuffleInPlace } from '../../src/core/rng.js';

const SAMPLE = fileURLToPath(new URL('../fixtures/fashion-sample', import.meta.url));

test('IDX: big-endian header round-trips, gzipped or not', () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7);
  const raw = encodeIdx([2, 3, 4], data);
  assert.deepEqual(Array.from(raw.subarray(0, 8)), [0, 0, 8, 3, 0, 0, 0, 2]);
  for (const bytes of [raw, new Uint8Array(gzipSync(raw))]) {
    const parsed = parseIdx(bytes);
    assert.deepEqual(parsed.shape, [2, 3, 4]);
    assert.deepEqual(Array.from(parsed.data), Array.from(data));
  }
  const big = encodeIdx([300], new Uint8Array(300));
  assert.deepEqual(Array.from(big.subarray(4, 8)), [0, 0, 1, 44], 'size 300 = 0x012c, big-endian');
});

test('IDX: bad magic, types and sizes are refused', () => {
  const good = encodeIdx([4], new Uint8Array(4));
  assert.throws(() => parseIdx(Uint8Array.from([1, ...good.subarray(1)])), /bad IDX magic/);
  assert.throws(() => parseIdx(Uint8Array.from([0, 0, 0x0d, ...good.subarray(3)])), /not unsigned byte/);
  assert.throws(() => parseIdx(good.subarray(0, good.length - 1)), /says 4 bytes of data, file has 3/);
});

test('the committed sample loads: 1000 train / 200 test 28×28 images, labels in range', () => {
  const train = loadSplit(SAMPLE, 'train');
  const t10k = loadSplit(SAMPLE, 't10k');
  assert.equal(train.count, 1000);
  assert.equal(t10k.count, 200);
  assert.deepEqual([train.rows, train.cols], [28, 28]);
  assert.equal(train.images.length, 1000 * 784);
  // every class is present in the sample, and the pixels are not all one value
  assert.equal(new Set(train.labels).size, FASHION_CLASSES.length);
  assert.ok(Math.max(...train.images.subarray(0, 784)) > Math.min(...train.images.subarray(0, 784)));
  assert.equal(loadSplit(SAMPLE, 'train', 10).count, 10);
  assert.throws(() => loadSplit('/nonexistent', 'train'), /install-fashion-mnist/);
});

test('shuffling is a seeded permutation', () => {
  const a = shuffleInPlace(
    Uint32Array.from({ length: 100 }, (_, i) => i),
    mulberry32(5),
  );
  const b = shuffleInPlace(
    Uint32Array.from({ length: 100 }, (_, i) => i),
    mulberry32(5),
  );
  const c = shuffleInPlace(
    Uint32Array.from({ length: 100 }, (_, i) => i),
    mulberry32(6),
  );
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(
    Array.from(a).sort((x, y) => x - y),
    Array.from({ length: 100 }, (_, i) => i),
  );
});
