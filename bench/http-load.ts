/**
 * The HTTP load pieces bench/http.ts and bench/paced-ingest.ts share: NDJSON files written ahead,
 * an open-loop paced GET /search generator, and an NDJSON ingest streamed from another process.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { Agent, request } from 'node:http';
import { once } from 'node:events';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from './synthetic.js';
import { setTimeout as sleep } from 'node:timers/promises';

const log = (s: string) => process.stderr.write(`${s}\n`);

/** Writes rows [from, to) as NDJSON to a file first, so generating text never competes with the measurement. */
/** n + extra synthetic rows of d dims as two NDJSON files in `dir` (the preload, and the rows ingested during a measurement). */
export async function writeBenchFiles(dir: string, n: number, extra: number, d: number, clusters: number) {
  log(`generating ${n + extra} × ${d} synthetic vectors and their NDJSON`);
  const data = generateSynthetic({ n: n + extra, d, queries: 1, clusters, seed: 1 });
  const mainFile = join(dir, 'main.ndjson');
  const extraFile = join(dir, 'extra.ndjson');
  await writeNdjson(mainFile, data, 0, n);
  await writeNdjson(extraFile, data, n, n + extra);
  return { mainFile, extraFile };
}

export async function writeNdjson(file: string, data: { row(i: number): Float32Array }, from: number, to: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = from; i < to; i++) {
    const v = Array.from(data.row(i), (x) => Number(x.toPrecision(6)));
    if (!out.write(`${JSON.stringify({ id: `v${i}`, vector: v })}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** One keep-alive pool for every paced run, warmed before the first, so connection set-up is not measured. */
export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export interface Paced {
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
 * Open-loop load: one request every 1000/rate ms for `seconds` (GET /search by a random id of the
 * `n` first, collection `bench`), latency measured from each
 * request's scheduled time (so a stalled server cannot hide its queue: no coordinated omission).
 */
export async function paced(url: string, rate: number, seconds: number, n: number): Promise<Paced> {
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
    // Timers wake with ms granularity, so a request may go out up to ~1 ms before it is due: its
    // latency then counts from when it was sent (late ones count from when they were due).
    const from = Math.max(due, performance.now());
    pending.push(
      new Promise<void>((resolve) => {
        const req = request(
          { agent, host: u.hostname, port: u.port, path: `/search?collection=bench&id=v${Math.floor(Math.random() * n)}` },
          (res) => {
            if (res.statusCode !== 200 && process.env.MRL_BENCH_TRACE) {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () => log(`status ${res.statusCode}: ${body.slice(0, 300)}`));
            } else res.resume();
            res.on('end', () => {
              lat.push(performance.now() - from);
              if (process.env.MRL_BENCH_TRACE && performance.now() - from > Number(process.env.MRL_BENCH_TRACE_MS ?? 20))
                log(
                  `slow: due +${(due - t0).toFixed(0)} ms, took ${(performance.now() - from).toFixed(0)} ms, ended at ${(Number(process.hrtime.bigint() / 1000n) / 1e6).toFixed(3)} s (monotonic)`,
                );
              if (res.statusCode === 200) ok++;
              else errors++;
              resolve();
            });
          },
        );
        req.on('error', (err) => {
          if (process.env.MRL_BENCH_TRACE) log(`request error: ${err.message}`);
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
export async function ingest(
  url: string,
  file: string,
  collection = 'bench',
): Promise<{ upserted: number; failed: number; seconds: number }> {
  const script = `
    const { createReadStream } = require('node:fs');
    const { Readable } = require('node:stream');
    fetch(process.argv[1], { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: Readable.toWeb(createReadStream(process.argv[2])), duplex: 'half' })
      .then(async (r) => { process.stdout.write(JSON.stringify({ status: r.status, body: await r.json() })); })
      .catch((e) => { process.stderr.write(String(e)); process.exit(1); });`;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', script, `${url}/ingest?collection=${collection}`, file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The uploader is a client like any other: it does not share a raised priority of this process (--client-nice).
  if (child.pid !== undefined && getPriority() < 0) setPriority(child.pid, 0);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'exit');
  const { status, body } = JSON.parse(out) as { status: number; body: { upserted: number; failed: number } };
  if (status !== 200) throw new Error(`ingest failed: ${JSON.stringify(body)}`);
  return { ...body, seconds: (performance.now() - t0) / 1000 };
}
