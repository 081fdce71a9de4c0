import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Encoder } from '../../src/encoders/encoder.js';
import { loadLayersModel, loadTextEncoder, saveLayersModel } from '../../src/encoders/text-encoder.js';
import { tf } from '../../src/encoders/tf-backend.js';
import { projectRoot } from '../../src/paths.js';
import { tempDir } from '../helpers.js';

const MODEL_DIR = join(projectRoot(), 'models', 'text-mrl');
let enc: Encoder;
before(async () => {
  enc = await loadTextEncoder(MODEL_DIR);
});
after(() => enc.dispose());

const cosineAt = (a: Float32Array, b: Float32Array, d: number) => {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < d; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
};

test('the shipped text-mrl model loads and embeds strings into full 512-d vectors', async () => {
  const m = enc.manifest;
  assert.equal(m.loader, 'text-use-adaptor');
  assert.deepEqual(m.input, { kind: 'text', maxLength: 10000 });
  assert.equal(m.dim, 512);
  assert.deepEqual(m.nesting, [8, 16, 32, 64, 128, 256, 512]);
  const out = await enc.embed(['How old are you?', 'What is your age?', 'The stock market fell sharply this morning.']);
  assert.equal(out.length, 3);
  for (const v of out) {
    assert.ok(v instanceof Float32Array);
    assert.equal(v.length, 512);
    assert.ok(v.every(Number.isFinite));
  }
  // Neighbourhoods survive the adaptor, at the full length and at a short prefix.
  for (const d of [512, 64]) assert.ok(cosineAt(out[0], out[1], d) > cosineAt(out[0], out[2], d), `d=${d}`);
  // Same text, same vector: batching does not change it.
  const [again] = await enc.embed(['What is your age?']);
  for (let i = 0; i < 512; i++) assert.ok(Math.abs(again[i] - out[1][i]) < 1e-5);
});

test('a saved-then-reloaded adaptor gives identical embeddings', async (t) => {
  const dir = tempDir(t, 'mrl-text-');
  const model = await loadLayersModel(MODEL_DIR);
  await saveLayersModel(model, dir);
  model.dispose();
  copyFileSync(join(MODEL_DIR, 'manifest.json'), join(dir, 'manifest.json'));
  const copy = await loadTextEncoder(dir);
  t.after(() => copy.dispose());
  const texts = ['The jury praised the election.', 'A recipe for bread with rye flour and caraway seeds.'];
  const [a, b] = [await enc.embed(texts), await copy.embed(texts)];
  assert.deepEqual(b, a);
});

test('bad inputs are rejected with VALIDATION naming the field', async () => {
  const cases: [unknown, RegExp][] = [
    [42, /inputs\[1\] must be a string/],
    ['', /inputs\[1\] must be a non-empty string/],
    [' \n\t', /inputs\[1\] must be a non-empty string/],
    ['x'.repeat(10001), /inputs\[1\] has 10001 characters, at most 10000/],
    [null, /inputs\[1\] must be a string/],
  ];
  for (const [bad, message] of cases) {
    await assert.rejects(enc.embed(['fine', bad]), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'VALIDATION');
      assert.match((err as Error).message, message);
      return true;
    });
    assert.throws(() => enc.validate(bad, 'text'), { code: 'VALIDATION' });
  }
  assert.doesNotThrow(() => enc.validate('x'.repeat(10000), 'text'));
});

test('tf.memory().numTensors is flat over 100 embed calls, and dispose releases the model', async () => {
  await enc.embed(['warm up']);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 100; i++) await enc.embed([`sentence number ${i}`, 'another one']);
  assert.equal(tf.memory().numTensors, before);

  const other = await loadTextEncoder(MODEL_DIR);
  const loaded = tf.memory().numTensors;
  assert.ok(loaded > before);
  await other.embed(['one']);
  other.dispose();
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(other.embed(['after dispose']), /disposed/);
});
