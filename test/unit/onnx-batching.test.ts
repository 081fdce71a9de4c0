import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbedBatcher } from '../../src/encoders/embed-batcher.js';
import { EmbedCache } from '../../src/encoders/embed-cache.js';

/** An embedding function for the batcher: input x → [x, 2x]; 'bad' throws; every launch recorded. */
function recorder() {
  const launches: unknown[][] = [];
  const run = async (inputs: unknown[]) => {
    launches.push(inputs);
    await new Promise((r) => setTimeout(r, 5));
    if (inputs.includes('bad')) throw new Error('cannot embed bad');
    return inputs.map((x) => Float32Array.of(Number(x), 2 * Number(x)));
  };
  return { launches, run };
}

test('EmbedBatcher: a lone call runs at once; concurrent calls share launches and each gets its own vectors in order', async () => {
  const { launches, run } = recorder();
  const b = new EmbedBatcher(run, { windowUs: 0, maxBatch: 64 });
  const alone = await b.submit([7]);
  assert.deepEqual(launches, [[7]]);
  assert.deepEqual(Array.from(alone[0]), [7, 14]);
  await new Promise((r) => setImmediate(r)); // the launch's bookkeeping ends after its callers resolve
  const calls = Array.from({ length: 10 }, (_, i) => [10 * i + 1, 10 * i + 2, 10 * i + 3].slice(0, 1 + (i % 3)));
  const out = await Promise.all(calls.map((c) => b.submit(c)));
  out.forEach((vs, i) =>
    assert.deepEqual(
      vs.map((v) => Array.from(v)),
      calls[i].map((x) => [x, 2 * x]),
    ),
  );
  // The first call launches alone; the nine queued behind it go in one launch.
  assert.equal(launches.length, 3);
  assert.deepEqual(launches[2], calls.slice(1).flat());
  assert.deepEqual(b.stats().calls, 11);
});

test('EmbedBatcher: maxBatch bounds a launch; a window gathers late calls into the next one', async () => {
  const { launches, run } = recorder();
  const b = new EmbedBatcher(run, { windowUs: 20_000, maxBatch: 4 });
  const first = b.submit([1]);
  const queued = [b.submit([2, 3]), b.submit([4, 5]), b.submit([6])];
  await first;
  const late = b.submit([7]); // arrives during the 20 ms window after the first launch
  await Promise.all([...queued, late]);
  assert.deepEqual(launches[0], [1]);
  assert.ok(
    launches.every((l) => l.length <= 4),
    JSON.stringify(launches),
  );
  assert.deepEqual(
    launches.flat().sort((a, c) => Number(a) - Number(c)),
    [1, 2, 3, 4, 5, 6, 7],
  );
  assert.ok(
    launches.some((l) => l.includes(6) && l.includes(7)),
    `the window let 7 join 6: ${JSON.stringify(launches)}`,
  );
});

test('EmbedBatcher: an input that fails its batch fails only its own call', async () => {
  const { run } = recorder();
  const b = new EmbedBatcher(run, { windowUs: 0, maxBatch: 64 });
  const first = b.submit([1]);
  const good = b.submit([2, 3]);
  const bad = b.submit([4, 'bad']);
  const also = b.submit([5]);
  await first;
  assert.deepEqual(
    (await good).map((v) => v[0]),
    [2, 3],
  );
  await assert.rejects(bad, /cannot embed bad/);
  assert.deepEqual(
    (await also).map((v) => v[0]),
    [5],
  );
});

test('EmbedCache: keyed by model and exact input, LRU, copies in and out', () => {
  const c = new EmbedCache(2);
  c.set('m', 'cat', Float32Array.of(1));
  c.set('m', 'dog', Float32Array.of(2));
  assert.equal(c.get('m', 'Cat'), undefined);
  assert.equal(c.get('other', 'cat'), undefined);
  assert.equal(c.get('m', 'cat ')?.[0], undefined);
  const v = c.get('m', 'cat')!;
  assert.equal(v[0], 1);
  v[0] = 99; // a caller changing its vector does not change the cache
  assert.equal(c.get('m', 'cat')![0], 1);
  c.set('m', 'eel', Float32Array.of(3)); // evicts 'dog', the least recently used
  assert.equal(c.get('m', 'dog'), undefined);
  assert.equal(c.get('m', 'eel')![0], 3);
  assert.equal(c.get('m', 'cat')![0], 1);
  assert.equal(c.size, 2);
  assert.deepEqual([c.hits, c.misses], [4, 4]);
  const off = new EmbedCache(0);
  off.set('m', 'cat', Float32Array.of(1));
  assert.equal(off.get('m', 'cat'), undefined);
});
