import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { RunnerRequest, RunnerReply } from './runner.js';

/**
 * The encoders' onnxruntime sessions live in this worker thread: onnxruntime-node 1.30's
 * session.run() computes on the calling thread (after a setImmediate hop), so running it here
 * keeps the HTTP thread free while a batch is embedded.
 */
const sessions = new Map<string, ort.InferenceSession>();
/** The runs in progress on each session. */
const inUse = new Map<string, Set<Promise<ort.InferenceSession.ReturnType>>>();
const port = parentPort!;

async function handle(msg: RunnerRequest): Promise<RunnerReply> {
  switch (msg.type) {
    case 'load': {
      const session = await ort.InferenceSession.create(msg.file, {
        executionProviders: ['cpu'],
        intraOpNumThreads: msg.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        // Spinning workers would steal the cores the HTTP thread and the search kernel need.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      sessions.set(msg.key, session);
      return { id: msg.id };
    }
    case 'run': {
      const session = sessions.get(msg.key);
      if (!session) throw new Error(`no ONNX session '${msg.key}'`);
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, f] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(f.type, f.data, f.dims);
      const running = session.run(feeds);
      let runs = inUse.get(msg.key);
      if (!runs) inUse.set(msg.key, (runs = new Set()));
      runs.add(running);
      const out = await running.finally(() => runs.delete(running));
      const t = out[msg.output];
      const data = t.data as Float32Array;
      return { id: msg.id, data, dims: [...t.dims] };
    }
    case 'release': {
      // After the runs already started on it: releasing under one fails it ("Session already disposed").
      const session = sessions.get(msg.key);
      sessions.delete(msg.key);
      const runs = inUse.get(msg.key);
      inUse.delete(msg.key);
      if (runs) await Promise.allSettled([...runs]);
      await session?.release();
      return { id: msg.id };
    }
  }
}

port.on('message', (msg: RunnerRequest) => {
  handle(msg).then(
    (reply) => port.postMessage(reply, reply.data ? [reply.data.buffer as ArrayBuffer] : []),
    (err: unknown) => port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) } satisfies RunnerReply),
  );
});
