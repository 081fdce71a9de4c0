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
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { agent, ingest, paced as pacedAt, writeBenchFiles, type Paced } from './http-load.js';
import { startServer } from './server.js';

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
const paced = (url: string, rate: number, seconds: number) => pacedAt(url, rate, seconds, N);

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
    const { mainFile, extraFile } = await writeBenchFiles(dataDir, N, EXTRA, D, 256);
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
