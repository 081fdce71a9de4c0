import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../../module-worker.js';

/** A feed as it crosses to the worker: typed array plus shape. */
export interface Feed {
  type: 'float32' | 'int32';
  data: Float32Array | Int32Array;
  dims: number[];
}

export type RunnerRequest =
  | { id: number; type: 'load'; key: string; file: string; threads: number }
  | { id: number; type: 'run'; key: string; feeds: Record<string, Feed>; output: string }
  | { id: number; type: 'release'; key: string };
export type RunnerReply = { id: number; error?: string; data?: Float32Array; dims?: number[] };

/** The longest close() waits for the worker to finish what it was asked and release its sessions. */
const CLOSE_WAIT_MS = 10_000;

/**
 * The main thread's handle on the onnxruntime worker (./worker.ts): sessions are loaded there
 * by file, runs are messages (feeds transferred, not copied). One worker per registry; a crash
 * of the worker rejects what was pending and the next call starts a new one.
 */
export class OnnxRunner {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(r: RunnerReply): void; reject(e: Error): void }>();
  private readonly loaded = new Map<string, { file: string; threads: number }>();
  /** Sessions the current worker holds (a restarted worker holds none). */
  private readonly live = new Set<string>();
  /** Calls not answered yet (close waits for them). */
  private readonly inFlight = new Set<Promise<RunnerReply>>();

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = moduleWorker(import.meta.url, 'worker');
    this.live.clear();
    w.unref();
    w.on('message', (reply: RunnerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.error !== undefined) p.reject(new Error(reply.error));
      else p.resolve(reply);
    });
    const fail = (err: Error) => {
      if (this.worker !== w) return;
      this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`onnxruntime worker exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  private call(msg: RunnerRequest, transfer: ArrayBuffer[] = []): Promise<RunnerReply> {
    const w = this.start();
    const p = new Promise<RunnerReply>((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      w.postMessage(msg, transfer);
    });
    this.inFlight.add(p);
    const done = () => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  async load(key: string, file: string, threads: number): Promise<void> {
    await this.call({ id: this.nextId++, type: 'load', key, file, threads });
    this.loaded.set(key, { file, threads });
    this.live.add(key);
  }

  /** Runs session `key`; returns output `output` as float32 with its shape. The feeds' buffers are transferred. */
  async run(key: string, feeds: Record<string, Feed>, output: string): Promise<{ data: Float32Array; dims: number[] }> {
    const spec = this.loaded.get(key);
    if (!spec) throw new Error(`ONNX session '${key}' is not loaded`);
    if (!this.worker || !this.live.has(key)) await this.load(key, spec.file, spec.threads);
    const transfer = Object.values(feeds).map((f) => f.data.buffer as ArrayBuffer);
    const reply = await this.call({ id: this.nextId++, type: 'run', key, feeds, output }, transfer);
    return { data: reply.data!, dims: reply.dims! };
  }

  async release(key: string): Promise<void> {
    this.loaded.delete(key);
    if (!this.live.delete(key) || !this.worker) return;
    await this.call({ id: this.nextId++, type: 'release', key });
  }

  /**
   * Ends the worker (its sessions with it) once the calls in flight are answered and its sessions
   * released, waiting at most CLOSE_WAIT_MS: ending it while onnxruntime creates or releases a
   * session aborts the whole process (a Napi::Error thrown on a thread being torn down).
   */
  async close(): Promise<void> {
    const w = this.worker;
    if (w) {
      const drain = async () => {
        while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
        const keys = this.worker === w ? [...this.live] : []; // a worker that died holds nothing
        this.live.clear();
        await Promise.allSettled(keys.map((key) => this.call({ id: this.nextId++, type: 'release', key })));
      };
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drain(), new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
    }
    this.worker = null;
    this.loaded.clear();
    if (w) await w.terminate();
    for (const p of this.pending.values()) p.reject(new Error('onnxruntime worker closed'));
    this.pending.clear();
  }
}
