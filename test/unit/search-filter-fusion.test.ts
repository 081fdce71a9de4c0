import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MrlError } from '../../src/errors.js';
import { fuse } from '../../src/search/hybrid/fuse.js';
import { matchExpression } from '../../src/search/hybrid/keyword.js';

const hit = (id: string, score: number) => ({ id, score, label: null, payload: null });
const vector = [hit('a', 0.9), hit('b', 0.8), hit('c', 0.7)];
const text = [hit('c', 12), hit('d', 9), hit('a', 3)];

test('RRF scores and ranks equal hand-computed ones', () => {
  const r = fuse(vector, text);
  // a: 1/61 + 1/63; c: 1/63 + 1/61 (tie: a is ranked higher in the vector list); b: 1/62; d: 1/62 (tie: b is in the vector list)
  assert.deepEqual(
    r.map((h) => h.id),
    ['a', 'c', 'b', 'd'],
  );
  assert.ok(Math.abs(r[0].score - (1 / 61 + 1 / 63)) < 1e-12);
  assert.ok(Math.abs(r[2].score - 1 / 62) < 1e-12);
  assert.deepEqual(r[1].sources, { vector: { rank: 3, score: 0.7 }, text: { rank: 1, score: 12 } });
  assert.deepEqual(r[3].sources, { text: { rank: 2, score: 9 } });
  const w = fuse(vector, text, { k: 0, weights: { vector: 1, text: 3 } }, 2);
  // a: 1/1 + 3/3 = 2; c: 1/3 + 3/1 = 3.33; d: 3/2 = 1.5; b: 1/2
  assert.deepEqual(
    w.map((h) => [h.id, Number(h.score.toFixed(4))]),
    [
      ['c', 3.3333],
      ['a', 2],
    ],
  );
});

test('blend: min-max normalised scores, weighted', () => {
  const r = fuse(vector, text, { method: 'blend', weights: { vector: 2, text: 1 } });
  // vector: a 1, b 0.5, c 0; text: c 1, d 6/9, a 0 → a 2, c 1, b 1, d 0.667 (c before b: c is in both? tie goes to vector rank: b 2 < c 3)
  assert.deepEqual(
    r.map((h) => [h.id, Number(h.score.toFixed(4))]),
    [
      ['a', 2],
      ['b', 1],
      ['c', 1],
      ['d', 0.6667],
    ],
  );
});

test('fusion and keyword queries are checked', () => {
  for (const f of [{ method: 'max' }, { k: -1 }, { weights: { text: -2 } }]) {
    assert.throws(
      () => fuse([], [], f as never),
      (e: unknown) => e instanceof MrlError && e.code === 'INVALID_SEARCH',
    );
  }
  assert.equal(matchExpression('don\'t stop "me" now'), '"don" OR "t" OR "stop" OR "me" OR "now"');
  assert.equal(matchExpression('a b', 'fts5'), 'a b');
  for (const bad of ['', '  ', '!!! ???', 42])
    assert.throws(
      () => matchExpression(bad),
      (e: unknown) => e instanceof MrlError && e.code === 'INVALID_QUERY' && e.status === 400,
    );
});
