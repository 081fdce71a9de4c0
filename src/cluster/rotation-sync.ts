import { createHash } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import { mrlError } from '../errors.js';
import type { StoredRotation } from '../store/quality.js';
import { retry, type Nats } from './nats.js';

/**
 * A rotation bound by `adapt`, as a collection's metadata names it: the D×D matrix itself is an
 * object (object store mrl_rotations, name = the collection's uid; 2.4 MB at D = 768, more than
 * a KV value or a log message may hold), checked by its SHA-256 when a node fetches it.
 */
export interface RotationRef {
  object: string;
  sha256: string;
  method: string;
  dim: number;
  source: string | null;
  before?: unknown;
}

const bytesOf = (m: Float32Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Stores the matrix before the collection's metadata names it (so every node that sees the collection can fetch it). */
export async function storeRotation(n: Nats, uid: string, r: StoredRotation, timeoutMs: number): Promise<RotationRef> {
  const data = bytesOf(r.matrix);
  await retry(() => n.rotations.putBlob({ name: uid }, data), 'cannot store the rotation', 10, timeoutMs);
  return {
    object: uid,
    sha256: sha(data),
    method: r.method,
    dim: r.dim,
    source: r.source,
    ...(r.before === undefined ? {} : { before: r.before }),
  };
}

/**
 * Binds the named rotation to the local collection, which holds no item yet: the catalog does
 * it before it starts the collection's appliers and before this node takes writes for it. A
 * collection already bound (a restart, a peer's backup) keeps its rotation when it is the same.
 */
export async function bindSharedRotation(n: Nats, engine: Engine, name: string, ref: RotationRef): Promise<void> {
  const rec = engine.runtime(name).record;
  const bound = engine.rotation(rec);
  if (bound) {
    if (sha(bytesOf(bound)) !== ref.sha256)
      throw mrlError('CLUSTER_UNAVAILABLE', `collection ${name} is bound to another rotation than the cluster's`);
    return;
  }
  const data = await retry(() => n.rotations.getBlob(ref.object), `cannot read the rotation of ${name}`);
  if (!data || sha(data) !== ref.sha256) throw mrlError('CLUSTER_UNAVAILABLE', `the rotation of ${name} is missing or damaged`);
  const matrix = new Float32Array(data.byteLength / 4);
  new Uint8Array(matrix.buffer).set(data);
  engine.bindRotation(name, { method: ref.method, dim: ref.dim, matrix, source: ref.source, before: ref.before });
}

export async function deleteRotation(n: Nats, ref: RotationRef): Promise<void> {
  await n.rotations.delete(ref.object).catch(() => undefined);
}
