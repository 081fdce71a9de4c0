import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createKernel } from '../src/compute/create-kernel.js';
import { DataContext } from '../src/data-context.js';
import type { Engine } from '../src/engine/engine.js';

const stacks = new WeakMap<TestContext, (() => unknown)[]>();

/** Runs `fn` when the test ends, in reverse order of registration (t.after runs in order). */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const s: (() => unknown)[] = [];
    stacks.set(t, s);
    t.after(async () => {
      while (s.length) await s.pop()!();
    });
    stack = s;
  }
  stack.push(fn);
}

/** A temp directory removed when the test ends (after what was opened in it is closed). */
export function tempDir(t: TestContext, prefix = 'mrl-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  defer(t, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** mulberry32: small, seeded, good enough for test data (the trainer's own PRNG). */
export { mulberry32 as rng } from '../src/core/rng.js';
import { mulberry32 as rng } from '../src/core/rng.js';

/** Clustered vectors whose variance decays along the dims, like MRL embeddings. */
export function mrlLikeVectors(n: number, dim: number, seed: number, clusters = 8): { vectors: number[][]; labels: string[] } {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dim }, (_, j) => gauss() / Math.sqrt(1 + j / 4)));
  const vectors: number[][] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % clusters;
    vectors.push(centres[c].map((x, j) => Math.fround(x + (0.5 * gauss()) / Math.sqrt(1 + j / 4))));
    labels.push(`c${c}`);
  }
  return { vectors, labels };
}

/** A data dir opened with its own kernel (no models), closed (data, then kernel) when the test ends. */
export async function openData(t: TestContext, dataDir: string, backend: 'auto' | 'js' | 'onnx' = 'auto'): Promise<DataContext> {
  const kernel = await createKernel({ backend, threads: 2 });
  defer(t, () => kernel.close());
  const data = await DataContext.open({ dataDir, kernel });
  defer(t, () => data.close());
  return data;
}

/** The engine of `openData`. */
export async function openEngine(t: TestContext, dataDir: string, backend: 'auto' | 'js' | 'onnx' = 'auto'): Promise<Engine> {
  return (await openData(t, dataDir, backend)).engine;
}

/**
 * Env for a test that talks to its in-process server over a real port: idle keep-alive
 * connections stay open for the whole test. With the default 5 s, a stall of the shared process
 * (a loaded machine) lets the client write a request on an idle connection whose server-side
 * timer then fires before the server reads it: the server closes the connection under the
 * request, which fails with ECONNRESET ("fetch failed"). Idle connections are then closed only by
 * the client (undici, ahead of the server's keep-alive hint) or by app.close(), never under a request.
 */
export const KEEP_IDLE_CONNECTIONS = { MRL_KEEP_ALIVE_TIMEOUT_MS: '600000' } as const;

/** The real app over a temp data dir, loaded, closed (app then context) when the test ends. */
export async function buildTestApp(t: TestContext, env: Record<string, string> = {}, dataDir = tempDir(t)) {
  const { loadConfig } = await import('../src/config.js');
  const { AppContext } = await import('../src/context.js');
  const { buildApp } = await import('../src/http/app.js');
  const config = loadConfig({ MRL_DATA_DIR: dataDir, MRL_THREADS: '2', MRL_DEFAULT_ENCODER: '', ...env });
  const ctx = await AppContext.fromConfig(config, { deferLoad: true, createDefault: true });
  await ctx.engine.load();
  const app = await buildApp(ctx);
  defer(t, async () => {
    await app.close();
    await ctx.close();
  });
  return { app, ctx, dataDir };
}

/** Arguments of `mrl train` for a tiny, fast run (32 dims, 32 hidden units, one epoch) on `data`, into `out`. */
export function tinyTrainArgs(data: string, out: string, batch: number, limit: number, ...extra: string[]): string[] {
  return [
    '--data',
    data,
    '--out',
    out,
    '--dim',
    '32',
    '--hidden',
    '32',
    '--epochs',
    '1',
    '--batch',
    String(batch),
    '--limit',
    String(limit),
    ...extra,
  ];
}
