import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { ResidentMatrix } from '../../src/core/resident-matrix.js';
import { allocate, grow, MAX_SHARED_BYTES } from '../../src/core/shared-array.js';
import { MrlError } from '../../src/errors.js';
import { rng } from '../helpers.js';

function vec(r: () => number, d: number): Float32Array {
  return Float32Array.from({ length: d }, () => r() - 0.5);
}

for (const type of ['f32', 'f16', 'int8'] as const) {
  test(`an attached view of a shared ${type} matrix reads the writer's rows, through growth and removals`, () => {
    const r = rng(4);
    const m = new ResidentMatrix(8, [4, 8], 16, { type, shared: true });
    const view = ResidentMatrix.attach(m.share());
    assert.equal(view.reader, true);
    const rows = new Map<number, Float32Array>();
    for (let seq = 100; seq < 400; seq++) rows.set(seq, vec(r, 8)); // 300 rows: grows several times
    m.batch(() => {
      for (const [seq, v] of rows) m.add(seq, v);
    });
    for (let seq = 100; seq < 400; seq += 3) {
      m.remove(seq);
      rows.delete(seq);
    }
    m.add(50, vec(r, 8)); // below the lowest seq: the seq table shifts
    assert.equal(view.size, m.size);
    for (const seq of [50, ...rows.keys()]) {
      const slot = view.slotOf(seq);
      assert.equal(slot, m.slotOf(seq), `seq ${seq}`);
      assert.deepEqual(view.row(slot!), m.row(slot!));
      assert.equal(view.norm(slot!, 4), m.norm(slot!, 4));
    }
    assert.equal(view.has(100), false);
    assert.throws(() => view.add(1, vec(r, 8)), /read-only/);
  });
}

test("a reader's version is the seqlock: NaN during a write, unchanged when nothing was written, new after", () => {
  const m = new ResidentMatrix(4, [4], 16, { shared: true });
  const view = ResidentMatrix.attach(m.share());
  const before = view.version;
  assert.equal(view.version, before);
  m.batch(() => {
    m.add(1, new Float32Array([1, 0, 0, 0]));
    assert.ok(Number.isNaN(view.version));
    m.add(2, new Float32Array([0, 1, 0, 0]));
  });
  assert.ok(view.version !== before && !Number.isNaN(view.version));
  assert.equal(view.size, 2);
});

test('another thread sees rows written and growth made after it attached', async () => {
  const m = new ResidentMatrix(4, [4], 16, { shared: true });
  const code = `const { parentPort, workerData } = require('node:worker_threads');
const size = new Int32Array(workerData.header);
const rows = new Float32Array(workerData.rows);
parentPort.on('message', () => parentPort.postMessage({ size: size[1], sum: rows.slice(0, size[1] * 4).reduce((a, b) => a + b, 0), len: rows.length }));`;
  const w = new Worker(code, { eval: true, workerData: m.share() });
  try {
    const ask = () => new Promise<{ size: number; sum: number; len: number }>((res) => (w.once('message', res), w.postMessage(0)));
    assert.equal((await ask()).size, 0);
    for (let seq = 1; seq <= 100; seq++) m.add(seq, new Float32Array([1, 1, 1, 1]));
    const seen = await ask();
    assert.equal(seen.size, 100);
    assert.equal(seen.sum, 400);
    assert.ok(seen.len >= 400);
  } finally {
    await w.terminate();
  }
});

test('a shared part over 4 GiB is refused with a coded error naming f16 and int8', () => {
  const refused = (err: unknown) =>
    err instanceof MrlError && err.code === 'INVALID_COLLECTION' && /f16/.test(err.message) && /int8/.test(err.message);
  assert.throws(() => allocate(Float32Array, MAX_SHARED_BYTES / 4 + 1, true), refused);
  const a = allocate(Float32Array, 16, true);
  assert.throws(() => grow(Float32Array, a, MAX_SHARED_BYTES / 4 + 1), refused);
  assert.equal(a.length, 16); // unchanged
  const b = grow(Float32Array, a, 64);
  assert.equal(b.buffer, a.buffer); // grown in place: the same buffer, a new view of all of it
  assert.equal(b.length, 64);
  assert.equal(a.length, 16); // views have a fixed length (V8 reads length-tracking ones slowly)
});
