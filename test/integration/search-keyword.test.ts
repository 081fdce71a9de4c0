import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MrlError } from '../../src/errors.js';
import { mrlLikeVectors, openData, openEngine, tempDir } from '../helpers.js';

const DIM = 32;
const WORDS = ['apple', 'banana', 'cherry', 'durian', 'elderberry', 'fig', 'grape'];
/** Item i's text: two fruit words, and "café" on every fifth item. */
const textOf = (i: number) => `${WORDS[i % 7]} and ${WORDS[(i * 3) % 7]}s${i % 5 === 0 ? ' at the Café' : ''}`;

async function fill(t: Parameters<typeof tempDir>[0], dataDir = tempDir(t)) {
  const data = await openData(t, dataDir);
  const engine = data.engine;
  engine.createCollection({ name: 'docs', dim: DIM, indexDim: 8 });
  const { vectors, labels } = mrlLikeVectors(300, DIM, 3);
  await engine.upsert(
    'docs',
    vectors.map((v, i) => ({ id: `v${i}`, vector: v, label: labels[i], payload: { n: i }, text: textOf(i) })),
  );
  return { engine, vectors, dataDir, data };
}

test('an acknowledged item is searchable by keyword at once, ranked by BM25, stemmed, diacritics removed; after a restart too', async (t) => {
  const { engine, dataDir, data } = await fill(t);
  const r = await engine.search('docs', {}, { text: 'cafe', k: 100 });
  assert.equal(r.mode, 'keyword');
  assert.equal(r.results.length, 60); // "Café" without its accent
  const bananas = await engine.search('docs', {}, { text: 'banana', k: 300 }); // "bananas" stems to "banana"
  assert.equal(bananas.results.length, new Set([...Array(300).keys()].filter((i) => textOf(i).includes('banana'))).size);
  for (let i = 1; i < bananas.results.length; i++) assert.ok(bananas.results[i - 1].score >= bananas.results[i].score);
  await engine.upsert('docs', [{ id: 'fresh', vector: Array(DIM).fill(1), text: 'a kumquat' }]);
  assert.deepEqual(
    (await engine.search('docs', {}, { text: 'kumquat' })).results.map((h) => h.id),
    ['fresh'],
  );
  await engine.upsert('docs', [{ id: 'fresh', vector: Array(DIM).fill(1), text: 'a lime' }]); // replaced: the old text goes
  assert.equal((await engine.search('docs', {}, { text: 'kumquat' })).results.length, 0);
  engine.patchItem('docs', 'v1', { text: 'quince jam' });
  assert.deepEqual(
    (await engine.search('docs', {}, { text: 'quince' })).results.map((h) => h.id),
    ['v1'],
  );
  await engine.deleteItems('docs', ['v1']);
  assert.equal((await engine.search('docs', {}, { text: 'quince' })).results.length, 0);
  await data.close();
  const again = await openEngine(t, dataDir);
  assert.deepEqual(
    (await again.search('docs', {}, { text: 'lime' })).results.map((h) => h.id),
    ['fresh'],
  );
  assert.equal((await again.search('docs', {}, { text: 'cafe', k: 100 })).results.length, 60);
  assert.equal(again.getItem('docs', 'v2').text, textOf(2));
});

test('keyword search with a filter, FTS5 syntax, and coded 400s for malformed queries that change nothing', async (t) => {
  const { engine } = await fill(t);
  const r = await engine.search('docs', {}, { text: 'cafe', filter: { 'payload.n': { $lt: 50 } }, k: 100 });
  assert.deepEqual(r.results.map((h) => h.id).sort(), ['v0', 'v10', 'v15', 'v20', 'v25', 'v30', 'v35', 'v40', 'v45', 'v5'].sort());
  const phrase = await engine.search('docs', {}, { text: '"apple and"', textSyntax: 'fts5', k: 300 });
  assert.ok(phrase.results.length > 0 && phrase.results.every((h) => textOf(Number(h.id.slice(1))).startsWith('apple and')));
  for (const text of ['"unterminated', 'AND OR', 'apple NEAR(', '(banana']) {
    await assert.rejects(
      engine.search('docs', {}, { text, textSyntax: 'fts5' }),
      (e: unknown) => e instanceof MrlError && e.code === 'INVALID_QUERY' && e.status === 400,
      text,
    );
  }
  // The same characters as plain words are fine.
  assert.ok((await engine.search('docs', {}, { text: '"unterminated apple (' })).results.length > 0);
  await assert.rejects(engine.search('docs', {}, { text: '  ' }), (e: unknown) => e instanceof MrlError && e.code === 'INVALID_QUERY');
  assert.equal(engine.describe('docs').count, 300);
});

test('hybrid: RRF over the vector list and the keyword list, each hit with its rank and score in each', async (t) => {
  const { engine, vectors } = await fill(t);
  const q = { vector: vectors[4] };
  const k = 10;
  const v = await engine.search('docs', q, { k: 100, exact: true });
  const kw = await engine.search('docs', {}, { text: 'cherry cafe', k: 100 });
  const score = new Map<string, number>();
  v.results.forEach((h, i) => score.set(h.id, 1 / (60 + i + 1)));
  kw.results.forEach((h, i) => score.set(h.id, (score.get(h.id) ?? 0) + 1 / (60 + i + 1)));
  const want = [...score.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
  const r = await engine.search('docs', q, { k, exact: true, text: 'cherry cafe' });
  assert.equal(r.mode, 'hybrid');
  assert.deepEqual(
    r.results.map((h) => h.id),
    want.map(([id]) => id),
  );
  r.results.forEach((h, i) => assert.ok(Math.abs(h.score - want[i][1]) < 1e-12));
  const top = r.results[0] as { id: string; sources: { vector?: { rank: number; score: number }; text?: { rank: number } } };
  assert.equal(top.sources.vector?.rank, v.results.findIndex((h) => h.id === top.id) + 1);
  assert.equal(top.sources.text?.rank, kw.results.findIndex((h) => h.id === top.id) + 1);
  assert.equal(r.keyword?.candidates, kw.results.length);
  // By id: the item itself is in neither list.
  const byId = await engine.search('docs', { id: 'v5' }, { k, text: 'cafe', filter: { 'payload.n': { $lt: 100 } } });
  assert.equal(byId.results.length, k);
  assert.ok(byId.results.every((h) => h.id !== 'v5' && (h.payload as { n: number }).n < 100));
});
