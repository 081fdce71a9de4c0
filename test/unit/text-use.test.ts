import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initTf, tf } from '../../src/encoders/tf-backend.js';
import { USE_DIM, USE_MAX_TOKENS, UseLite } from '../../src/encoders/use-lite.js';

let use: UseLite;
before(async () => {
  await initTf();
  use = await UseLite.load();
});
after(() => use.dispose());

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

test('USE lite runs offline on the wasm backend and returns unit 512-d vectors', async () => {
  assert.equal(tf.getBackend(), 'wasm');
  const [v] = await use.embed(['A man is playing a guitar.']);
  assert.equal(v.length, USE_DIM);
  assert.ok(Math.abs(Math.sqrt(dot(v, v)) - 1) < 1e-4);
});

test('paraphrases are closer than unrelated sentences', async () => {
  const [age1, age2, market, guitar1, guitar2] = await use.embed([
    'How old are you?',
    'What is your age?',
    'The stock market fell sharply this morning.',
    'A man is playing a guitar.',
    'Someone plays the guitar on stage.',
  ]);
  assert.ok(dot(age1, age2) > dot(age1, market) + 0.2, `${dot(age1, age2)} vs ${dot(age1, market)}`);
  assert.ok(dot(guitar1, guitar2) > dot(guitar1, age2) + 0.2, `${dot(guitar1, guitar2)} vs ${dot(guitar1, age2)}`);
  assert.ok(dot(guitar1, guitar2) > dot(guitar1, market) + 0.2);
});

test('batching (length-sorted, padded) does not change an embedding', async () => {
  const short = 'The committee met on Friday.';
  const long =
    'In the long and somewhat tedious report, the committee described every meeting it had held since the spring, the votes taken, and the reasons given.';
  const [alone] = await use.embed([short]);
  const [, withLong] = await use.embed([long, short, 'Yes.']);
  for (let i = 0; i < USE_DIM; i++) assert.ok(Math.abs(alone[i] - withLong[i]) < 1e-5, `dim ${i}`);
});

test('only the first 128 tokens count, as in the graph', async () => {
  const ids = use.tokenize('word '.repeat(300));
  assert.equal(ids.length, USE_MAX_TOKENS);
  const [a, b] = await use.embed(['word '.repeat(200), 'word '.repeat(200) + 'completely different tail text']);
  assert.deepEqual(a, b);
});

test('an empty token list is refused before reaching the graph', async () => {
  await assert.rejects(use.embedIds([[9, 10], []]), /empty token list/);
});
