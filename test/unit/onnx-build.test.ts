import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOnnxModel, checkOnnxModel } from '../../src/encoders/onnx/build-models.js';
import { EncoderRegistry } from '../../src/encoders/registry.js';
import { initTf } from '../../src/encoders/tf-backend.js';
import { defer } from '../helpers.js';
import { modelsWithOnnx } from '../onnx-models.js';

test('model.onnx is used only while it matches the files it was built from; otherwise TF.js serves, saying why', async (t) => {
  await initTf();
  const dir = modelsWithOnnx(t);
  assert.equal(checkOnnxModel(join(dir, 'text-mrl'), 'text-use-adaptor').ok, true);
  assert.equal(checkOnnxModel(join(dir, 'fashion-mrl'), 'image-mlp').ok, true);

  // A retrained adaptor (here: one weight changed) makes the text graph stale.
  const weights = join(dir, 'text-mrl', 'weights.bin');
  const buf = readFileSync(weights);
  buf[100] ^= 1;
  writeFileSync(weights, buf);
  rmSync(join(dir, 'fashion-mrl', 'model.onnx'));

  const reg = new EncoderRegistry(dir);
  defer(t, () => reg.dispose());
  const [text] = await reg.embed('text-mrl', ['a cat sat on the mat']);
  const [image] = await reg.embed('fashion-mrl', [Array.from({ length: 28 }, () => new Array(28).fill(0))]);
  assert.equal(text.length, 512);
  assert.equal(image.length, 512);
  const status = Object.fromEntries(reg.status().map((s) => [s.name, s]));
  assert.equal(status['text-mrl'].backend, 'tfjs');
  assert.match(status['text-mrl'].fallbackReason!, /stale: weights\.bin changed/);
  assert.equal(status['fashion-mrl'].backend, 'tfjs');
  assert.match(status['fashion-mrl'].fallbackReason!, /no model\.onnx/);

  // Asked for onnxruntime only, a missing graph is an error, not a silent fallback.
  const strict = new EncoderRegistry(dir, { backend: 'onnx' });
  defer(t, () => strict.dispose());
  await assert.rejects(
    strict.embed('fashion-mrl', [Array.from({ length: 28 }, () => new Array(28).fill(0))]),
    /MRL_ENCODER_BACKEND=onnx but no model\.onnx/,
  );
});

test('the converter refuses a layer type it does not know (the model stays on TF.js)', (t) => {
  const dir = modelsWithOnnx(t, false);
  const file = join(dir, 'fashion-mrl', 'model.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  json.modelTopology.config.layers.splice(3, 0, { class_name: 'Dropout', config: { name: 'drop', rate: 0.1 } });
  writeFileSync(file, JSON.stringify(json));
  assert.throws(() => buildOnnxModel(join(dir, 'fashion-mrl'), 'image-mlp'), /Dropout is not supported/);
});
