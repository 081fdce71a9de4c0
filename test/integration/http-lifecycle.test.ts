import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mrlLikeVectors, tempDir } from '../helpers.js';

const SERVER = join(import.meta.dirname, '../../src/server.ts');

/** Starts the real server on an ephemeral port; resolves with its base URL once it listens. */
async function start(dataDir: string): Promise<{ proc: ChildProcess; url: string; logs: string[] }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: { ...process.env, MRL_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', MRL_KERNEL: 'js' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let buf = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.on('exit', (c) => reject(new Error(`server exited with ${c}: ${logs.join('\n')}`)));
    proc.stderr.on('data', (d: Buffer) => logs.push(d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) resolve(m[1]);
      logs.push(d.toString());
    });
  });
  proc.removeAllListeners('exit');
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${url}/ready`)).status === 200) return { proc, url, logs };
    await sleep(50);
  }
  throw new Error('server never became ready');
}

test('SIGTERM lets an in-flight ingest finish, writes snapshots; the next start loads them without a rebuild', async (t) => {
  const dataDir = tempDir(t);
  const { vectors } = mrlLikeVectors(3000, 24, 8);
  const first = await start(dataDir);
  t.after(() => first.proc.kill('SIGKILL'));
  const post = (path: string, body: unknown) =>
    fetch(`${first.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await post('/collections', { name: 'docs', dim: 24, indexDim: 8 })).status, 201);
  assert.equal(
    (await post('/ingest', { collection: 'docs', items: vectors.slice(0, 500).map((v, i) => ({ id: `v${i}`, vector: v })) })).status,
    200,
  );

  // An NDJSON upload that is still streaming when SIGTERM arrives.
  const lines = vectors.slice(500).map((v, i) => `${JSON.stringify({ id: `v${i + 500}`, vector: v })}\n`);
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const body = new ReadableStream<Uint8Array>({
    async start(ctrl) {
      ctrl.enqueue(new TextEncoder().encode(lines.slice(0, 1200).join('')));
      await released;
      ctrl.enqueue(new TextEncoder().encode(lines.slice(1200).join('')));
      ctrl.close();
    },
  });
  const inflight = fetch(`${first.url}/ingest?collection=docs`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body,
    duplex: 'half',
  } as RequestInit);
  await sleep(300);
  const exited = once(first.proc, 'exit');
  first.proc.kill('SIGTERM');
  await sleep(200);
  release();
  const res = await inflight;
  assert.equal(res.status, 200);
  const reply = await res.json();
  assert.equal(reply.upserted, 2500);
  const [code] = await exited;
  assert.equal(code, 0, first.logs.join(''));
  assert.match(first.logs.join(''), /snapshots written, store closed/);

  const second = await start(dataDir);
  t.after(() => second.proc.kill('SIGKILL'));
  const show = await (await fetch(`${second.url}/collections/docs`)).json();
  assert.equal(show.count, 3000);
  assert.equal(show.index.lastOpen.loadedSnapshot, true);
  assert.equal(show.index.lastOpen.replayed, 0);
  assert.equal(show.index.lastOpen.matrix.loadedSnapshot, true); // the matrix came from its snapshot, not from SQLite
  assert.equal(show.index.pending, 0);
  const s = await (await fetch(`${second.url}/search?collection=docs&id=v2999&k=3`)).json();
  assert.equal(s.results.length, 3);
  const exited2 = once(second.proc, 'exit');
  second.proc.kill('SIGINT');
  assert.equal((await exited2)[0], 0);
});
