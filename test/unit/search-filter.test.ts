import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MrlError } from '../../src/errors.js';
import { parseFilter } from '../../src/search/filter/parse.js';
import { compileFilter } from '../../src/search/filter/sql.js';
import { openDatabase } from '../../src/store/db.js';
import { tempDir } from '../helpers.js';
import { join } from 'node:path';

/** Items whose payloads cover the cases: numbers, strings, booleans, null, arrays, nesting, missing fields. */
const ITEMS: { id: string; label: string | null; payload: unknown }[] = [
  { id: 'a', label: 'cats', payload: { year: 2019, lang: 'en', tags: ['x', 'y'], meta: { score: 0.5, src: 'web' }, flag: true } },
  { id: 'b', label: 'dogs', payload: { year: 2020, lang: 'de', tags: ['y'], meta: { score: 0.9 }, flag: false } },
  { id: 'c', label: 'cats', payload: { year: 2021, lang: 'fr', tags: [], nums: [1, 5, 9] } },
  { id: 'd', label: null, payload: { year: '2022', lang: null } },
  { id: 'e', label: 'birds', payload: null },
  { id: 'f', label: 'dogs', payload: { year: 2023.5, lang: 'en', flag: 1, meta: { src: 'book' } } },
];

function store(t: Parameters<typeof tempDir>[0]) {
  const db = openDatabase(join(tempDir(t), 'f.db'));
  t.after(() => db.close());
  db.prepare(
    "INSERT INTO collections (name, dim, index_dim, rerank_dim, resident_dim, nesting, hnsw_m, hnsw_ef_construction, hnsw_ef_search, created_at) VALUES ('c', 4, 4, 4, 4, '[4]', 16, 100, 64, 'now')",
  ).run();
  const ins = db.prepare('INSERT INTO items (collection_id, id, label, payload, vector) VALUES (1, ?, ?, ?, ?)');
  for (const it of ITEMS) ins.run(it.id, it.label, it.payload === null ? null : JSON.stringify(it.payload), Buffer.alloc(16));
  db.exec("CREATE INDEX fy ON items (collection_id, json_extract(payload, '$.year'))");
  const run = (filter: unknown, indexed?: Set<string>) => {
    const c = compileFilter(parseFilter(filter), indexed);
    return (
      db
        .prepare(`SELECT id FROM items WHERE collection_id = 1 AND (${c.where}) ORDER BY id`)
        .pluck()
        .all(...c.params) as string[]
    ).join('');
  };
  const plan = (filter: unknown, indexed: Set<string>) => {
    const c = compileFilter(parseFilter(filter), indexed);
    return (
      db.prepare(`EXPLAIN QUERY PLAN SELECT seq FROM items WHERE collection_id = 1 AND (${c.where})`).all(...c.params) as {
        detail: string;
      }[]
    )
      .map((r) => r.detail)
      .join('; ');
  };
  return { run, plan };
}

/** [filter, ids it matches]: every operator, nesting, missing fields, type mismatches, arrays. */
const TABLE: [unknown, string][] = [
  [{}, 'abcdef'],
  [{ label: 'cats' }, 'ac'],
  [{ label: { $eq: 'dogs' } }, 'bf'],
  [{ label: null }, 'd'],
  [{ label: { $ne: 'cats' } }, 'bdef'],
  [{ label: { $in: ['birds', 'dogs'] } }, 'bef'],
  [{ label: { $nin: ['birds', 'dogs'] } }, 'acd'],
  [{ label: { $exists: false } }, 'd'],
  [{ label: { $gt: 'cats' } }, 'bf'],
  [{ id: { $in: ['a', 'z'] } }, 'a'],
  [{ id: { $gte: 'e' } }, 'ef'],
  [{ 'payload.year': 2020 }, 'b'],
  [{ 'payload.year': { $gte: 2020 } }, 'bcf'],
  [{ 'payload.year': { $gt: 2020, $lt: 2023 } }, 'c'],
  [{ 'payload.year': { $lte: 2019 } }, 'a'],
  [{ 'payload.year': '2022' }, 'd'], // a string equals only a string
  [{ 'payload.year': { $gte: '2000' } }, 'd'], // strings compare with strings only
  [{ 'payload.year': 2022 }, ''], // a number never equals a string
  [{ 'payload.flag': true }, 'a'], // true is not 1
  [{ 'payload.flag': 1 }, 'f'],
  [{ 'payload.flag': false }, 'b'],
  [{ 'payload.lang': null }, 'd'], // an explicit null only
  [{ 'payload.lang': { $exists: true } }, 'abcdf'], // null exists
  [{ 'payload.lang': { $exists: false } }, 'e'], // no payload at all
  [{ 'payload.lang': { $ne: 'en' } }, 'bcde'], // missing and null fields are "not en"
  [{ 'payload.lang': { $nin: ['en', 'de'] } }, 'cde'],
  [{ 'payload.tags': 'y' }, 'ab'], // an array matches when an element does
  [{ 'payload.tags': { $in: ['x', 'q'] } }, 'a'],
  [{ 'payload.tags': { $ne: 'y' } }, 'cdef'],
  [{ 'payload.nums': { $gt: 8 } }, 'c'], // any element
  [{ 'payload.nums': { $gt: 1, $lt: 5 } }, 'c'], // each condition by some element (Mongo's semantics)
  [{ 'payload.tags': { $exists: true } }, 'abc'], // an empty array exists
  [{ 'payload.meta.score': { $gte: 0.6 } }, 'b'],
  [{ 'payload.meta.src': 'web' }, 'a'],
  [{ 'payload.meta': 'web' }, ''], // an object's values are not elements
  [{ 'payload.meta.src': { $exists: false } }, 'bcde'],
  [{ $or: [{ 'payload.lang': 'en' }, { 'payload.lang': { $in: ['de', 'fr'] } }] }, 'abcf'],
  [{ $and: [{ label: 'dogs' }, { 'payload.lang': 'en' }] }, 'f'],
  [{ label: 'dogs', 'payload.lang': 'en' }, 'f'], // top-level keys are an implicit $and
  [{ $not: { label: 'cats' } }, 'bdef'],
  [{ 'payload.year': { $not: { $gte: 2020 } } }, 'ade'],
  [{ $or: [{ $and: [{ label: 'cats' }, { $not: { 'payload.year': 2019 } }] }, { id: 'e' }] }, 'ce'],
];

test('filter semantics: every operator, nesting, missing fields, type mismatches and arrays', (t) => {
  const { run } = store(t);
  for (const [filter, want] of TABLE) assert.equal(run(filter), want, JSON.stringify(filter));
});

test('indexed fields (numbers, strings, null) give the same answers from the index alone', (t) => {
  const { run, plan } = store(t);
  const indexed = new Set(['year', 'lang', 'meta.score', 'meta.src']);
  let compared = 0;
  for (const [filter, want] of TABLE) {
    if (/tags|nums|flag|"payload\.meta"/.test(JSON.stringify(filter))) continue; // arrays, booleans, objects: not indexable
    assert.equal(run(filter, indexed), want, JSON.stringify(filter));
    compared++;
  }
  assert.ok(compared >= 25, `${compared} filters compared`);
  assert.match(plan({ 'payload.year': { $gte: 2020 } }, indexed), /USING COVERING INDEX fy/);
  assert.doesNotMatch(plan({ 'payload.year': { $gte: 2020 } }, new Set()), /COVERING INDEX/);
});

/** [filter, the place the error must name]. */
const BAD: [unknown, string][] = [
  [[], 'filter'],
  ['cats', 'filter'],
  [{ $nor: [] }, 'filter.$nor'],
  [{ colour: 'red' }, 'filter.colour'],
  [{ label: { $regex: 'c.*' } }, 'filter.label.$regex'],
  [{ label: { $in: 'cats' } }, 'filter.label.$in'],
  [{ label: { $in: [{ a: 1 }] } }, 'filter.label.$in[0]'],
  [{ label: { $gt: true } }, 'filter.label.$gt'],
  [{ label: { $exists: 1 } }, 'filter.label.$exists'],
  [{ label: {} }, 'filter.label'],
  [{ label: ['a'] }, 'filter.label'],
  [{ $or: [] }, 'filter.$or'],
  [{ $or: [{ label: 'a' }, 3] }, 'filter.$or[1]'],
  [{ 'payload.a b': 1 }, 'filter.payload.a b'],
  [{ 'payload.': 1 }, 'filter.payload.'],
  [{ 'payload.x': { $eq: Number.NaN } }, 'filter.payload.x.$eq'],
];

test('bad filters are INVALID_FILTER naming the place', () => {
  for (const [filter, at] of BAD) {
    assert.throws(
      () => parseFilter(filter),
      (e: unknown) => e instanceof MrlError && e.code === 'INVALID_FILTER' && e.status === 400 && e.params.at === at,
      JSON.stringify(filter),
    );
  }
});

test('nesting deeper than 8 or more than 256 terms is refused; at the limits it parses', () => {
  const nest = (n: number): unknown => (n === 0 ? { label: 'a' } : { $and: [nest(n - 1)] });
  parseFilter(nest(7));
  assert.throws(() => parseFilter(nest(8)), /deeper than 8/);
  parseFilter({ label: { $in: Array.from({ length: 256 }, (_, i) => `l${i}`) } });
  assert.throws(() => parseFilter({ label: { $in: Array.from({ length: 257 }, (_, i) => `l${i}`) } }), /more than 256 terms/);
  assert.throws(() => parseFilter({ $or: Array.from({ length: 257 }, (_, i) => ({ id: `x${i}` })) }), /more than 256 terms/);
});
