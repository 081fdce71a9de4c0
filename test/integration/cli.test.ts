import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFvecs } from '../../src/io/readers.js';
import { mrlLikeVectors, tempDir } from '../helpers.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../src/cli.ts');

async function mrl(dataDir: string, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', CLI, '--data-dir', dataDir, ...args], {
      env: { ...process.env, MRL_KERNEL: 'js' },
    });
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

test('mrl: create, ingest NDJSON with bad lines and .fvecs, search, show, list, drop', async (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'data');
  const { vectors, labels } = mrlLikeVectors(300, 16, 9);
  const lines = vectors.map((v, i) => JSON.stringify({ id: `n${i}`, vector: v, label: labels[i], payload: { i } }));
  lines.splice(
    10,
    0,
    '{"id": "bad1", "vector": [1, 2]}',
    'not json',
    '{"id": "bad3", "vector": ' + JSON.stringify([...vectors[0].slice(0, 15), 'x']) + '}',
  );
  writeFileSync(join(dir, 'a.ndjson'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'b.fvecs'), writeFvecs(vectors.slice(0, 50)));

  assert.equal((await mrl(data, 'collections', 'create', 'docs', '--dim', '16', '--index-dim', '8')).code, 0);
  const ing = await mrl(data, 'ingest', join(dir, 'a.ndjson'), '--collection', 'docs', '--batch', '64');
  assert.equal(ing.code, 0, ing.stderr);
  const summary = JSON.parse(ing.stdout);
  assert.equal(summary.rows, 300);
  assert.equal(summary.badLines, 3);
  assert.ok(summary.rowsPerSecond > 0 && summary.seconds >= 0);
  // The same {line, code, message} as the HTTP NDJSON reply, one per line.
  assert.match(ing.stderr, /line 11: DIM_MISMATCH: vector has 2 values/);
  assert.match(ing.stderr, /line 12: VALIDATION: invalid JSON/);
  assert.match(ing.stderr, /line 13: INVALID_VECTOR: /);

  const fv = JSON.parse((await mrl(data, 'ingest', join(dir, 'b.fvecs'), '--collection', 'docs')).stdout);
  assert.equal(fv.rows, 50);

  const s = JSON.parse((await mrl(data, 'search', '--collection', 'docs', '--id', 'n3', '--k', '5')).stdout);
  assert.equal(s.results.length, 5);
  assert.equal(s.results[0].id, '3'); // the .fvecs copy of n3's vector (id = its ordinal)
  assert.ok(!s.results.some((r: { id: string }) => r.id === 'n3'));
  const v = JSON.parse(
    (await mrl(data, 'search', '--collection', 'docs', '--vector', JSON.stringify(vectors[7]), '--funnel', '8:100,16:10')).stdout,
  );
  assert.deepEqual(
    v.results
      .slice(0, 2)
      .map((r: { id: string }) => r.id)
      .sort(),
    ['7', 'n7'],
  );

  const show = JSON.parse((await mrl(data, 'collections', 'show', 'docs')).stdout);
  assert.equal(show.count, 350);
  assert.equal(show.index.lastOpen.loadedSnapshot, true);
  assert.deepEqual(JSON.parse((await mrl(data, 'collections', 'list')).stdout), [{ name: 'docs', dim: 16, count: 350 }]);

  const bad = await mrl(data, 'search', '--collection', 'docs', '--vector', '[1,2]');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /DIM_MISMATCH/);
  assert.equal((await mrl(data, 'collections', 'drop', 'docs')).code, 0);
  assert.match((await mrl(data, 'collections', 'show', 'docs')).stderr, /COLLECTION_NOT_FOUND/);
});

test('mrl collections: --indexed-fields at creation, changed later with update', async (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'data');
  const rows = [
    { id: 'a', vector: [1, 0, 0, 0], payload: { year: 2020, lang: 'en' } },
    { id: 'b', vector: [0, 1, 0, 0], payload: { year: 2021, tags: ['x'] } },
  ];
  writeFileSync(join(dir, 'a.ndjson'), rows.map((r) => JSON.stringify(r)).join('\n'));
  const created = await mrl(data, 'collections', 'create', 'docs', '--dim', '4', '--indexed-fields', 'year,lang');
  assert.equal(created.code, 0, created.stderr);
  assert.deepEqual(JSON.parse(created.stdout).indexedFields, ['year', 'lang']);
  assert.equal((await mrl(data, 'ingest', join(dir, 'a.ndjson'), '--collection', 'docs')).code, 0);
  assert.deepEqual(JSON.parse((await mrl(data, 'collections', 'show', 'docs')).stdout).indexedFields, ['year', 'lang']);

  const updated = await mrl(data, 'collections', 'update', 'docs', '--indexed-fields', 'lang');
  assert.equal(updated.code, 0, updated.stderr);
  assert.deepEqual(JSON.parse(updated.stdout).indexedFields, ['lang']);
  assert.deepEqual(JSON.parse((await mrl(data, 'collections', 'show', 'docs')).stdout).indexedFields, ['lang']);
  // A field a stored item holds as an array cannot be indexed: refused, nothing changes.
  const refused = await mrl(data, 'collections', 'update', 'docs', '--indexed-fields', 'lang,tags');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /INVALID_COLLECTION: payload\.tags cannot be indexed: item 'b'/);
  assert.deepEqual(JSON.parse((await mrl(data, 'collections', 'show', 'docs')).stdout).indexedFields, ['lang']);
  const cleared = await mrl(data, 'collections', 'update', 'docs', '--indexed-fields', '');
  assert.deepEqual(JSON.parse(cleared.stdout).indexedFields, []);

  const badPath = await mrl(data, 'collections', 'create', 'other', '--dim', '4', '--indexed-fields', 'a..b');
  assert.equal(badPath.code, 1);
  assert.match(badPath.stderr, /INVALID_COLLECTION: indexedFields\[0\]/);
  const noFields = await mrl(data, 'collections', 'update', 'docs');
  assert.equal(noFields.code, 2);
  assert.match(noFields.stderr, /collections update needs --indexed-fields[\s\S]*mrl collections update <name> --indexed-fields/);
});

test('mrl eval: one configuration, a sweep that applies its best point, the classification cascade', async (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'data');
  const { vectors, labels } = mrlLikeVectors(200, 16, 4);
  writeFileSync(join(dir, 'a.ndjson'), vectors.map((v, i) => JSON.stringify({ id: `n${i}`, vector: v, label: labels[i] })).join('\n'));
  assert.equal((await mrl(data, 'collections', 'create', 'docs', '--dim', '16', '--index-dim', '4', '--nesting', '4,8,16')).code, 0);
  assert.equal((await mrl(data, 'ingest', join(dir, 'a.ndjson'), '--collection', 'docs')).code, 0);

  const one = await mrl(data, 'eval', '--collection', 'docs', '--sample', '50', '--shortlist', '40', '--rerank', '16', '--json');
  assert.equal(one.code, 0, one.stderr);
  const r = JSON.parse(one.stdout);
  assert.equal(r.queries, 50);
  assert.ok(r.mapAt10 > 0 && r.mapAt10 <= 1 && r.recallAt10VsExact > 0);
  const table = await mrl(data, 'eval', '--collection', 'docs', '--sample', '20', '--funnel', '4:60,16:10');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /index 4d→60, rerank 16d→10[\s\S]*mAP@10[\s\S]*recall@10 vs exact/);

  const sw = await mrl(
    data,
    'eval',
    '--sweep',
    '--collection',
    'docs',
    '--sample',
    '50',
    '--index-dims',
    '4,16',
    '--shortlists',
    '20,60',
    '--funnels',
    '',
    '--cost',
    'flops',
    '--apply',
    '--json',
  );
  assert.equal(sw.code, 0, sw.stderr);
  const s = JSON.parse(sw.stdout);
  assert.equal(s.points.length, 4);
  assert.ok(s.best, 'a 16-d index stage reaches exact recall on 200 items');
  assert.equal(s.applied, true);
  const show = JSON.parse((await mrl(data, 'collections', 'show', 'docs')).stdout);
  assert.equal(show.indexDim, s.best.indexDims);
  assert.equal(show.searchDefaults.shortlist, s.best.search.shortlist);

  const bad = await mrl(data, 'eval', '--collection', 'docs', '--sample=-3');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /INVALID_EVAL/);

  const fixture = join(import.meta.dirname, '../fixtures/fashion-sample');
  const cls = await mrl(data, 'eval', '--classify', '--model', 'fashion-mrl', '--data', fixture, '--thresholds', '0,0.9,1', '--json');
  assert.equal(cls.code, 0, cls.stderr);
  const c = JSON.parse(cls.stdout) as { sweep: { threshold: number; meanDims: number }[] };
  assert.deepEqual(
    c.sweep.map((p) => p.threshold),
    [0, 0.9, 1],
  );
  assert.equal(c.sweep[0].meanDims, 8);
  assert.equal(c.sweep[2].meanDims, 512);
});

test('mrl help lists every subcommand from one table; usage errors exit 2 with the usage', async (t) => {
  const data = join(tempDir(t), 'data');
  const help = await mrl(data, 'help');
  assert.equal(help.code, 0, help.stderr);
  for (const name of [
    'collections create',
    'collections update',
    'collections list',
    'ingest',
    'train --data',
    'train --model text-mrl',
    'backup',
    'restore',
    'search',
    'eval --sweep',
    'eval --classify',
    'help',
  ]) {
    assert.ok(help.stdout.includes(`mrl ${name}`), `help lists mrl ${name}`);
  }
  const none = await run(process.execPath, ['--import', 'tsx', CLI]).catch((e: { code: number; stdout: string }) => e);
  assert.equal((none as { code?: number }).code, 2);
  assert.equal((none as { stdout: string }).stdout, help.stdout);

  const unknown = await mrl(data, 'frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command: frobnicate/);
  const noFile = await mrl(data, 'ingest', '--collection', 'docs');
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /^mrl ingest: ingest needs a file and --collection\n\n {2}mrl ingest </);
  const badFlag = await mrl(data, 'search', '--collection', 'docs', '--sweep');
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /Unknown option '--sweep'[\s\S]*mrl search --collection/);
  // Usage errors of the commands that parse their own flags take the same path.
  const train = await mrl(data, 'train', '--data', 'x', '--out', 'y', '--efficient', '--fixed', '64');
  assert.equal(train.code, 2);
  assert.match(train.stderr, /^mrl train: --efficient and --fixed exclude each other\n\nusage: mrl train --data/);
  const cls = await mrl(data, 'eval', '--classify', '--thresholds', '2');
  assert.equal(cls.code, 2);
  assert.match(cls.stderr, /^mrl eval: --thresholds: '2' is not a number in \[0, 1\]/);

  const trainHelp = await mrl(data, 'train', '--help');
  assert.equal(trainHelp.code, 0);
  assert.match(trainHelp.stdout, /--efficient {2}MRL-E[\s\S]*mrl train --model text-mrl/);
});
