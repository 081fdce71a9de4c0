import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTestApp, mrlLikeVectors } from '../helpers.js';

/**
 * NDJSON ingest on the ingest thread (src/engine/writer/): the same rows, reports and answers
 * as the in-thread path, writes of the HTTP thread interleaved in commit order, a crashed
 * thread failing its ingest with 503 and replaced, close joining it.
 */

const D = 16;
const { vectors } = mrlLikeVectors(400, D, 11);

type App = Awaited<ReturnType<typeof buildTestApp>>;

function lines(from: number, to: number, tag = ''): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const v = vectors[i % vectors.length];
    const item: Record<string, unknown> = { id: `r${i}`, vector: v, label: `l${i % 3}`, payload: { year: 2000 + (i % 7), tag } };
    if (i % 5 === 0) item.text = i % 10 === 0 ? `banana bread ${i}` : `apple pie ${i}`;
    if (i % 11 === 0) item.vector = Buffer.from(new Float32Array(v).buffer).toString('base64');
    s += `${JSON.stringify(item)}\n`;
  }
  return s;
}

async function collection(h: App, name = 'c') {
  const r = await h.app.inject({
    method: 'POST',
    url: '/collections',
    payload: { name, dim: D, indexDim: 8, rerankDim: D, indexedFields: ['year'] },
  });
  assert.equal(r.statusCode, 201, r.body);
}

function ndjson(h: App, payload: unknown, name = 'c') {
  return h.app.inject({
    method: 'POST',
    url: `/ingest?collection=${name}`,
    headers: { 'content-type': 'application/x-ndjson' },
    payload: payload as string,
  });
}

/** The matrix holds exactly SQLite's rows of the collection. */
function assertCachesMatchStore(h: App, name = 'c') {
  const rt = h.ctx.engine.runtime(name);
  const stored = h.ctx.data.items.seqs(rt.record.id).sort((a, b) => a - b);
  const held = Array.from(rt.matrix.slotSeq.subarray(0, rt.matrix.size)).sort((a, b) => a - b);
  assert.deepEqual(held, stored);
}

test('NDJSON through the ingest thread stores, reports and answers as the in-thread path does', async (t) => {
  const on = await buildTestApp(t);
  const off = await buildTestApp(t, { MRL_INGEST_THREAD: '0' });
  assert.ok(on.ctx.data.writer && !on.ctx.data.writer.running);
  assert.equal(off.ctx.data.writer, undefined);
  const body =
    lines(0, 300) +
    '\n{"id":"bad","vector":[1,2]}\nnot json\n{"id":"r3","vector":' +
    JSON.stringify(vectors[7]) +
    ',"label":"again"}\n' +
    '{"id":"inp","input":"words"}\n' +
    lines(300, 400);
  const replies = [];
  for (const h of [on, off]) {
    await collection(h);
    const r = await ndjson(h, body);
    assert.equal(r.statusCode, 200, r.body);
    const { ms: _ms, ...rest } = r.json();
    replies.push(rest);
    assertCachesMatchStore(h);
  }
  assert.ok(on.ctx.data.writer.running, 'the thread started with the first ingest');
  assert.deepEqual(replies[0], replies[1]);
  assert.equal(replies[0].upserted, 400);
  assert.deepEqual(
    replies[0].errors.map((e: { line: number; code: string }) => [e.line, e.code]),
    [
      [302, 'DIM_MISMATCH'],
      [303, 'VALIDATION'],
      [305, 'NO_ENCODER'],
    ],
  );
  const answers = async (h: App) => {
    await h.ctx.engine.drain();
    const out = [];
    for (const id of ['r3', 'r11', 'r250', 'r399']) out.push((await h.app.inject({ url: `/collections/c/items/${id}` })).json());
    for (const q of [3, 100, 333]) {
      const v = vectors[q];
      for (const extra of [{}, { filter: { 'payload.year': { $gte: 2004 } } }, { text: 'banana' }]) {
        const r = await h.app.inject({ method: 'POST', url: '/search', payload: { collection: 'c', vector: v, k: 10, ...extra } });
        assert.equal(r.statusCode, 200, r.body);
        out.push(r.json().results.map((x: { id: string; score: number }) => [x.id, x.score.toFixed(5)]));
      }
    }
    return out;
  };
  const a = await answers(on);
  assert.deepEqual(a, await answers(off));
  assert.equal(a[0].label, 'again', 'the later line of an id wins');
});

test('writes of the HTTP thread during an ingest follow its batches in commit order in every cache', async (t) => {
  const h = await buildTestApp(t, { MRL_NDJSON_BATCH: '50' });
  await collection(h);
  const body = new PassThrough();
  const reply = ndjson(h, body);
  const rt = h.ctx.engine.runtime('c');
  for (let from = 0; from < 2000; from += 100) {
    body.write(lines(from, from + 100));
    await sleep(2);
    if (from === 500) {
      for (let i = 0; i < 500 && rt.count < 300; i++) await sleep(10); // the thread is started and committing
      // r5 came in an early batch; r1800 comes later in the stream, whose line then wins.
      const del = await h.app.inject({ method: 'DELETE', url: '/collections/c/items/r5' });
      assert.equal(del.statusCode, 200, del.body);
      const up = await h.app.inject({
        method: 'POST',
        url: '/ingest',
        payload: {
          collection: 'c',
          items: [
            { id: 'r1800', vector: vectors[0], label: 'json' },
            { id: 'x', vector: vectors[1] },
          ],
        },
      });
      assert.equal(up.statusCode, 200, up.body);
      const patch = await h.app.inject({ method: 'PATCH', url: '/collections/c/items/r10', payload: { label: 'patched' } });
      assert.equal(patch.statusCode, 200, patch.body);
      assert.ok(rt.count < 2000, 'the ingest was still running');
    }
  }
  body.end();
  const r = await reply;
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().upserted, 2000);
  assertCachesMatchStore(h);
  assert.equal((await h.app.inject({ url: '/collections/c/items/r5' })).statusCode, 404);
  assert.equal((await h.app.inject({ url: '/collections/c/items/r1800' })).json().label, `l${1800 % 3}`);
  // Rows i and i + 400 share a vector: r10 ties at score 1 with r410, r810, r1210 and r1610, so k covers all five.
  const patched = await h.app.inject({ method: 'POST', url: '/search', payload: { collection: 'c', vector: vectors[10], k: 10 } });
  const hit = patched.json().results.find((x: { id: string }) => x.id === 'r10');
  assert.equal(hit?.label, 'patched');
  // A filter on the indexed field reads the columns this thread journalled from the batches.
  const f = await h.app.inject({
    method: 'POST',
    url: '/search',
    payload: { collection: 'c', vector: vectors[20], k: 1000, filter: { 'payload.year': 2003 } },
  });
  const expected = Array.from({ length: 2000 }, (_, i) => i).filter((i) => i !== 5 && 2000 + (i % 7) === 2003).length;
  assert.equal(f.json().results.length, expected);
});

test('a crashed ingest thread fails its open ingest with 503 INGEST_UNAVAILABLE, keeps what it committed, and is replaced', async (t) => {
  const h = await buildTestApp(t, { MRL_NDJSON_BATCH: '20' });
  await collection(h);
  const writer = h.ctx.data.writer!;
  const body = new PassThrough();
  const reply = ndjson(h, body);
  body.write(lines(0, 100));
  const rt = h.ctx.engine.runtime('c');
  for (let i = 0; i < 200 && rt.count < 100; i++) await sleep(10);
  assert.equal(rt.count, 100, 'the first lines were committed and applied');
  writer.crash();
  const r = await reply;
  assert.equal(r.statusCode, 503, r.body);
  assert.equal(r.json().error.code, 'INGEST_UNAVAILABLE');
  body.destroy();
  assertCachesMatchStore(h);
  const again = await ndjson(h, lines(100, 150));
  assert.equal(again.statusCode, 200, again.body);
  assert.equal(again.json().upserted, 50);
  assert.equal(writer.restarted, 1);
  assert.equal(rt.count, 150);
  assertCachesMatchStore(h);
});

test('close joins the ingest thread; an ingest after close is refused with 503', async (t) => {
  const h = await buildTestApp(t);
  await collection(h);
  assert.equal((await ndjson(h, lines(0, 10))).statusCode, 200);
  const writer = h.ctx.data.writer!;
  assert.ok(writer.running);
  await h.ctx.close();
  assert.equal(writer.running, false);
  await assert.rejects(
    writer.ingest({
      record: h.ctx.engine.runtime('c').record,
      source: { file: '/nonexistent' },
      batch: 1,
      maxLineBytes: 1,
      hooks: { room: () => null, grant: () => null, applied: () => undefined, released: () => undefined },
    }),
    {
      code: 'INGEST_UNAVAILABLE',
    },
  );
});
