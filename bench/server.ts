/**
 * Starts `src/server.ts` as a child process on a free 127.0.0.1 port over a fresh temporary data
 * directory, for the benchmarks that measure the service over HTTP. The child and the directory are
 * removed whenever this process ends (normal exit, Ctrl-C, a closed pipe).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface BenchServer {
  url: string;
  dataDir: string;
  server: ChildProcess;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Spawns the server with `env` added to this process's environment and waits until /ready answers 200. */
export async function startServer(prefix: string, env: Record<string, string>, startTimeoutMs = 60_000): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // BENCH_SERVER_NODE_FLAGS: extra node flags for the server (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const flags = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const server = spawn(process.execPath, [...flags, '--import', 'tsx', join(import.meta.dirname, '../src/server.ts')], {
    env: { ...process.env, PORT: String(port), MRL_DATA_DIR: dataDir, MRL_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  process.on('exit', () => {
    server.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGPIPE', 'SIGHUP'] as const) process.on(sig, () => process.exit(130));
  const deadline = performance.now() + startTimeoutMs;
  while ((await fetch(`${url}/ready`).catch(() => null))?.status !== 200) {
    if (performance.now() > deadline) throw new Error('server did not start');
    await sleep(50);
  }
  return { url, dataDir, server };
}
