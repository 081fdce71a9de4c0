import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKernel } from '../../src/compute/create-kernel.js';
import { DataContext } from '../../src/data-context.js';
import { defer, mrlLikeVectors, openData, tempDir } from '../helpers.js';

test('the data context closes the engine (snapshots) and then SQLite; twice is harmless', async (t) => {
  const dataDir = tempDir(t);
  const data = await openData(t, dataDir, 'js');
  assert.equal(data.isNew, true);
  data.engine.createCollection({ name: 'c', dim: 16, indexDim: 4 });
  await data.engine.upsert(
    'c',
    mrlLikeVectors(100, 16, 3).vectors.map((v, i) => ({ id: `v${i}`, vector: v })),
  );
  assert.equal(data.engine.describe('c').index.unsnapshotted, 100);
  await data.close();
  assert.equal(data.db.open, false);
  assert.equal(data.engine.ready, false);
  await data.close();
  const again = await openData(t, dataDir, 'js');
  assert.equal(again.isNew, false);
  assert.equal(again.engine.describe('c').index.lastOpen?.loadedSnapshot, true); // written by the first close
  assert.equal(again.engine.runtime('c').count, 100);
});

test('with deferLoad the engine opens unloaded: NOT_READY until load() resolves', async (t) => {
  const dataDir = tempDir(t);
  const first = await openData(t, dataDir, 'js');
  first.engine.createCollection({ name: 'c', dim: 8 });
  await first.close();
  const kernel = await createKernel({ backend: 'js' });
  defer(t, () => kernel.close());
  const data = await DataContext.open({ dataDir, kernel, deferLoad: true });
  defer(t, () => data.close());
  assert.equal(data.engine.ready, false);
  assert.throws(
    () => data.engine.runtime('c'),
    (e: unknown) => (e as { code?: string }).code === 'NOT_READY',
  );
  await data.engine.load();
  assert.equal(data.engine.ready, true);
  assert.equal(data.engine.runtime('c').count, 0);
});
