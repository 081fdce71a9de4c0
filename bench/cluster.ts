/**
 * npm run bench:cluster — a cluster on this machine's loopback (3 nats-server, 3 mrl-server
 * processes; CPU-bound: every process shares the same cores, so this measures the overheads of
 * the log and of the scatter-gather, not the scaling of separate machines).
 *  - ingest rows/s: one node (no NATS) vs through the log (acknowledged, and applied by every replica);
 *  - search p50/p99/QPS (closed loop, --concurrency requests in flight, spread over the nodes):
 *    1 node · 3 nodes × 1 shard (every node holds everything: answered locally) · 3 nodes × 3 shards (one per node: fan-out to all three);
 *  - the latency the scatter-gather adds: 3 shards vs 1 shard on the same 3 nodes, and a reply's total vs its slowest shard.
 * Flags: --n 5000 --d 64 --queries 400 --concurrency 4
 */
import { parseArgs } from 'node:util';
import { mrlLikeVectors } from '../test/helpers.js';
import { api, maxSeqs, Procs, startNats, startNode, waitApplied, type Node } from '../test/cluster/harness.js';

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    d: { type: 'string', default: '64' },
    queries: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '4' },
  },
});
const N = Number(a.n),
  D = Number(a.d),
  Q = Number(a.queries),
  C = Number(a.concurrency);
const BATCH = 500;
const log = (s: string) => process.stderr.write(`${s}\n`);

const { vectors } = mrlLikeVectors(N + Q, D, 5);
const rows = vectors.slice(0, N).map((vector, i) => ({ id: `v${i}`, vector }));
const queries = vectors.slice(N);

async function ingest(node: Node, collection: string): Promise<{ rowsPerS: number; seqs: Record<string, number> }> {
  const seqs: Record<string, number> = {};
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) {
    const r = await api<{ seqs?: Record<string, number> }>(node, 'POST', '/ingest', { collection, items: rows.slice(i, i + BATCH) });
    if (r.status !== 200) throw new Error(JSON.stringify(r.body));
    maxSeqs(seqs, r.body.seqs);
  }
  return { rowsPerS: rows.length / ((performance.now() - t0) / 1000), seqs };
}

interface Load {
  p50: number;
  p99: number;
  qps: number;
  overheadMs: number;
}

/** Q searches, C in flight, round-robin over `nodes`; latency per request as the client sees it. */
async function load(nodes: Node[], collection: string): Promise<Load> {
  const lat: number[] = [];
  const overhead: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < Q) {
        const i = next++;
        const s = performance.now();
        const r = await api<{ ms: number; shards?: { ms: number }[] }>(nodes[i % nodes.length], 'POST', '/search', {
          collection,
          vector: queries[i],
          k: 10,
        });
        if (r.status !== 200) throw new Error(JSON.stringify(r.body));
        lat.push(performance.now() - s);
        const shards = r.body.shards ?? [];
        if (shards.length) overhead.push(r.body.ms - Math.max(...shards.map((x) => x.ms)));
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((x, y) => x - y);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return {
    p50: q(0.5),
    p99: q(0.99),
    qps: Q / secs,
    overheadMs: overhead.length ? overhead.reduce((x, y) => x + y, 0) / overhead.length : 0,
  };
}

const fmt = (l: Load) => `p50 ${l.p50.toFixed(1)} ms · p99 ${l.p99.toFixed(1)} ms · ${l.qps.toFixed(0)} QPS`;

const procs = new Procs();
try {
  log(
    `bench:cluster: ${N} × ${D} rows, ${Q} queries, ${C} in flight, loopback, ${(await import('node:os')).cpus().length} cores shared by every process`,
  );
  const single = await startNode(procs, null, 'single', '');
  await api(single, 'POST', '/collections', { name: 'one', dim: D });
  const ing1 = await ingest(single, 'one');
  const l1 = await load([single], 'one');
  await procs.stop('single');

  const nats = await startNats(procs);
  const serve = ['one:0;three:0', 'one:0;three:1', 'one:0;three:2'];
  const nodes = await Promise.all(serve.map((s, i) => startNode(procs, nats, `n${i + 1}`, s)));
  await api(nodes[0], 'POST', '/collections', { name: 'one', dim: D, shards: 1, replicas: 3 });
  await api(nodes[0], 'POST', '/collections', { name: 'three', dim: D, shards: 3, replicas: 3 });
  const t0 = performance.now();
  const ingC = await ingest(nodes[0], 'one');
  for (const n of nodes) await waitApplied(n, 'one', ingC.seqs);
  const appliedRowsPerS = N / ((performance.now() - t0) / 1000);
  const ing3 = await ingest(nodes[1], 'three');
  for (const n of nodes) await waitApplied(n, 'three', ing3.seqs);
  const l3x1 = await load(nodes, 'one');
  const l3x3 = await load(nodes, 'three');

  const out = [
    `ingest, one node (no log):            ${ing1.rowsPerS.toFixed(0)} rows/s`,
    `ingest through the log, 1 shard R3:   ${ingC.rowsPerS.toFixed(0)} rows/s acknowledged, ${appliedRowsPerS.toFixed(0)} rows/s applied by all 3 replicas`,
    `ingest through the log, 3 shards R3:  ${ing3.rowsPerS.toFixed(0)} rows/s acknowledged`,
    `search, 1 node:                       ${fmt(l1)}`,
    `search, 3 nodes × 1 shard:            ${fmt(l3x1)}`,
    `search, 3 nodes × 3 shards:           ${fmt(l3x3)}`,
    `scatter-gather adds (3 vs 1 shard):   p50 +${(l3x3.p50 - l3x1.p50).toFixed(1)} ms; reply total − slowest shard: ${l3x3.overheadMs.toFixed(2)} ms (1 shard: ${l3x1.overheadMs.toFixed(2)} ms)`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await procs.stopAll();
}
