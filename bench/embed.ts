/**
 * npm run bench:embed — the encoders' latency, TF.js (wasm) and onnxruntime side by side, then
 * GET /search?q= end to end over HTTP.
 *  1. In process, through the encoder registry as the server uses it (cache off, micro-batching
 *     idle): one Brown sentence, a batch of 32, one Fashion-MNIST image, a batch of 256: p50 /
 *     p99 latency and throughput, each backend in turn.
 *  2. A real server (child process) on a fresh data dir: its `default` collection (text-mrl)
 *     grown to N Brown sentences (default 10k) through POST /ingest, then autocannon on
 *     GET /search?q= with 1 and 8 connections: uncached (every request a sentence not asked
 *     before, whole or its first 6 words, a search box's length) and cached (64 sentences
 *     asked over and over, after one warm-up pass).
 * Needs the ONNX graphs (npm run build:onnx; `prepare` builds them).
 * Flags: --iterations 200 (single-input runs on onnxruntime; TF.js and batches run fewer)
 *        --n 10000 --duration 5 (seconds per autocannon run) --threads 2 (MRL_EMBED_THREADS)
 */
import autocannon from 'autocannon';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkOnnxModel } from '../src/encoders/onnx/build-models.js';
import { EncoderRegistry } from '../src/encoders/registry.js';
import { initTf } from '../src/encoders/tf-backend.js';
import { projectRoot } from '../src/paths.js';
import { summarise } from '../src/core/stats.js';
import { milestoneOf } from '../src/quality/milestones.js';
import { brownSentences, fashionImages } from './samples.js';
import { startServer } from './server.js';

const { values: a } = parseArgs({
  options: {
    iterations: { type: 'string', default: '200' },
    n: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
  },
});
const ITER = Number(a.iterations),
  N = Number(a.n),
  DURATION = Number(a.duration),
  THREADS = Number(a.threads);
const modelsDir = join(projectRoot(), 'models');
const log = (s: string) => process.stderr.write(`${s}\n`);

for (const [name, loader] of [
  ['text-mrl', 'text-use-adaptor'],
  ['fashion-mrl', 'image-mlp'],
] as const) {
  const c = checkOnnxModel(join(modelsDir, name), loader);
  if (!c.ok) throw new Error(`${name}: ${c.reason}`);
}

// ---- 1. in process ------------------------------------------------------------------------

const sentences = brownSentences(N + 20_000);
const corpus = sentences.slice(0, N);
const unseen = sentences.slice(N);
const images = fashionImages(512);
const pick = <T>(xs: T[], i: number, n: number) => Array.from({ length: n }, (_, j) => xs[(i * n + j) % xs.length]);

interface Row {
  backend: string;
  case: string;
  p50: number;
  p99: number;
  perSecond: number;
}
const rows: Row[] = [];

async function measure(
  backend: string,
  reg: EncoderRegistry,
  label: string,
  model: string,
  inputs: (i: number) => unknown[],
  iterations: number,
): Promise<void> {
  for (let i = 0; i < 3; i++) await reg.embed(model, inputs(i));
  const ms: number[] = [];
  let count = 0;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    const x = inputs(i + 3);
    const t = performance.now();
    await reg.embed(model, x);
    ms.push(performance.now() - t);
    count += x.length;
  }
  const wall = performance.now() - t0;
  const s = summarise(ms, wall);
  rows.push({ backend, case: label, p50: s.p50, p99: s.p99, perSecond: count / (wall / 1000) });
  log(`${backend} ${label}: p50 ${s.p50.toFixed(2)} ms`);
}

await initTf();
const typical = corpus.filter((s) => s.split(' ').length >= 15 && s.split(' ').length <= 25);
for (const backend of ['onnx', 'tfjs'] as const) {
  const reg = new EncoderRegistry(modelsDir, { backend, threads: THREADS, cacheSize: 0 });
  const it = backend === 'onnx' ? ITER : Math.max(10, ITER / 5);
  const name = backend === 'onnx' ? `onnxruntime (${THREADS} thread${THREADS > 1 ? 's' : ''})` : 'TF.js wasm';
  await measure(name, reg, '1 sentence (15–25 words)', 'text-mrl', (i) => pick(typical, i, 1), it);
  await measure(name, reg, '32 sentences', 'text-mrl', (i) => pick(corpus, i, 32), Math.max(5, it / 10));
  await measure(name, reg, '1 image', 'fashion-mrl', (i) => pick(images, i, 1), it);
  await measure(name, reg, '256 images', 'fashion-mrl', (i) => pick(images, i, 256), Math.max(5, it / 10));
  await reg.dispose();
}

// ---- 2. GET /search?q= over HTTP ----------------------------------------------------------

const { url, server } = await startServer('mrl-bench-embed-', { MRL_EMBED_THREADS: String(THREADS) });

const t0 = performance.now();
for (let i = 0; i < corpus.length; i += 500) {
  const items = corpus.slice(i, i + 500).map((s, j) => ({ id: `b${i + j}`, input: s }));
  const r = await fetch(`${url}/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ collection: 'default', items }),
  });
  if (!r.ok) throw new Error(`ingest: ${r.status} ${await r.text()}`);
}
const ingestS = (performance.now() - t0) / 1000;
log(`ingested ${corpus.length} sentences in ${ingestS.toFixed(1)} s`);
// Measure searches, not the work an ingest leaves behind: the background HNSW insertion and the
// quality report of the ingest milestone share this process's event loop until they are done.
const settleT0 = performance.now();
for (let settled = false; !settled && performance.now() - settleT0 < 300_000;) {
  await new Promise((r) => setTimeout(r, 500));
  const d = (await (await fetch(`${url}/collections/default`)).json()) as { index?: { pending?: number } };
  const list = (await (await fetch(`${url}/collections`)).json()) as {
    collections?: { name: string; quality?: { items: number } | null }[];
  };
  const q = list.collections?.find((c) => c.name === 'default')?.quality;
  // The report is due only once the collection reaches an ingest milestone (none below 5k items).
  settled = (d.index?.pending ?? 0) === 0 && milestoneOf(q?.items ?? 0) >= milestoneOf(corpus.length);
}
log(`background index insertion and quality report done ${((performance.now() - settleT0) / 1000).toFixed(1)} s after the ingest`);
const health = (await (await fetch(`${url}/health`)).json()) as { encoders: { name: string; backend: string }[] };

let next = 0;
const hot = unseen.slice(unseen.length - 64);
const path = (q: string) => `/search?q=${encodeURIComponent(q)}`;
/** Search-box sized queries: a sentence's first words. */
const short = (s: string) => s.split(' ').slice(0, 6).join(' ');
function cannon(connections: number, cached: boolean, shortQueries: boolean): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    let i = 0;
    const query = () =>
      cached ? hot[i++ % hot.length] : shortQueries ? short(unseen[next++ % (unseen.length - 64)]) : unseen[next++ % (unseen.length - 64)];
    autocannon(
      {
        url,
        connections,
        duration: DURATION,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: path(query()) }) }],
      },
      (err, res) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
  });
}
for (const q of hot) await fetch(url + path(q)); // the cached runs' warm-up pass
const http: { name: string; r: autocannon.Result }[] = [];
for (const [kind, cached] of [
  ['sentence', false],
  ['short', false],
  ['sentence', true],
] as const) {
  for (const c of [1, 8]) {
    const r = await cannon(c, cached, kind === 'short');
    http.push({
      name: `${c} client${c > 1 ? 's' : ''}, ${cached ? 'cached' : 'uncached'}, ${kind === 'short' ? 'first 6 words of a sentence' : 'whole sentences'}`,
      r,
    });
    log(`${http[http.length - 1].name}: ${r.requests.average} req/s`);
  }
}
if (next >= unseen.length - 64) log(`note: the uncached runs reused queries (${next} requests, ${unseen.length - 64} distinct)`);
server.kill('SIGTERM');

// ---- report -------------------------------------------------------------------------------

console.log(
  `\nEncoders in process (registry, cache off): ${ITER} iterations of single inputs on onnxruntime, fewer for TF.js and batches\n`,
);
console.log('| backend | input | p50 ms | p99 ms | inputs/s |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.backend} | ${r.case} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.perSecond.toFixed(0)} |`);
console.log(
  `\nGET /search?q= over HTTP, default collection of ${corpus.length} Brown sentences (ingested in ${ingestS.toFixed(1)} s; ` +
    `encoders: ${health.encoders.map((e) => `${e.name} ${e.backend}`).join(', ')}), autocannon ${DURATION} s per row\n`,
);
console.log('| clients | req/s | p50 ms | p99 ms | errors |');
console.log('| --- | --- | --- | --- | --- |');
for (const { name, r } of http)
  console.log(`| ${name} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx + r.errors} |`);
