/**
 * npm run demo: Fashion-MNIST end to end through the real service. Installs the data set if
 * missing, starts the server (data in data/demo, port $PORT or 8080), ingests the 60k training
 * images through the fashion-mrl encoder and the 10k test images as a query collection, then
 * evaluates the default funnel and exact full-D search side by side and keeps serving the web
 * page until Ctrl-C. A second run reuses the ingested data.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { projectRoot } from '../src/paths.js';
import { FASHION_CLASSES, FASHION_MNIST_DIR, loadSplit, type ImageSplit } from '../src/data/fashion-mnist.js';
import type { EvalResult } from '../src/eval/types.js';

const root = projectRoot();
const port = Number(process.env.PORT ?? 8080);
const base = `http://127.0.0.1:${port}`;
const dataDir = process.env.MRL_DATA_DIR ?? join(root, 'data', 'demo');
const BATCH = 500;

async function api<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: init?.method ?? 'GET',
    headers: init?.body ? { 'content-type': 'application/json' } : {},
    body: init?.body ? JSON.stringify(init.body) : undefined,
  });
  const body = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${res.status} ${body.error?.code}: ${body.error?.message}`);
  return body;
}

function image(split: ImageSplit, i: number): number[][] {
  const px = split.rows * split.cols;
  return Array.from({ length: split.rows }, (_, r) =>
    Array.from(split.images.subarray(i * px + r * split.cols, i * px + (r + 1) * split.cols)),
  );
}

async function ingest(collection: string, split: ImageSplit, prefix: string): Promise<void> {
  const have = await api<{ count: number }>(`/collections/${collection}`).catch(() => null);
  if (have && have.count === split.count) {
    process.stdout.write(`${collection}: ${have.count} images already ingested\n`);
    return;
  }
  if (!have) await api('/collections', { method: 'POST', body: { name: collection, encoder: 'fashion-mrl' } });
  const bar = new cliProgress.SingleBar(
    {
      format: `ingest ${collection.padEnd(13)} |{bar}| {value}/{total} images | {rate} img/s | {eta_formatted} left`,
      stream: process.stdout,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
    },
    cliProgress.Presets.shades_classic,
  );
  const t0 = performance.now();
  bar.start(split.count, 0, { rate: 0 });
  for (let s = 0; s < split.count; s += BATCH) {
    const items = [];
    for (let i = s; i < Math.min(split.count, s + BATCH); i++)
      items.push({ id: `${prefix}${i}`, input: image(split, i), label: FASHION_CLASSES[split.labels[i]] });
    await api('/ingest', { method: 'POST', body: { collection, items } });
    const done = Math.min(split.count, s + BATCH);
    bar.update(done, { rate: Math.round(done / ((performance.now() - t0) / 1000)) });
  }
  bar.stop();
}

async function evaluateWithBar(label: string, query: string): Promise<EvalResult> {
  const job = await api<{ statusUrl: string }>(`/eval?collection=fashion&queries=fashion-test&async=true${query}`);
  const bar = new cliProgress.SingleBar(
    {
      format: `eval ${label.padEnd(16)} |{bar}| {value}/{total} searches | {eta_formatted} left`,
      stream: process.stdout,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0);
  for (;;) {
    await sleep(500);
    const j = await api<{ state: string; progress: { done: number; total: number }; result?: EvalResult; error?: { message: string } }>(
      job.statusUrl,
    );
    bar.setTotal(Math.max(1, j.progress.total));
    bar.update(j.progress.done);
    if (j.state === 'done') {
      bar.stop();
      return j.result!;
    }
    if (j.state === 'failed') throw new Error(`evaluation failed: ${j.error?.message}`);
  }
}

async function main(): Promise<void> {
  const install = spawnSync('bash', [join(root, 'scripts/install-fashion-mnist.sh')], { stdio: 'inherit' });
  if (install.status !== 0) throw new Error('could not install Fashion-MNIST (see above)');
  mkdirSync(dataDir, { recursive: true });
  const log = join(dataDir, 'server.log');
  const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/server.ts')], {
    env: { ...process.env, MRL_DATA_DIR: dataDir, PORT: String(port), MRL_DEFAULT_ENCODER: '' },
    stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
  });
  let exited = false;
  server.on('exit', (code) => {
    exited = true;
    if (code !== 0) process.stderr.write(`the server exited with ${code}: see ${log}\n`);
  });
  const stop = () => {
    if (!exited) server.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    process.stdout.write(`starting mrl-server on ${base} (data in ${dataDir}, log in ${log})\n`);
    for (let i = 0; ; i++) {
      if (exited) throw new Error(`the server did not start: see ${log}`);
      const ready = await fetch(`${base}/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (i > 600) throw new Error('the server was not ready after 5 minutes');
      await sleep(500);
    }
    const train = loadSplit(FASHION_MNIST_DIR, 'train');
    const test = loadSplit(FASHION_MNIST_DIR, 't10k');
    await ingest('fashion', train, 'train-');
    await ingest('fashion-test', test, 'test-');
    const funnel = await evaluateWithBar('default funnel', '');
    const exact = await evaluateWithBar('exact 512-d', '&exact=true');
    const row = (name: string, r: EvalResult) => [
      name,
      r.config.stages.map((s) => `${s.source} ${s.dims}d→${s.keep}`).join(', '),
      r.mapAt10?.toFixed(4) ?? '–',
      r.top1?.toFixed(4) ?? '–',
      r.recallAt10VsExact.toFixed(4),
      r.latencyMs.p50.toFixed(3),
      r.latencyMs.p99.toFixed(3),
      String(Math.round(r.qps)),
    ];
    const rows = [
      ['search', 'stages', 'mAP@10', 'top-1', 'recall@10', 'p50 ms', 'p99 ms', 'QPS'],
      row('default funnel', funnel),
      row('exact full-D', exact),
    ];
    const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    process.stdout.write(
      `\n${funnel.queries} test images queried against ${train.count} training images (fashion-mrl, one query at a time):\n`,
    );
    for (const r of rows) process.stdout.write(`${r.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')}\n`);
    process.stdout.write(`speed-up of the funnel over exact search at p50: ${(exact.latencyMs.p50 / funnel.latencyMs.p50).toFixed(1)}×\n`);
    process.stdout.write(`\nthe web page: ${base}/   (Ctrl-C stops the server)\n`);
    if (process.env.MRL_DEMO_EXIT) stop();
    await new Promise<void>((resolve) => server.on('exit', () => resolve()));
  } catch (err) {
    stop();
    throw err;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
