/**
 * npm run bench:paced-ingest — paced searches during a full-speed NDJSON ingest, with and
 * without the search pool (MRL_SEARCH_THREADS) and the ingest thread (MRL_INGEST_THREAD): one
 * server per setting over the same data.
 * Preloads --n rows, measures --rate req/s of GET /search (by a random stored id, default
 * parameters) for --seconds, then the same rate while --extra more rows stream in at full speed.
 * Latency counts from each request's scheduled time (open loop, bench/http-load.ts).
 *   npm run bench:paced-ingest -- --n 20000 --d 256 --extra 40000 --rate 200 --seconds 8 --search-threads 0,2 --ingest-thread true,false
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { agent, ingest, paced, writeBenchFiles, type Paced } from './http-load.js';
import { startServer } from './server.js';

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '20000' },
    d: { type: 'string', default: '256' },
    extra: { type: 'string', default: '40000' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '8' },
    'search-threads': { type: 'string', default: `0,${availableParallelism()}` },
    'ingest-thread': { type: 'string', default: 'true,false' },
    kernel: { type: 'string', default: 'auto' },
    // A negative nice value for this process, the load generator, once the server runs (root only):
    // on a machine whose cores the server fills, a starved generator sends late and counts the delay.
    'client-nice': { type: 'string' },
  },
  strict: true,
});
const N = Number(a.n);
const D = Number(a.d);
const EXTRA = Number(a.extra);
const RATE = Number(a.rate);
const SECONDS = Number(a.seconds);
const THREADS = a['search-threads'].split(',').map(Number);
const INGEST_THREAD = a['ingest-thread'].split(',');
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Run {
  threads: number;
  ingestThread: string;
  idle: Paced;
  during: Paced;
  rowsPerS: number;
}

async function one(threads: number, ingestThread: string, mainFile: string, extraFile: string): Promise<Run> {
  const { url, dataDir, server } = await startServer('mrl-bench-paced-', {
    MRL_KERNEL: a.kernel,
    MRL_SEARCH_THREADS: String(threads),
    MRL_INGEST_THREAD: ingestThread,
  });
  if (a['client-nice'] !== undefined) setPriority(Number(a['client-nice']));
  try {
    await fetch(`${url}/collections`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', dim: D }),
    });
    const pre = await ingest(url, mainFile);
    log(`[${threads} search threads, ingest thread ${ingestThread}] preloaded ${pre.upserted} rows in ${pre.seconds.toFixed(1)} s`);
    await paced(url, 64 * 25, 1, N); // warm-up: sockets, workers' replicas, caches
    const idle = await paced(url, RATE, SECONDS, N);
    log(`  idle: p50 ${idle.p50.toFixed(2)} ms, p99 ${idle.p99.toFixed(2)} ms`);
    const ingesting = ingest(url, extraFile);
    const during = await paced(url, RATE, SECONDS, N);
    const ing = await ingesting;
    const described = (await (await fetch(`${url}/collections/bench`)).json()) as { index: { searchWaits?: unknown } };
    log(
      `  during ingest (${(ing.upserted / ing.seconds).toFixed(0)} rows/s): p50 ${during.p50.toFixed(2)} ms, p99 ${during.p99.toFixed(2)} ms; ` +
        `searches that waited for an HNSW insertion: ${JSON.stringify(described.index.searchWaits)}`,
    );
    return { threads, ingestThread, idle, during, rowsPerS: ing.upserted / ing.seconds };
  } finally {
    if (a['client-nice'] !== undefined) setPriority(0);
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mrl-bench-paced-files-'));
  try {
    const { mainFile, extraFile } = await writeBenchFiles(dir, N, EXTRA, D, 64);
    const runs: Run[] = [];
    for (const t of THREADS) for (const w of INGEST_THREAD) runs.push(await one(t, w, mainFile, extraFile));
    const out = [
      `# bench:paced-ingest — ${N} × ${D} preloaded, ${RATE} req/s of GET /search?id=<random> for ${SECONDS} s, idle and during an NDJSON ingest of ${EXTRA} rows`,
      '',
      '| MRL_SEARCH_THREADS | MRL_INGEST_THREAD | idle p50 ms | idle p99 ms | during ingest p50 ms | during ingest p99 ms | errors | ingest rows/s |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...runs.map(
        (r) =>
          `| ${r.threads} | ${r.ingestThread} | ${r.idle.p50.toFixed(2)} | ${r.idle.p99.toFixed(2)} | ${r.during.p50.toFixed(2)} | ${r.during.p99.toFixed(2)} | ${r.idle.errors + r.during.errors} | ${r.rowsPerS.toFixed(0)} |`,
      ),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
