import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { normalizedPrefix } from '../../src/core/prefix.js';
import { defer, openEngine, rng, tempDir } from '../helpers.js';

const SERVER = join(import.meta.dirname, '../../src/server.ts');
const KEY = 'crash-test-admin-key-0123456789';
const ROUNDS = 10;
const DIM = 16;
const ROWS_PER_REQUEST = 120;
const auth = { authorization: `Bearer ${KEY}` };

/** Row i's vector: a function of i alone, so a row can be checked (and re-sent) from its id. */
const vectorOf = (i: number) =>
  Array.from({ length: DIM }, (_, j) => Math.fround(Math.sin(i * 12.9898 + j * 78.233) * 0.5 + Math.cos(i * 0.37 + j) * 0.5));

/** The real server on an ephemeral loopback port; stopped by its pid when the test ends, whatever happens. */
async function start(t: TestContext, dataDir: string, models: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: {
      ...process.env,
      MRL_DATA_DIR: dataDir,
      MRL_MODELS_DIR: models,
      PORT: '0',
      HOST: '127.0.0.1',
      MRL_KERNEL: 'js',
      MRL_THREADS: '1',
      MRL_ADMIN_KEY: KEY,
      MRL_NDJSON_BATCH: '20',
      MRL_DEFAULT_ENCODER: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  defer(t, () => {
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, 'SIGKILL');
  });
  const logs: string[] = [];
  let buf = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.on('exit', (c) => reject(new Error(`server exited with ${c}: ${logs.join('')}`)));
    proc.stderr.on('data', (d: Buffer) => logs.push(d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) resolve(m[1]);
    });
  });
  proc.removeAllListeners('exit');
  for (let i = 0; i < 400; i++) {
    if ((await fetch(`${url}/ready`)).status === 200) return { proc, url };
    await sleep(25);
  }
  throw new Error('server never became ready');
}

/** One NDJSON request of rows [from, from+n); with `killAfter`, the server is SIGKILLed once that many lines are sent. */
async function ingest(url: string, from: number, n: number, kill?: { afterLines: number; proc: ChildProcess }): Promise<boolean> {
  const lines = Array.from({ length: n }, (_, j) => `${JSON.stringify({ id: `r${from + j}`, vector: vectorOf(from + j) })}\n`);
  const body = new ReadableStream<Uint8Array>({
    async start(ctrl) {
      for (let j = 0; j < n; j += 10) {
        ctrl.enqueue(new TextEncoder().encode(lines.slice(j, j + 10).join('')));
        await sleep(1);
        if (kill && j + 10 >= kill.afterLines) {
          process.kill(kill.proc.pid!, 'SIGKILL');
          ctrl.close();
          return;
        }
      }
      ctrl.close();
    },
  });
  try {
    const res = await fetch(`${url}/ingest?collection=crash`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-ndjson' },
      body,
      duplex: 'half',
    } as RequestInit);
    if (res.status !== 200) return false;
    const r = (await res.json()) as { upserted: number; failed: number };
    return r.upserted === n && r.failed === 0;
  } catch {
    return false; // the connection died with the server: not acknowledged
  }
}

/** Every acknowledged row is in SQLite, and the restarted server's index holds exactly SQLite's rows. */
async function checkRestarted(url: string, dataDir: string, acked: number, r: () => number): Promise<number> {
  const db = new Database(join(dataDir, 'mrl.sqlite'), { readonly: true, fileMustExist: true });
  let stored: Set<string>;
  try {
    stored = new Set(
      db.prepare("SELECT i.id FROM items i JOIN collections c ON c.id = i.collection_id WHERE c.name = 'crash'").pluck().all() as string[],
    );
  } finally {
    db.close();
  }
  for (let i = 0; i < acked; i++) assert.ok(stored.has(`r${i}`), `acknowledged row r${i} lost`);
  const show = (await (await fetch(`${url}/collections/crash`, { headers: auth })).json()) as {
    count: number;
    index: { elements: number; deleted: number; pending: number };
  };
  assert.equal(show.count, stored.size, 'live rows in the index vs SQLite');
  // The graph holds the rows of its snapshot; those replayed at the restart are queued for it (and searched exactly meanwhile).
  assert.equal(
    show.index.elements - show.index.deleted + show.index.pending,
    stored.size,
    `index elements vs SQLite: ${JSON.stringify(show.index)}`,
  );
  for (let s = 0; s < 8 && acked > 0; s++) {
    const i = Math.floor(r() * acked);
    const res = (await (
      await fetch(`${url}/search`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ collection: 'crash', vector: vectorOf(i), k: 1 }),
      })
    ).json()) as { results: { id: string; score: number }[] };
    assert.equal(res.results[0]?.id, `r${i}`, `row r${i} is not its own nearest neighbour after restart`);
  }
  return stored.size;
}

test(`SIGKILL during an NDJSON ingest over HTTP, ${ROUNDS} rounds: no acknowledged row lost, the index matches SQLite after each restart`, async (t) => {
  const dataDir = tempDir(t);
  const models = tempDir(t);
  const r = rng(424242);
  let acked = 0; // rows r0..r{acked-1} were acknowledged (each request's rows follow the last)
  let killedMidRequest = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const server = await start(t, dataDir, models);
    if (round === 0) {
      const made = await fetch(`${server.url}/collections`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'crash', dim: DIM, indexDim: 8 }),
      });
      assert.equal(made.status, 201);
    } else {
      await checkRestarted(server.url, dataDir, acked, r);
    }
    // A few whole requests, then one the server dies in the middle of.
    const whole = 1 + Math.floor(r() * 3);
    for (let q = 0; q < whole; q++) {
      // A row range is acknowledged only if every earlier one was: re-send from the last acknowledged row.
      const next = acked;
      assert.ok(await ingest(server.url, next, ROWS_PER_REQUEST), `round ${round}: a request to a live server failed`);
      acked = next + ROWS_PER_REQUEST;
    }
    const afterLines = 10 + Math.floor(r() * (ROWS_PER_REQUEST - 20));
    const exited = once(server.proc, 'exit');
    const ok = await ingest(server.url, acked, ROWS_PER_REQUEST, { afterLines, proc: server.proc });
    assert.equal(ok, false, 'the request the server died in cannot have been acknowledged');
    await exited;
    assert.equal(server.proc.signalCode, 'SIGKILL');
    killedMidRequest++;
  }
  assert.equal(killedMidRequest, ROUNDS);

  // The last crash, reopened in process: every stored row in the index and the resident matrix.
  const engine = await openEngine(t, dataDir, 'js');
  await engine.drain(); // the rows replayed at open reach the graph in the background
  const rt = engine.runtime('crash');
  const stored = new Map<number, Float32Array>();
  for (const { seq, vector } of engine.items.scan(rt.record.id)) stored.set(seq, vector);
  for (let i = 0; i < acked; i++) assert.ok(engine.items.getById(rt.record.id, `r${i}`), `acknowledged row r${i} lost`);
  assert.equal(rt.index.liveCount, stored.size);
  assert.equal(rt.matrix.size, stored.size);
  const labels = new Set(rt.index.labels());
  for (const [seq, v] of stored) {
    assert.ok(labels.has(seq) && rt.matrix.has(seq), `seq ${seq} missing after restart`);
    assert.ok(rt.index.search(normalizedPrefix(v, rt.record.indexDim), 1, 50).scores[0] > 0.9999, `seq ${seq} not found by its own vector`);
  }
  assert.ok(acked >= ROUNDS * ROWS_PER_REQUEST, `acked ${acked}`);
});
