import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createKernel } from '../../src/compute/create-kernel.js';
import { DataContext } from '../../src/data-context.js';
import { parseFilter } from '../../src/search/filter/parse.js';
import { compileFilter } from '../../src/search/filter/sql.js';
import { defer, rng, tempDir } from '../helpers.js';

const DIM = 16;
const FIELDS = ['n', 's', 'm.x'];
const LABELS = [null, 'a', 'b', 'ab', 'é', '\u{1F600}'];
const STRINGS = ['', 'a', 'b', 'ab', 'é', '\uE000', '\u{1F600}', 'Z'];
const NUMBERS = [-1, 0, 0.5, 1, 2, 1e9];

type R = () => number;
const pick = <T>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const scalar = (r: R): unknown => pick(r, [undefined, null, pick(r, NUMBERS), pick(r, STRINGS)]);

/** A payload over the indexed fields (each may be missing) and one field that is not indexed. */
function randomPayload(r: R): Record<string, unknown> | undefined {
  if (r() < 0.1) return undefined;
  const p: Record<string, unknown> = { free: pick(r, [true, 1, 'a', [1], { y: 1 }]) };
  for (const [k, v] of [
    ['n', scalar(r)],
    ['s', scalar(r)],
    ['m', r() < 0.2 ? 'flat' : { x: scalar(r) }],
  ] as const)
    if (v !== undefined) p[k] = v;
  return p;
}

const randomItem = (r: R, id: string) => ({
  id,
  vector: Array.from({ length: DIM }, () => r() - 0.5),
  label: pick(r, LABELS),
  payload: randomPayload(r),
});

/** A filter on labels, the indexed fields or a field that is not indexed (answered by SQLite). */
function randomFilter(r: R, depth = 0): unknown {
  const field = pick(r, ['label', 'payload.n', 'payload.s', 'payload.m.x', 'payload.free']);
  const value = () => pick(r, [null, pick(r, NUMBERS), pick(r, STRINGS), field === 'label' ? pick(r, LABELS) : 1]);
  switch (pick(r, depth < 2 ? ['eq', 'in', 'range', 'exists', 'or'] : ['eq', 'in', 'range', 'exists'])) {
    case 'eq':
      return { [field]: value() };
    case 'in':
      return { [field]: { [pick(r, ['$in', '$nin'])]: [value(), value()] } };
    case 'range':
      return { [field]: { [pick(r, ['$gt', '$gte', '$lt', '$lte'])]: r() < 0.5 ? pick(r, NUMBERS) : pick(r, STRINGS) } };
    case 'exists':
      return { [field]: { $exists: r() < 0.5 } };
    default:
      return { $or: [randomFilter(r, depth + 1), { $not: randomFilter(r, depth + 1) }] };
  }
}

async function open(t: TestContext, threads: number): Promise<DataContext> {
  const kernel = await createKernel({ backend: 'js' });
  defer(t, () => kernel.close());
  const data = await DataContext.open({ dataDir: tempDir(t), kernel, searchThreads: threads });
  defer(t, () => data.close());
  return data;
}

test('after upserts, replacements, patches and deletes through the main thread, the workers’ label and indexed-field filters give SQLite’s answer, from journalled columns (not rebuilt)', async (t) => {
  const r = rng(21);
  const data = await open(t, 2);
  const e = data.engine;
  const pool = e.pool!;
  const rec = e.createCollection({ name: 'f', dim: DIM, indexDim: 8, rerankDim: 16, residentDim: 16, indexedFields: FIELDS });
  const ids = (n: number) => [...new Set(Array.from({ length: n }, () => `i${Math.floor(r() * 400)}`))];
  await e.upsert(
    'f',
    Array.from({ length: 300 }, (_, i) => randomItem(r, `i${i}`)),
  );
  /** The ids matching `f` in SQLite (the truth), sorted. */
  const truth = (f: unknown, fields = FIELDS) => {
    const c = compileFilter(parseFilter(f), new Set(fields));
    const rows = data.db
      .prepare(`SELECT id FROM items WHERE collection_id = ? AND (${c.where})`)
      .pluck()
      .all(rec.id, ...c.params);
    return (rows as string[]).sort();
  };
  /** Random filters searched exactly on the workers (both of them: searches in flight go to the least busy), each against SQLite. */
  const check = async (when: string, count = 12, fields = FIELDS) => {
    const filters = Array.from({ length: count }, () => randomFilter(r));
    const q = Array.from({ length: DIM }, () => r() - 0.5);
    const got = await Promise.all(filters.map((filter) => e.search('f', { vector: q }, { k: 1000, exact: true, filter })));
    filters.forEach((f, i) => {
      const ids = got[i].results.map((h) => h.id).sort();
      assert.deepEqual(ids, truth(f, fields), `${when}: ${JSON.stringify(f)}`);
    });
  };
  await check('built');
  const builds = async () => (await pool.memory('f', 10_000)).map((m) => m?.filterColumnsBuilds);
  const built = await builds();
  assert.deepEqual(built, [1, 1], 'each worker built its columns once');
  for (let round = 0; round < 6; round++) {
    await e.upsert(
      'f',
      ids(12).map((id) => randomItem(r, id)),
    );
    await check(`round ${round}, after an upsert (new rows and replaced ones)`);
    for (const id of ids(4)) {
      const it = randomItem(r, id);
      const patch = pick(r, [{ label: it.label }, { payload: it.payload ?? null }, { label: it.label, payload: it.payload ?? null }]);
      try {
        e.patchItem('f', id, patch);
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'ITEM_NOT_FOUND'); // an id deleted before
      }
    }
    await check(`round ${round}, after patches`);
    await e.deleteItems('f', ids(10));
    await check(`round ${round}, after a delete`);
  }
  // Writes applied as the cluster's log applier applies a message (src/cluster/applier.ts): the store, then the engine's caches.
  let logSeq = 0;
  const applyLogged = (writes: { upserts?: ReturnType<typeof randomItem>[]; deletes?: string[]; patch?: [string, { label: string }] }) => {
    const upserts = (writes.upserts ?? []).map((it) => ({
      ...it,
      vector: Float32Array.from(it.vector),
      payload: it.payload === undefined ? null : JSON.stringify(it.payload),
      text: null,
    }));
    const patches = writes.patch ? [{ id: writes.patch[0], patch: writes.patch[1] }] : [];
    const pos = { collection: 'f', shard: 0, seq: ++logSeq };
    const res = e.items.applyLogged(rec.id, pos, upserts, writes.deletes ?? [], patches);
    assert.ok(res);
    e.applyCommitted('f', upserts, res, res.patchedSeqs);
  };
  applyLogged({ upserts: ids(8).map((id) => randomItem(r, id)) });
  await check('after a logged upsert');
  applyLogged({ deletes: ids(6) });
  await check('after a logged delete');
  const kept = truth({})[0];
  applyLogged({ patch: [kept, { label: 'logged' }] });
  await check('after a logged patch');
  assert.deepEqual(truth({ label: 'logged' }), [kept]);
  const byLabel = await e.search('f', { vector: Array(DIM).fill(1) }, { k: 5, filter: { label: 'logged' } });
  assert.deepEqual(
    byLabel.results.map((h) => h.id),
    [kept],
  );
  assert.deepEqual(await builds(), built, 'the columns followed every write without being read again from SQLite');
  // Other indexed fields: the workers' columns no longer fit and are read again, with the new field.
  e.setIndexedFields('f', ['n', 's']);
  await e.upsert('f', [randomItem(r, 'after')]);
  await check('after the indexed fields changed', 12, ['n', 's']);
  assert.ok(
    (await builds()).every((b) => b === 2),
    'built again once the fields changed',
  );
});
