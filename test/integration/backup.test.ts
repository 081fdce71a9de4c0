import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { backupDatabase, restoreDatabase } from '../../src/store/backup.js';
import { mrlLikeVectors, openEngine, tempDir } from '../helpers.js';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

test('a backup taken while the engine writes restores into a fresh data dir with the same answers', async (t) => {
  const dir = tempDir(t);
  const live = join(dir, 'live');
  const engine = await openEngine(t, live);
  engine.createCollection({ name: 'docs', dim: 32, indexDim: 8 });
  const { vectors, labels } = mrlLikeVectors(1200, 32, 31);
  await engine.upsert(
    'docs',
    vectors.slice(0, 1000).map((v, i) => ({ id: `v${i}`, vector: v, label: labels[i], payload: { i } })),
  );
  // Writes keep landing while the backup runs.
  const writing = engine.upsert(
    'docs',
    vectors.slice(1000).map((v, i) => ({ id: `v${1000 + i}`, vector: v })),
  );
  const r = await backupDatabase(live, join(dir, 'b.sqlite'));
  await writing;
  assert.ok(r.bytes > 1200 * 32 * 4 * 0.8);
  await assert.rejects(backupDatabase(live, join(dir, 'b.sqlite')), code('VALIDATION')); // never overwrites

  const restored = join(dir, 'restored');
  const info = await restoreDatabase(join(dir, 'b.sqlite'), restored);
  assert.equal(info.collections, 1);
  assert.ok(info.items >= 1000);
  await assert.rejects(restoreDatabase(join(dir, 'b.sqlite'), restored), code('VALIDATION')); // target not fresh
  const again = await openEngine(t, restored);
  assert.equal(again.describe('docs').index.lastOpen?.loadedSnapshot, false); // rebuilt from the rows
  for (const q of [{ id: 'v3' }, { vector: vectors[500] }, { id: 'v999' }]) {
    const a = await engine.search('docs', q, { k: 10 });
    const b = await again.search('docs', q, { k: 10 });
    assert.deepEqual(
      b.results.map((x) => x.id),
      a.results.map((x) => x.id),
      JSON.stringify(q).slice(0, 40),
    );
    assert.deepEqual(b.results[0].payload, a.results[0].payload);
  }
  writeFileSync(join(dir, 'junk.sqlite'), 'not a database at all, just some text');
  await assert.rejects(restoreDatabase(join(dir, 'junk.sqlite'), join(dir, 'other')));
});

test('mrl backup and mrl restore from the command line', async (t) => {
  const dir = tempDir(t);
  const engine = await openEngine(t, join(dir, 'a'));
  engine.createCollection({ name: 'docs', dim: 8 });
  await engine.upsert(
    'docs',
    mrlLikeVectors(50, 8, 2).vectors.map((v, i) => ({ id: `v${i}`, vector: v })),
  );
  const run = promisify(execFile);
  const cli = join(import.meta.dirname, '../../src/cli.ts');
  const b = JSON.parse(
    (await run(process.execPath, ['--import', 'tsx', cli, '--data-dir', join(dir, 'a'), 'backup', join(dir, 'x.sqlite')])).stdout,
  );
  assert.ok(b.pages > 0);
  const r = JSON.parse(
    (await run(process.execPath, ['--import', 'tsx', cli, '--data-dir', join(dir, 'b'), 'restore', join(dir, 'x.sqlite')])).stdout,
  );
  assert.deepEqual([r.collections, r.items], [1, 50]);
});
