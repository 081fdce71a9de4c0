/**
 * npm run bench:http — autocannon against a real mrl-server on loopback.
 * Ingests N synthetic MRL-like vectors over HTTP (streamed NDJSON), then measures GET /search
 * (queries by stored id, default parameters): at a fixed rate (default 200 req/s), the highest
 * stepped rate whose p99 stays under 50 ms, and the fixed rate again while an ingest streams.
 * Flags: --n 100000 --d 768 --rate 200 --duration 20 --step-duration 10 --connections 32 --ingest-during 20000
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { generateSynthetic } from './synthetic.js';

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' }, d: { type: 'string', default: '768' }, rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '20' }, 'step-duration': { type: 'string', default: '10' }, connections: { type: 'string', default: '32' },
    'ingest-during': { type: 'string', default: '20000' }, kernel: { type: 'string', default: 'auto' },
  },
});
const N = Number(a.n), D = Number(a.d), RATE = Number(a.rate), DURATION = Number(a.duration), STEP = Number(a['step-duration']);
const CONNS = Number(a.connections), EXTRA = Number(a['ingest-during']);
const log = (s: string) => process.stderr.write(`${s}\n`);

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** NDJSON lines generated lazily (a 100k × 768 body is ~700 MB of text). */
function ndjson(data: { row(i: number): Float32Array }, from: number, to: number): Readable {
  let i = from;
  return new Readable({
    read() {
      const parts: string[] = [];
      for (let j = 0; j < 200 && i < to; j++, i++) {
        const v = Array.from(data.row(i), (x) => Number(x.toPrecision(6)));
        parts.push(`${JSON.stringify({ id: `v${i}`, vector: v })}\n`);
      }
      this.push(parts.length ? parts.join('') : null);
    },
  });
}

async function ingest(url: string, body: Readable): Promise<{ upserted: number; failed: number; seconds: number }> {
  const t0 = performance.now();
  const r = await fetch(`${url}/ingest?collection=bench`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: Readable.toWeb(body) as ReadableStream, duplex: 'half' } as RequestInit);
  const j = (await r.json()) as { upserted: number; failed: number };
  if (r.status !== 200) throw new Error(`ingest failed: ${JSON.stringify(j)}`);
  return { ...j, seconds: (performance.now() - t0) / 1000 };
}

function cannon(url: string, opts: { rate?: number; duration: number; connections: number }): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({
      url, connections: opts.connections, duration: opts.duration, overallRate: opts.rate,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/search?collection=bench&id=v${Math.floor(Math.random() * N)}` }) }],
    }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const row = (name: string, r: autocannon.Result) =>
  `| ${name} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx + r.errors} |`;

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'mrl-bench-http-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../src/server.ts')], {
    env: { ...process.env, PORT: String(port), MRL_DATA_DIR: dataDir, MRL_LOG_LEVEL: 'warn', MRL_KERNEL: a.kernel },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      if (i > 400) throw new Error('server did not start');
      if ((await fetch(`${url}/ready`).catch(() => null))?.status === 200) break;
      await sleep(50);
    }
    log(`generating ${N + EXTRA} × ${D} synthetic vectors`);
    const data = generateSynthetic({ n: N + EXTRA, d: D, queries: 1, clusters: 256, seed: 1 });
    await fetch(`${url}/collections`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', dim: D }) });
    log('ingesting over HTTP (NDJSON)…');
    const ing = await ingest(url, ndjson(data, 0, N));
    log(`ingested ${ing.upserted} rows in ${ing.seconds.toFixed(1)} s`);
    await cannon(url, { duration: 3, connections: 4 }); // warm-up

    log(`fixed rate ${RATE} req/s for ${DURATION} s…`);
    const fixed = await cannon(url, { rate: RATE, duration: DURATION, connections: CONNS });

    log('stepping the rate up until p99 ≥ 50 ms…');
    const steps: { rate: number; r: autocannon.Result }[] = [];
    for (const rate of [200, 400, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000]) {
      const r = await cannon(url, { rate, duration: STEP, connections: CONNS });
      steps.push({ rate, r });
      log(`  ${rate} req/s → ${r.requests.average.toFixed(0)} served, p99 ${r.latency.p99} ms`);
      if (r.latency.p99 >= 50 || r.requests.average < rate * 0.95 || r.non2xx + r.errors > 0) break;
    }
    const sustained = steps.filter((s) => s.r.latency.p99 < 50 && s.r.requests.average >= s.rate * 0.95 && s.r.non2xx + s.r.errors === 0).pop();

    let during: autocannon.Result | undefined;
    let extraIngest: Awaited<ReturnType<typeof ingest>> | undefined;
    if (EXTRA > 0) {
      log(`fixed rate ${RATE} req/s while ${EXTRA} more rows stream in…`);
      const ingesting = ingest(url, ndjson(data, N, N + EXTRA));
      during = await cannon(url, { rate: RATE, duration: Math.min(DURATION, 15), connections: CONNS });
      extraIngest = await ingesting;
    }

    const out = [
      `# bench:http — ${N} × ${D} synthetic vectors, GET /search?id=<random> (k=10, shortlist 200 at 32 dims, rerank 512), ${CONNS} connections, one server process, 2 cores shared with the load generator`,
      '',
      `ingest over HTTP (NDJSON, batches of 1000): ${ing.upserted} rows in ${ing.seconds.toFixed(1)} s = ${(ing.upserted / ing.seconds).toFixed(0)} rows/s`,
      '',
      '| load | QPS served | p50 ms | p99 ms | errors |',
      '| --- | --- | --- | --- | --- |',
      row(`fixed ${RATE} req/s, ${DURATION} s`, fixed),
      ...steps.map((s) => row(`step ${s.rate} req/s, ${STEP} s`, s.r)),
      ...(during ? [row(`fixed ${RATE} req/s during ingest of ${EXTRA} rows (${(extraIngest!.upserted / extraIngest!.seconds).toFixed(0)} rows/s)`, during)] : []),
      '',
      `highest stepped rate sustained with p99 < 50 ms: ${sustained ? `${sustained.rate} req/s (served ${sustained.r.requests.average.toFixed(0)}, p99 ${sustained.r.latency.p99} ms)` : 'none'}`,
      `target: p99 < 20 ms at ${RATE} req/s → ${fixed.latency.p99 < 20 ? 'met' : 'NOT met'} (p99 ${fixed.latency.p99} ms)`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
