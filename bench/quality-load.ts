/**
 * node --import tsx bench/quality-load.ts — what a quality report costs the searches running
 * beside it. A real server (child process) on a fresh data dir: its `default` collection
 * (text-mrl, 512-d) filled with N seeded random unit vectors (the report's work is rows ×
 * queries × D whatever the vectors say), the ingest milestone's report and the background HNSW
 * insertion left to finish, then one client sending GET /search?q= (a Brown sentence not asked
 * before: embedded, then searched) back to back: for --baseline seconds with nothing else
 * running, then while `GET /collections/default/quality?refresh=true` recomputes the report.
 * Prints req/s and p50/p99 of both phases and the report's own time.
 * Flags: --n 10000 --baseline 5 --threads 2 (MRL_EMBED_THREADS)
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { mulberry32 } from '../src/core/rng.js';
import { summarise } from '../src/core/stats.js';
import { brownSentences } from './samples.js';
import { startServer } from './server.js';

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    baseline: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
  },
});
const N = Number(a.n),
  BASELINE_S = Number(a.baseline);
const DIM = 512;
const log = (s: string) => process.stderr.write(`${s}\n`);

const { url, server } = await startServer('mrl-bench-quality-', { MRL_EMBED_THREADS: a.threads });
const rand = mulberry32(7);
const unit = (): number[] => {
  const v = Array.from({ length: DIM }, () => rand() * 2 - 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};
const ingestT0 = performance.now();
for (let i = 0; i < N; i += 500) {
  const items = Array.from({ length: Math.min(500, N - i) }, (_, j) => ({ id: `v${i + j}`, vector: unit() }));
  const r = await fetch(`${url}/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ collection: 'default', items }),
  });
  if (!r.ok) throw new Error(`ingest: ${r.status} ${await r.text()}`);
}
log(`ingested ${N} vectors in ${((performance.now() - ingestT0) / 1000).toFixed(1)} s`);
const settleT0 = performance.now();
for (let pending = -1; pending !== 0;) {
  await sleep(500);
  if (performance.now() - settleT0 > 120_000) throw new Error('the background index insertion did not finish in 2 minutes');
  pending = ((await (await fetch(`${url}/collections/default`)).json()) as { index: { pending?: number } }).index.pending ?? 0;
}
// A report still running from the ingest's milestones: a second request waits for it (one sample query otherwise).
const settle = await fetch(`${url}/collections/default/quality?refresh=true&sample=1`);
if (!settle.ok) throw new Error(`quality: ${settle.status} ${await settle.text()}`);
log(`index insertion and milestone reports done ${((performance.now() - settleT0) / 1000).toFixed(1)} s after the ingest`);

const queries = brownSentences(20_000);
let next = 0;
/** Sequential searches until `stop()` says so: one client, each request sent when the last answered. */
async function client(stop: () => boolean): Promise<{ ms: number[]; wall: number }> {
  const ms: number[] = [];
  const t0 = performance.now();
  while (!stop()) {
    const t = performance.now();
    const r = await fetch(`${url}/search?q=${encodeURIComponent(queries[next++ % queries.length])}`);
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`search: ${r.status}`);
    ms.push(performance.now() - t);
  }
  return { ms, wall: performance.now() - t0 };
}
await client(
  (
    (end) => () =>
      performance.now() > end
  )(performance.now() + 1000),
); // warm-up
const end = performance.now() + BASELINE_S * 1000;
const idle = await client(() => performance.now() > end);
let reportDone = false;
const t0 = performance.now();
const report = fetch(`${url}/collections/default/quality?refresh=true`).then(async (r) => {
  const body = (await r.json()) as { ms?: number; sampleRows?: number; queries?: number };
  reportDone = true;
  if (!r.ok) throw new Error(`report: ${r.status} ${JSON.stringify(body)}`);
  return { ...body, wall: performance.now() - t0 };
});
const during = await client(() => reportDone);
const rep = await report;
server.kill('SIGTERM');

const row = (name: string, r: { ms: number[]; wall: number }) => {
  const s = summarise(r.ms, r.wall);
  return `| ${name} | ${r.ms.length} | ${(r.ms.length / (r.wall / 1000)).toFixed(0)} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} |`;
};
console.log(
  `\nGET /search?q= from one client, default collection of ${N} random 512-d vectors; report: ${rep.sampleRows} rows, ` +
    `${rep.queries} queries, ${(rep.ms! / 1000).toFixed(1)} s computing (${(rep.wall / 1000).toFixed(1)} s end to end)\n`,
);
console.log('| phase | requests | req/s | p50 ms | p99 ms |');
console.log('| --- | --- | --- | --- | --- |');
console.log(row(`idle, ${BASELINE_S} s`, idle));
console.log(row('during the quality report', during));
