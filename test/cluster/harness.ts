import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';

export const KEY = 'test-cluster-key-0123456789';
/** Access control is on (an admin key): node-to-node requests must get through it with the cluster key alone. */
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
/** The nodes' bound of a write without a NATS quorum (MRL_WRITE_TIMEOUT_MS). */
export const WRITE_TIMEOUT_MS = 6000;
const ROOT = join(import.meta.dirname, '../..');
const SERVER = join(ROOT, 'src/server.ts');

/** A free loopback port (bound, then released: another process could take it, rarely). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every process started here, stopped by its own pid at the end (success or failure). */
export class Procs {
  readonly dir = mkdtempSync(join(tmpdir(), 'mrl-cluster-'));
  private readonly live = new Map<string, ChildProcess>();

  start(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const log = createWriteStream(join(this.dir, `${name}.log`), { flags: 'a' });
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.pipe(log);
    p.stderr.pipe(log);
    this.live.set(name, p);
    p.once('exit', () => {
      if (this.live.get(name) === p) this.live.delete(name);
    });
    return p;
  }

  get(name: string): ChildProcess {
    const p = this.live.get(name);
    if (!p) throw new Error(`${name} is not running`);
    return p;
  }

  log(name: string): string {
    try {
      return readFileSync(join(this.dir, `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  /** Sends `signal` to one process by its pid and waits for it to exit (SIGKILL after 15 s). */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.live.get(name);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    process.kill(p.pid!, signal);
    const t = setTimeout(() => p.pid && process.kill(p.pid, 'SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
    this.live.delete(name);
  }

  /** Stops every process still running (each by its pid), then removes the temp dir. */
  async stopAll(): Promise<void> {
    for (const name of [...this.live.keys()].reverse()) await this.stop(name).catch(() => undefined);
    if (process.env.MRL_KEEP_CLUSTER_LOGS) process.stderr.write(`cluster logs kept in ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface NatsCluster {
  urls: string[];
  names: string[];
}

/** Starts a stopped nats-server again with its own config and store (its JetStream state comes back from disk). */
export function restartNats(procs: Procs, nats: NatsCluster, i: number): void {
  procs.start(nats.names[i], process.env.NATS_SERVER ?? 'nats-server', ['-c', join(procs.dir, `${nats.names[i]}.conf`)]);
}

/** 3 nats-server processes clustered on loopback, JetStream in temp dirs; resolves once JetStream answers. */
export async function startNats(procs: Procs, count = 3): Promise<NatsCluster> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const routes = await Promise.all(Array.from({ length: count }, () => freePort()));
  const names = ports.map((_, i) => `nats${i + 1}`);
  for (let i = 0; i < count; i++) {
    const store = join(procs.dir, names[i]);
    mkdirSync(store, { recursive: true });
    const conf = join(procs.dir, `${names[i]}.conf`);
    writeFileSync(
      conf,
      [
        `server_name: ${names[i]}`,
        `listen: 127.0.0.1:${ports[i]}`,
        `jetstream { store_dir: "${store}", max_memory_store: 64MB, max_file_store: 2GB }`,
        `cluster { name: mrl, listen: 127.0.0.1:${routes[i]}, routes: [${routes
          .filter((_, j) => j !== i)
          .map((p) => `"nats-route://127.0.0.1:${p}"`)
          .join(', ')}] }`,
      ].join('\n'),
    );
    procs.start(names[i], process.env.NATS_SERVER ?? 'nats-server', ['-c', conf]);
  }
  const urls = ports.map((p) => `nats://127.0.0.1:${p}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const nc = await connect({ servers: urls, timeout: 1000 });
      try {
        const jsm = await nc.jetstreamManager();
        await jsm.getAccountInfo();
        const kv = await nc.jetstream().views.kv('mrl_probe', { replicas: count });
        await kv.put('x', 'y');
        await jsm.streams.delete('KV_mrl_probe');
        return { urls, names };
      } finally {
        await nc.close();
      }
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`JetStream did not come up: ${(err as Error).message}\n${procs.log('nats1')}`, { cause: err });
      await sleep(300);
    }
  }
}

export interface Node {
  name: string;
  url: string;
  port: number;
  dataDir: string;
  env: Record<string, string>;
}

/** Starts an mrl-server node as a real process; resolves once it has joined the cluster (or, without NATS, is ready). */
export async function startNode(
  procs: Procs,
  nats: NatsCluster | null,
  name: string,
  serve: string,
  extra: Record<string, string> = {},
  reuse?: Node,
): Promise<Node> {
  const port = reuse?.port ?? (await freePort());
  const dataDir = reuse?.dataDir ?? join(procs.dir, `${name}-data`);
  const modelsDir = join(procs.dir, 'no-models');
  mkdirSync(modelsDir, { recursive: true });
  const env = reuse?.env ?? {
    PORT: String(port),
    HOST: '127.0.0.1',
    MRL_DATA_DIR: dataDir,
    MRL_MODELS_DIR: modelsDir,
    MRL_DEFAULT_ENCODER: '',
    MRL_THREADS: '1',
    MRL_KERNEL: 'js',
    MRL_LOG_LEVEL: 'warn',
    MRL_ADMIN_KEY: ADMIN_KEY,
    ...(nats
      ? {
          MRL_NATS_URL: nats.urls.join(','),
          MRL_NODE_ID: name,
          MRL_NODE_URL: `http://127.0.0.1:${port}`,
          MRL_SERVE_SHARDS: serve,
          MRL_CLUSTER_KEY: KEY,
          MRL_HEARTBEAT_MS: '500',
          MRL_CLUSTER_COMPACT_MS: '0',
          MRL_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS),
        }
      : {}),
    ...extra,
  };
  const proc = procs.start(name, process.execPath, ['--import', 'tsx', SERVER], env);
  const node = { name, url: `http://127.0.0.1:${port}`, port, dataDir, env };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const p = proc;
    if (p.exitCode !== null) throw new Error(`${name} exited (${p.exitCode}):\n${procs.log(name)}`);
    try {
      if (nats ? (await status(node)).started : (await fetch(`${node.url}/ready`)).ok) return node;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not join:\n${procs.log(name)}`);
    await sleep(250);
  }
}

export interface Status {
  started: boolean;
  joined: { items: number } | null;
  shards: { collection: string; shard: number; applied: number; broken: string | null }[];
  nodes: { id: string; live: boolean }[];
}

export async function status(node: Node): Promise<Status> {
  const r = await fetch(`${node.url}/cluster/status`, { headers: { 'x-mrl-cluster-key': KEY }, signal: AbortSignal.timeout(2000) });
  if (!r.ok) throw new Error(`status ${r.status}`);
  return (await r.json()) as Status;
}

/** JSON request to a node; returns status and body. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests' assertions check the bodies' shapes
export async function api<T = any>(node: Node, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  return apiAs<T>(ADMIN_KEY, node, method, path, body);
}

/** The same with another API key. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as api
export async function apiAs<T = any>(
  key: string,
  node: Node,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const r = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
}

/** Waits until `node` has applied each shard it serves up to `seqs` (or `ms` passes). */
export async function waitApplied(node: Node, collection: string, seqs: Record<string, number>, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await status(node).catch(() => null);
    if (s) {
      const mine = s.shards.filter((x) => x.collection === collection);
      if (mine.length && mine.every((x) => x.applied >= (seqs[String(x.shard)] ?? 0))) return;
    }
    if (Date.now() > deadline) throw new Error(`${node.name} did not apply ${JSON.stringify(seqs)}: ${JSON.stringify(s?.shards)}`);
    await sleep(300);
  }
}

/** Highest seq per shard over several ingest replies. */
export function maxSeqs(into: Record<string, number>, seqs: Record<string, number> | undefined): Record<string, number> {
  for (const [s, q] of Object.entries(seqs ?? {})) into[s] = Math.max(into[s] ?? 0, q);
  return into;
}

/** Polls `check` until it holds (every 200 ms, at most `ms`). */
export async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(200);
  }
}
