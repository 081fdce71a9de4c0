/**
 * npm run bench:http — load against a real mrl-server on loopback.
 * Ingests N synthetic MRL-like vectors over HTTP (NDJSON streamed from a file), then measures
 * GET /search (queries by stored id, default parameters):
 *  - at a fixed rate (default 200 req/s) with an open-loop paced generator: requests leave at
 *    even intervals whatever the replies do, and latency counts from the scheduled send time
 *    (autocannon's own rate limit sends each second's quota in a burst, which measures the
 *    burst, not the rate);
 *  - the highest throughput with p99 < 50 ms: autocannon, closed loop, 1…16 connections;
 *  - the fixed rate again while another NDJSON ingest streams in.
 * Flags: --n 100000 --d 768 --rate 200 --duration 20 --step-duration 10 --ingest-during 20000
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startServer } from './server.js';
import { generateSynthetic } from './synthetic.js';

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    d: { type: 'string', default: '768' },
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '20' },
    'step-duration': { type: 'string', default: '10' },
    'ingest-during': { type: 'string', default: '20000' },
    kernel: { type: 'string', default: 'auto' },
  },
});
const N = Number(a.n),
  D = Number(a.d),
  RATE = Number(a.rate),
  DURATION = Number(a.duration),
  STEP = Number(a['step-duration']);
const EXTRA = Number(a['ingest-during']);
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Writes rows [from, to) as NDJSON to a file first, so generating text never competes with the measurement. */
async function writeNdjson(file: string, data: { row(i: number): Float32Array }, from: number, to: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = from; i < to; i++) {
    const v = Array.from(data.row(i), (x) => Number(x.toPrecision(6)));
    if (!out.write(`${JSON.stringify({ id: `v${i}`, vector: v })}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** One keep-alive pool for every paced run, warmed before the first, so connection set-up is not measured. */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

interface Paced {
  rate: number;
  sent: number;
  ok: number;
  errors: number;
  served: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Open-loop load: one request every 1000/rate ms for `seconds`, latency measured from each
 * request's scheduled time (so a stalled server cannot hide its queue: no coordinated omission).
 */
async function paced(url: string, rate: number, seconds: number): Promise<Paced> {
  const u = new URL(url);
  const lat: number[] = [];
  let ok = 0;
  let errors = 0;
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      new Promise<void>((resolve) => {
        const req = request(
          { agent, host: u.hostname, port: u.port, path: `/search?collection=bench&id=v${Math.floor(Math.random() * N)}` },
          (res) => {
            res.resume();
            res.on('end', () => {
              lat.push(performance.now() - due);
              if (process.env.MRL_BENCH_TRACE && performance.now() - due > 20)
                log(`slow: due +${(due - t0).toFixed(0)} ms, took ${(performance.now() - due).toFixed(0)} ms`);
              if (res.statusCode === 200) ok++;
              else errors++;
              resolve();
            });
          },
        );
        req.on('error', () => {
          errors++;
          resolve();
        });
        req.end();
      }),
    );
  }
  await Promise.all(pending);
  const wall = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { rate, sent: total, ok, errors, served: ok / wall, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1] };
}

/** Streams an NDJSON file to /ingest from a separate process, so uploading never delays the load generator. */
async function ingest(url: string, file: string): Promise<{ upserted: number; failed: number; seconds: number }> {
  const script = `
    const { createReadStream } = require('node:fs');
    const { Readable } = require('node:stream');
    fetch(process.argv[1], { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: Readable.toWeb(createReadStream(process.argv[2])), duplex: 'half' })
      .then(async (r) => { process.stdout.write(JSON.stringify({ status: r.status, body: await r.json() })); })
      .catch((e) => { process.stderr.write(String(e)); process.exit(1); });`;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', script, `${url}/ingest?collection=bench`, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'exit');
  const { status, body } = JSON.parse(out) as { status: number; body: { upserted: number; failed: number } };
  if (status !== 200) throw new Error(`ingest failed: ${JSON.stringify(body)}`);
  return { ...body, seconds: (performance.now() - t0) / 1000 };
}

function cannon(url: string, opts: { duration: number; connections: number }): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: opts.connections,
        duration: opts.duration,
        requests: [
          { method: 'GET', setupRequest: (req) => ({ ...req, path: `/search?collection=bench&id=v${Math.floor(Math.random() * N)}` }) },
        ],
      },
      (err, res) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
  });
}

const row = (name: string, r: autocannon.Result) =>
  `| ${name} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx + r.errors} |`;
const prow = (name: string, r: Paced) => `| ${name} | ${r.served.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`;

async function main() {
  const { url, dataDir, server } = await startServer('mrl-bench-http-', { MRL_KERNEL: a.kernel ?? 'auto' }, 20_000);
  try {
    log(`generating ${N + EXTRA} × ${D} synthetic vectors and their NDJSON`);
    const data = generateSynthetic({ n: N + EXTRA, d: D, queries: 1, clusters: 256, seed: 1 });
    const mainFile = join(dataDir, 'main.ndjson');
    const extraFile = join(dataDir, 'extra.ndjson');
    await writeNdjson(mainFile, data, 0, N);
    await writeNdjson(extraFile, data, N, N + EXTRA);
    await fetch(`${url}/collections`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', dim: D }),
    });
    log('ingesting over HTTP (NDJSON)…');
    const ing = await ingest(url, mainFile);
    log(`ingested ${ing.upserted} rows in ${ing.seconds.toFixed(1)} s`);
    await cannon(url, { duration: 3, connections: 4 }); // warm-up
    await paced(url, 64 * 50, 1); // opens the pool's sockets

    log(`paced ${RATE} req/s for ${DURATION} s…`);
    const fixed = await paced(url, RATE, DURATION);

    log('closed loop (autocannon), 1…16 connections…');
    const steps: { connections: number; r: autocannon.Result }[] = [];
    for (const connections of [1, 2, 4, 8, 16]) {
      const r = await cannon(url, { duration: STEP, connections });
      steps.push({ connections, r });
      log(`  ${connections} connections → ${r.requests.average.toFixed(0)} req/s, p99 ${r.latency.p99} ms`);
    }
    const sustained = steps
      .filter((s) => s.r.latency.p99 < 50 && s.r.non2xx + s.r.errors === 0)
      .sort((x, y) => y.r.requests.average - x.r.requests.average)[0];

    let during: Paced | undefined;
    let extraIngest: Awaited<ReturnType<typeof ingest>> | undefined;
    if (EXTRA > 0) {
      log(`paced ${RATE} req/s while ${EXTRA} more rows stream in…`);
      const ingesting = ingest(url, extraFile);
      during = await paced(url, RATE, Math.min(DURATION, 10));
      extraIngest = await ingesting;
    }

    const out = [
      `# bench:http — ${N} × ${D} synthetic vectors, GET /search?id=<random> (k=10, shortlist 200 at 32 dims, rerank 512), one server process, 2 cores shared with the load generator`,
      '',
      `ingest over HTTP (NDJSON, batches of 1000): ${ing.upserted} rows in ${ing.seconds.toFixed(1)} s = ${(ing.upserted / ing.seconds).toFixed(0)} rows/s`,
      '',
      '| load | QPS served | p50 ms | p99 ms | errors |',
      '| --- | --- | --- | --- | --- |',
      prow(`paced ${RATE} req/s (open loop), ${DURATION} s`, fixed),
      ...steps.map((s) => row(`autocannon closed loop, ${s.connections} connection${s.connections > 1 ? 's' : ''}, ${STEP} s`, s.r)),
      ...(during
        ? [
            prow(
              `paced ${RATE} req/s during an NDJSON ingest of ${EXTRA} rows (${(extraIngest!.upserted / extraIngest!.seconds).toFixed(0)} rows/s)`,
              during,
            ),
          ]
        : []),
      '',
      `highest throughput with p99 < 50 ms: ${sustained ? `${sustained.r.requests.average.toFixed(0)} req/s (${sustained.connections} connections, p99 ${sustained.r.latency.p99} ms)` : 'none'}`,
      `target: p99 < 20 ms at ${RATE} req/s → ${fixed.p99 < 20 ? 'met' : 'NOT met'} (p99 ${fixed.p99.toFixed(2)} ms)`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    agent.destroy();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
