import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { initTf, tf } from '../../src/encoders/tf-backend.js';
import { loadImageEncoder, type ImageEncoder } from '../../src/encoders/image-encoder.js';
import { MrlError } from '../../src/errors.js';
import { loadSplit } from '../../src/data/fashion-mnist.js';
import { runTrain } from '../../src/train/cli-train.js';
import { tinyTrainArgs } from '../helpers.js';

const SAMPLE = fileURLToPath(new URL('../fixtures/fashion-sample', import.meta.url));
let dir: string;
let enc: ImageEncoder;
let image: number[][];

before(async () => {
  await initTf();
  dir = mkdtempSync(join(tmpdir(), 'mrl-image-enc-'));
  const code = await runTrain(tinyTrainArgs(SAMPLE, dir, 128, 256, '--skip-eval', '--quiet'));
  assert.equal(code, 0);
  enc = await loadImageEncoder(dir);
  const px = loadSplit(SAMPLE, 't10k', 1).images;
  image = Array.from({ length: 28 }, (_, r) => Array.from(px.subarray(r * 28, r * 28 + 28)));
});

after(() => {
  enc?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** A 28×28 PNG; `pixel` gives [r, g, b, a] for a grey value. */
function png(img: number[][], pixel: (v: number) => [number, number, number, number], colorType: 0 | 2 | 6 = 6): string {
  const p = new PNG({ width: 28, height: 28 });
  img.forEach((row, r) => row.forEach((v, c) => p.data.set(pixel(v), 4 * (r * 28 + c))));
  return PNG.sync.write(p, { colorType }).toString('base64');
}

test('an array image and the same image as a base64 PNG embed identically', async () => {
  const grey = png(image, (v) => [v, v, v, 255], 0);
  const rgba = png(image, (v) => [v, v, v, 255], 6);
  const [a, b, c] = await enc.embed([image, grey, `data:image/png;base64,${rgba}`]);
  assert.equal(a.length, 32);
  assert.ok(a instanceof Float32Array);
  assert.deepEqual(Array.from(b), Array.from(a));
  assert.deepEqual(Array.from(c), Array.from(a));
  assert.ok(a.some((x) => x !== 0));
});

test('colour PNGs become grey (ITU-R 601 luma), alpha composited over black', async () => {
  const red = png(image, (v) => [v, 0, 0, 255], 2);
  const half = png(image, (v) => [v, v, v, 128], 6);
  const [fromRed, fromHalf] = await enc.embed([red, half]);
  const [expRed, expHalf] = await enc.embed([
    image.map((row) => row.map((v) => Math.round(0.299 * v))),
    image.map((row) => row.map((v) => Math.round(v * (128 / 255)))),
  ]);
  assert.deepEqual(Array.from(fromRed), Array.from(expRed));
  assert.deepEqual(Array.from(fromHalf), Array.from(expHalf));
});

test('bad shapes, values and PNGs are VALIDATION errors naming the field', async () => {
  const bad: [unknown, RegExp][] = [
    [image.slice(1), /^inputs\[0\]: has 27 rows, expected 28$/],
    [[...image.slice(0, 5), image[5].slice(1), ...image.slice(6)], /^inputs\[0\]\[5\]: has 27 values/],
    [
      image.map((row, r) => (r === 3 ? row.map((v, c) => (c === 4 ? 256 : v)) : row)),
      /^inputs\[0\]\[3\]\[4\]: 256 is not a number 0\.\.255$/,
    ],
    [image.map((row, r) => (r === 0 ? row.map((v, c) => (c === 0 ? -1 : v)) : row)), /^inputs\[0\]\[0\]\[0\]: -1/],
    [image.map((row, r) => (r === 2 ? row.map((v, c) => (c === 1 ? NaN : v)) : row)), /^inputs\[0\]\[2\]\[1\]: NaN/],
    [image.map((row, r) => (r === 2 ? row.map((v, c) => (c === 1 ? '7' : v)) : row)), /^inputs\[0\]\[2\]\[1\]: "7"/],
    [image.map((row, r) => (r === 1 ? 'x' : row)), /^inputs\[0\]\[1\]: is not an array/],
    [{ pixels: image }, /^inputs\[0\]: expected a 28×28 array/],
    [42, /^inputs\[0\]: expected/],
    ['not base64!', /^inputs\[0\]: not base64/],
    [Buffer.from('hello world!').toString('base64'), /^inputs\[0\]: not a PNG image/],
  ];
  for (const [input, message] of bad) {
    await assert.rejects(
      enc.embed([input]),
      (err: unknown) => err instanceof MrlError && err.code === 'VALIDATION' && message.test(err.message),
      String(message),
    );
    assert.throws(
      () => enc.validate(input, 'inputs[0]'),
      (err: unknown) => err instanceof MrlError && err.code === 'VALIDATION',
    );
  }
  const small = new PNG({ width: 27, height: 28 });
  const b64 = PNG.sync.write(small).toString('base64');
  await assert.rejects(
    enc.embed([image, b64]),
    (err: unknown) =>
      err instanceof MrlError && err.code === 'VALIDATION' && /^inputs\[1\]: PNG is 27×28 pixels, expected 28×28$/.test(err.message),
  );
  await assert.rejects(enc.embed('x' as unknown as unknown[]), (err: unknown) => err instanceof MrlError && err.code === 'VALIDATION');
  assert.throws(
    () => enc.classify([new Float32Array(32)], 12),
    (err: unknown) => err instanceof MrlError && err.code === 'VALIDATION',
  );
  enc.validate(image, 'inputs[0]');
});

test('embedding keeps tf.memory().numTensors flat across 100 calls; dispose releases the weights', async () => {
  const start = tf.memory().numTensors;
  const inputs = [image, image.map((row) => row.map((v) => 255 - v)), png(image, (v) => [v, v, v, 255])];
  for (let i = 0; i < 100; i++) {
    const out = await enc.embed(inputs);
    assert.equal(out.length, 3);
    enc.classify(out, 8);
  }
  assert.equal(tf.memory().numTensors, start);
  const other = await loadImageEncoder(dir);
  assert.ok(tf.memory().numTensors > start);
  other.dispose();
  other.dispose(); // twice is safe
  assert.equal(tf.memory().numTensors, start);
  await assert.rejects(other.embed([image]), /disposed/);
});
