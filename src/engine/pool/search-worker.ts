/**
 * A search worker thread (started by search-pool.ts): its own read-only SQLite connection (WAL
 * lets it read while the main thread writes), the JS kernel, and per collection a Replica (the
 * shared matrix and the main thread's HNSW graph, its own row cache and pending rows). It runs the engine's query code
 * (searchCollection → runSearch) on messages taken in the order posted, so a search posted
 * after a write's message sees that write.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { JsKernel } from '../../compute/js-kernel.js';
import { withNativeRerank } from '../../compute/native-kernel.js';
import { ResidentMatrix } from '../../core/resident-matrix.js';
import { MrlError, toWire } from '../../errors.js';
import { planFor } from '../../search/plan.js';
import { closeDatabase, openDatabase } from '../../store/db.js';
import { ItemStore } from '../../store/items.js';
import { RotationStore } from '../../store/quality.js';
import { EngineHooks } from '../hooks.js';
import { BoundRotations } from '../rotations.js';
import { searchCollection, type SearchedCollection } from '../search-entry.js';
import type { FromWorker, Observed, ToWorker, WorkerInit } from './protocol.js';
import { Replica } from './replica.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const db = openDatabase(init.dbFile, { readonly: true });
const items = new ItemStore(db);
const rotationStore = new RotationStore(db);
let rotations = new BoundRotations(rotationStore);
const replicas = new Map<string, Replica>();
// onnxruntime-node refuses tensors over shared memory: the native reranks (or the JS kernel) read the shared matrix in place.
const kernel = withNativeRerank(new JsKernel());
const plan = (rt: SearchedCollection, opts: Parameters<typeof planFor>[2], indexDim?: number) =>
  planFor(rt.record, init.defaults, opts, indexDim);

function send(m: FromWorker): void {
  port.postMessage(m);
}

/** Collections whose replica could not be opened, with why. */
const failed = new Map<string, unknown>();

function replica(name: string): Replica {
  if (failed.has(name)) throw failed.get(name);
  const r = replicas.get(name);
  if (!r) throw new MrlError('COLLECTION_NOT_FOUND', { collection: name });
  return r;
}

async function search(m: Extract<ToWorker, { t: 'search' }>): Promise<void> {
  try {
    const rt = replica(m.name);
    let observed: Observed | undefined;
    const hooks = new EngineHooks();
    if (m.observe) hooks.searched.push((e) => (observed = { vector: e.vector, exclude: e.exclude, plan: e.plan }));
    const deps = { items, kernel, rows: rt.rows, rotations, hooks, plan };
    const result = await searchCollection(deps, m.name, rt, m.query, m.opts, undefined, m.observe);
    send({ t: 'result', id: m.id, result, observed });
  } catch (err) {
    send({ t: 'error', id: m.id, error: toWire(err) });
  }
}

async function close(): Promise<void> {
  for (const r of replicas.values()) r.close();
  replicas.clear();
  await kernel.close();
  closeDatabase(db);
  send({ t: 'closed' });
  port.close();
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'search':
      void search(m);
      break;
    case 'write':
      replicas.get(m.name)?.apply(m);
      break;
    case 'memory':
      send({ t: 'memory', id: m.id, memory: replicas.get(m.name)?.memory() ?? null });
      break;
    case 'open':
      replicas.get(m.record.name)?.close();
      replicas.delete(m.record.name);
      failed.delete(m.record.name);
      try {
        replicas.set(m.record.name, new Replica(m.record, ResidentMatrix.attach(m.matrix), items, m.index));
      } catch (err) {
        failed.set(m.record.name, err); // its searches get this error (a crash would only restart the same failure)
      }
      break;
    case 'record':
      replicas.get(m.record.name)?.update(m.record, m.index);
      break;
    case 'indexed':
      replicas.get(m.name)?.indexed(m.id, m.seqs);
      break;
    case 'drop':
      failed.delete(m.name);
      replicas.get(m.name)?.close();
      replicas.delete(m.name);
      break;
    case 'rotation':
      rotations = new BoundRotations(rotationStore); // a rotation was bound: forget the cached "none"
      break;
    case 'crash':
      process.exit(70); // ends this thread only; what it had queued is never answered
      break;
    case 'close':
      void close();
      break;
  }
});
