import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PendingIndex } from '../../src/engine/pending-index.js';
import { SliceScheduler } from '../../src/engine/slice-scheduler.js';
import { PrefixIndex } from '../../src/index/prefix-index.js';
import { rng } from '../helpers.js';

const HNSW = { m: 8, efConstruction: 40, efSearch: 20 };

function queued(n: number, seed: number): PendingIndex {
  const r = rng(seed);
  const pending = new PendingIndex(8);
  for (let seq = 1; seq <= n; seq++)
    pending.add(
      seq,
      Float32Array.from({ length: 8 }, () => r() - 0.5),
    );
  return pending;
}

/** Resolves once `done()` holds, checking every few ms (fails after 10 s). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await sleep(5);
  assert.ok(done(), 'in time');
}

test('batches run until every pending row is in the index, each in the queue given, and start again on the next kick', async () => {
  const pending = queued(3000, 1);
  const index = PrefixIndex.create(8, HNSW, 4000);
  let slices = 0;
  let queue = Promise.resolve();
  let inQueue = 0;
  const s = new SliceScheduler(pending, () => (slices++, pending.indexBatch(index)), {
    run: (slice) => {
      const p = queue.then(() => (inQueue++, slice()));
      queue = p.catch(() => {});
      return p;
    },
  });
  s.kick();
  s.kick(); // one loop at a time
  await until(() => pending.size === 0);
  assert.equal(index.elementCount, 3000);
  assert.ok(slices > 1, `${slices} batches`); // batches, not one long run
  assert.equal(inQueue, slices);
  pending.add(5000, new Float32Array(8).fill(1));
  s.kick();
  await until(() => pending.size === 0);
  assert.equal(index.elementCount, 3001);
});

test('a slice that throws stops the loop and is kept; after stop() no slice runs', async () => {
  const pending = queued(50, 2);
  let calls = 0;
  const told: Error[] = [];
  const failing = new SliceScheduler(
    pending,
    async () => {
      calls++;
      throw new Error('index full');
    },
    { failed: (err) => told.push(err) },
  );
  failing.kick();
  await until(() => failing.error !== null);
  failing.kick();
  await sleep(30);
  assert.equal(calls, 1);
  assert.equal(failing.error?.message, 'index full');
  assert.deepEqual(told, [failing.error]);

  let ran = 0;
  const stopped = new SliceScheduler(pending, async () => void ran++);
  stopped.kick();
  stopped.stop(); // before its first slice
  stopped.kick();
  await sleep(30);
  assert.equal(ran, 0);
  assert.equal(pending.size, 50);
});
