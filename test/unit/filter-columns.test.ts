import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SeqSet } from '../../src/core/seq-set.js';
import { toldWrite, writeMessage } from '../../src/engine/pool/write-message.js';
import { compareCodePoints } from '../../src/search/filter/code-points.js';
import { matchFilter } from '../../src/search/filter/match.js';
import { parseFilter } from '../../src/search/filter/parse.js';
import { compileFilter } from '../../src/search/filter/sql.js';
import type { CollectionRecord } from '../../src/store/collections.js';
import { openDatabase } from '../../src/store/db.js';
import { ItemStore, type ItemWrite } from '../../src/store/items.js';
import { tempDir } from '../helpers.js';

const FIELDS = ['n', 's', 'm.x'];
/** Strings that order differently by UTF-16 unit and by code point (U+E000, U+1F600), empty, accented. */
const STRINGS = ['', 'a', 'b', 'ab', 'é', 'e\u0301', '\uE000', '\u{1F600}', 'a\u{1F600}', 'a\uE000', 'Z'];
const NUMBERS = [-1, 0, 0.5, 1, 2, 3, 1e9, -0.25];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

type R = () => number;
const pick = <T>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
/** A value an indexed field may hold, or undefined (missing). */
const scalar = (r: R): unknown => pick(r, [undefined, null, pick(r, NUMBERS), pick(r, STRINGS), pick(r, NUMBERS), pick(r, STRINGS)]);

function payload(r: R): string | null {
  if (r() < 0.1) return null;
  const p: Record<string, unknown> = {};
  for (const [k, v] of [
    ['n', scalar(r)],
    ['s', scalar(r)],
    ['m', r() < 0.2 ? 'flat' : { x: scalar(r) }],
    ['free', pick(r, [true, false, 1, 'a', [1, 'a'], [], { y: 1 }, null, undefined])],
  ] as const)
    if (v !== undefined) p[k] = v;
  return JSON.stringify(p);
}

function item(r: R, id: string): ItemWrite {
  return { id, vector: new Float32Array(4), label: pick(r, [null, 'a', 'b', 'ab', '\u{1F600}', '\uE000', 'é']), payload: payload(r) };
}

/** A random filter over labels, ids, the indexed fields and a field that is not indexed. */
function filter(r: R, depth = 0): unknown {
  const roll = r();
  if (depth < 3 && roll < 0.25) {
    const terms = Array.from({ length: 1 + Math.floor(r() * 3) }, () => filter(r, depth + 1));
    return pick(r, [{ $and: terms }, { $or: terms }, { $not: terms[0] }]);
  }
  const field = pick(r, ['label', 'label', 'id', 'payload.n', 'payload.s', 'payload.m.x', 'payload.free', 'payload.m']);
  const value = () =>
    field === 'id' ? `i${Math.floor(r() * 60)}` : pick(r, [null, true, pick(r, NUMBERS), pick(r, STRINGS), pick(r, STRINGS)]);
  const rangeValue = () => (field === 'id' ? `i${Math.floor(r() * 60)}` : r() < 0.5 ? pick(r, NUMBERS) : pick(r, STRINGS));
  const op = pick(r, ['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists', 'bare', 'not']);
  if (op === 'bare') return { [field]: value() };
  if (op === '$in' || op === '$nin') return { [field]: { [op]: [value(), value()] } };
  if (op === '$exists') return { [field]: { $exists: r() < 0.5 } };
  if (op === 'not') return { [field]: { $not: { $gte: rangeValue() } } };
  if (op === '$eq' || op === '$ne') return { [field]: { [op]: value() } };
  return { [field]: { [op]: rangeValue(), ...(r() < 0.3 ? { $lt: rangeValue() } : {}) } };
}

function setup(t: Parameters<typeof tempDir>[0]) {
  const db = openDatabase(join(tempDir(t), 'c.db'));
  t.after(() => db.close());
  db.prepare(
    "INSERT INTO collections (name, dim, index_dim, rerank_dim, resident_dim, nesting, hnsw_m, hnsw_ef_construction, hnsw_ef_search, created_at) VALUES ('c', 4, 4, 4, 4, '[4]', 16, 100, 64, 'now')",
  ).run();
  const items = new ItemStore(db);
  const indexed = new Set(FIELDS);
  /** ids matching `f`, in id order: from SQLite (the truth) and from the columns. */
  const both = (f: unknown) => {
    const node = parseFilter(f);
    const c = compileFilter(node, indexed);
    const sql = db
      .prepare(`SELECT seq FROM items WHERE collection_id = 1 AND (${c.where}) ORDER BY seq`)
      .pluck()
      .all(...c.params) as number[];
    const mem = Array.from(matchFilter(items, { id: 1, indexedFields: FIELDS, indexDim: 4 }, node).set.seqs);
    return { sql, mem };
  };
  return { db, items, both };
}

function checkRandomFilters(both: ReturnType<typeof setup>['both'], r: R, count: number, when: string): void {
  for (let i = 0; i < count; i++) {
    const f = filter(r);
    const { sql, mem } = both(f);
    assert.deepEqual(mem, sql, `${when}: ${JSON.stringify(f)}`);
  }
}

test('in-memory filter columns give SQLite’s answer on random data and random filters', (t) => {
  const r = rng(11);
  const { items, both } = setup(t);
  items.upsert(
    1,
    Array.from({ length: 60 }, (_, i) => item(r, `i${i}`)),
  );
  checkRandomFilters(both, r, 400, 'built');
  // Hand-picked cases where UTF-16 order and code-point order differ, and type mismatches.
  for (const f of [
    { 'payload.s': { $gt: '\uE000' } },
    { label: { $lt: '\u{1F600}' } },
    { 'payload.n': { $gte: '' } },
    { 'payload.n': true },
    { label: 1 },
    { 'payload.m.x': null },
    { 'payload.m.x': { $exists: false } },
    {},
  ])
    assert.deepEqual(both(f).mem, both(f).sql, JSON.stringify(f));
});

test('the columns stay right after upserts, replacements, deletes, patches and rolled-back writes', (t) => {
  const r = rng(5);
  const { db, items, both } = setup(t);
  items.upsert(
    1,
    Array.from({ length: 40 }, (_, i) => item(r, `i${i}`)),
  );
  checkRandomFilters(both, r, 50, 'first');
  const ids = () => Array.from({ length: 5 }, () => `i${Math.floor(r() * 60)}`);
  for (let round = 0; round < 8; round++) {
    items.upsert(
      1,
      [...new Set(ids())].map((id) => item(r, id)),
    );
    checkRandomFilters(both, r, 25, `round ${round}, after an upsert`);
    items.delete(1, ids());
    checkRandomFilters(both, r, 25, `round ${round}, after a delete`);
    for (const id of ids()) {
      const it = item(r, id);
      items.patch(1, id, r() < 0.5 ? { label: it.label } : { payload: it.payload });
    }
    checkRandomFilters(both, r, 25, `round ${round}, after patches`);
    // A batch whose second item fails inside the transaction: the first (and the replaced row) must not change.
    const victim = ids()[0];
    assert.throws(() => items.upsert(1, [item(r, victim), { ...item(r, 'bad'), vector: undefined as unknown as Float32Array }]));
    items.delete(1, [ids()[0]]);
    checkRandomFilters(both, r, 25, `round ${round}, after a failed batch and a delete`);
    // Writes inside a transaction the store did not open: one rolled back, one committed.
    assert.throws(() =>
      db.transaction(() => {
        items.upsert(1, [item(r, 'outer')]);
        items.delete(1, ids());
        throw new Error('roll back');
      })(),
    );
    checkRandomFilters(both, r, 25, `round ${round}, after an outer rollback`);
    db.transaction(() => {
      items.upsert(1, [item(r, ids()[0])]);
      items.patch(1, ids()[0], { label: 'outer' });
    })();
    checkRandomFilters(both, r, 25, `round ${round}, after an outer commit`);
    assert.deepEqual(both({ $or: [{ id: 'bad' }, { id: 'outer' }] }).mem, []);
  }
});

test('a repeated filter is one cached match until the next write', (t) => {
  const r = rng(3);
  const { items } = setup(t);
  items.upsert(1, [item(r, 'a'), { ...item(r, 'b'), label: 'x' }]);
  const node = parseFilter({ label: 'x' });
  const first = matchFilter(items, { id: 1, indexedFields: FIELDS, indexDim: 4 }, node).set;
  assert.equal(matchFilter(items, { id: 1, indexedFields: FIELDS, indexDim: 4 }, node).set, first);
  items.patch(1, 'a', { label: 'x' });
  const after = matchFilter(items, { id: 1, indexedFields: FIELDS, indexDim: 4 }, node).set;
  assert.notEqual(after, first);
  assert.equal(after.size, 2);
});

test('a match carries each row’s normalised prefix, through replacements, deletes and compaction', (t) => {
  const r = rng(8);
  const { items } = setup(t);
  const vec = () => Float32Array.from({ length: 4 }, () => r() - 0.5);
  const stored = new Map<string, Float32Array>();
  const write = (ids: string[]) => {
    const batch = ids.map((id) => ({ ...item(r, id), label: 'x', vector: vec() }));
    items.upsert(1, batch);
    for (const b of batch) stored.set(b.id, b.vector);
  };
  write(Array.from({ length: 1500 }, (_, i) => `i${i}`));
  const check = (when: string) => {
    const m = matchFilter(items, { id: 1, indexedFields: FIELDS, indexDim: 3 }, parseFilter({ label: 'x' }));
    const ids = items.getBySeqs(Array.from(m.set.seqs));
    assert.equal(m.set.size, stored.size, when);
    m.set.seqs.forEach((seq, i) => {
      const v = stored.get(ids.get(seq)?.id ?? '') as Float32Array;
      const norm = Math.hypot(v[0], v[1], v[2]);
      const got = Array.from(m.prefix.subarray(m.rows[i] * 3, m.rows[i] * 3 + 3));
      got.forEach((x, j) => assert.ok(Math.abs(x - v[j] / norm) < 1e-6, `${when}: seq ${seq}`));
    });
    return m;
  };
  const before = check('built');
  const kept = Array.from(before.prefix.subarray(0, 3 * 1500));
  write(['i3', 'i700', 'new']);
  check('after replacing two and adding one');
  const gone = Array.from({ length: 1200 }, (_, i) => `i${i + 100}`);
  items.delete(1, gone);
  for (const id of gone) stored.delete(id);
  check('after deleting 1200 of 1501 (compacted)');
  assert.deepEqual(Array.from(before.prefix.subarray(0, 3 * 1500)), kept, 'an earlier match still reads its own rows');
});

test('SeqSet answers membership over its span; code points order strings as UTF-8 bytes', () => {
  const s = new SeqSet(Uint32Array.from([5, 6, 40, 1000]));
  assert.deepEqual(
    [4, 5, 6, 7, 39, 40, 999, 1000, 1001].map((x) => s.has(x)),
    [false, true, true, false, false, true, false, true, false],
  );
  assert.equal(new SeqSet(new Uint32Array(0)).has(0), false);
  const words = [...STRINGS].sort(compareCodePoints);
  const bytes = [...STRINGS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.deepEqual(words, bytes);
});

test('columns built after writes another connection committed pass over those writes when told of them later, and follow the rest', (t) => {
  const r = rng(17);
  const { db, items: writer } = setup(t);
  const reader = new ItemStore(db); // as a search worker's store: it sees the commits, and is told of them after
  const record = { name: 'c', indexDim: 4, indexedFields: FIELDS } as unknown as CollectionRecord;
  const told = (res: { added: { seq: number; vector: Float32Array }[]; removedSeqs: number[] }, patchedSeqs: number[] = []) => {
    const meta = (seq: number) => {
      const row = writer.getBySeq(seq);
      return { label: row?.label ?? null, payload: row?.payload ?? null };
    };
    const patched = patchedSeqs.map((seq) => ({ seq, ...meta(seq) }));
    return toldWrite(writeMessage(record, { added: res.added.map((a) => ({ ...a, ...meta(a.seq) })), removed: res.removedSeqs, patched }));
  };
  const readerBoth = (f: unknown) => {
    const node = parseFilter(f);
    const c = compileFilter(node, new Set(FIELDS));
    const sql = db
      .prepare(`SELECT seq FROM items WHERE collection_id = 1 AND (${c.where}) ORDER BY seq`)
      .pluck()
      .all(...c.params) as number[];
    return { sql, mem: Array.from(matchFilter(reader, { id: 1, indexedFields: FIELDS, indexDim: 4 }, node).set.seqs) };
  };
  const w0 = told(
    writer.upsert(
      1,
      Array.from({ length: 30 }, (_, i) => item(r, `i${i}`)),
    ),
  );
  const ids = () => [...new Set(Array.from({ length: 6 }, () => `i${Math.floor(r() * 40)}`))];
  const w1 = told(
    writer.upsert(
      1,
      ids().map((id) => item(r, id)),
    ),
  );
  const gone = writer.delete(1, ids());
  const w2 = told({ added: [], removedSeqs: gone.removedSeqs });
  const patchedId = writer.refs(1)[0];
  writer.patch(1, patchedId.id, { label: 'late' });
  const w3 = told({ added: [], removedSeqs: [] }, [patchedId.seq]);
  checkRandomFilters(readerBoth, r, 25, 'built after every write');
  for (const w of [w0, w1, w2, w3]) reader.noteExternalWrite(1, w);
  checkRandomFilters(readerBoth, r, 25, 'told of writes the columns were built with');
  assert.deepEqual(readerBoth({ label: 'late' }).mem, [patchedId.seq]);
  for (let round = 0; round < 4; round++) {
    reader.noteExternalWrite(
      1,
      told(
        writer.upsert(
          1,
          ids().map((id) => item(r, id)),
        ),
      ),
    );
    reader.noteExternalWrite(1, told({ added: [], removedSeqs: writer.delete(1, ids()).removedSeqs }));
    const p = writer.refs(1)[round];
    writer.patch(1, p.id, { payload: item(r, p.id).payload });
    reader.noteExternalWrite(1, told({ added: [], removedSeqs: [] }, [p.seq]));
    checkRandomFilters(readerBoth, r, 25, `round ${round}, told after each write`);
  }
  assert.equal(reader.filters.stats(1).builds, 1, 'built once: every told write was journalled');
  reader.noteExternalWrite(1); // a write nothing was told of: read again
  checkRandomFilters(readerBoth, r, 5, 'after an untold write');
  assert.equal(reader.filters.stats(1).builds, 2);
});
