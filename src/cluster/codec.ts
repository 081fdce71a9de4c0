import type { ItemPatch, ItemWrite } from '../store/items.js';

/** One message of a shard's log: a batch of upserts, of deletes, or one patch (ids of that shard only). */
export type LogOp =
  | { op: 'upsert'; items: { id: string; v: string; label: string | null; payload: string | null; text: string | null }[] }
  | { op: 'delete'; ids: string[] }
  | { op: 'patch'; id: string; patch: ItemPatch };

/** The store's writes of one message. */
export interface LoggedWrites {
  upserts: ItemWrite[];
  deletes: string[];
  patches: { id: string; patch: ItemPatch }[];
}

/** Float32 little-endian bytes in base64: exact, and a third of the size of JSON numbers. */
export function vectorToB64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

export function vectorFromB64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export function encodeOp(op: LogOp): Uint8Array {
  return Buffer.from(JSON.stringify(op));
}

export function decodeOp(data: Uint8Array): LoggedWrites {
  const op = JSON.parse(Buffer.from(data).toString('utf8')) as LogOp;
  if (op.op === 'delete') return { upserts: [], deletes: op.ids, patches: [] };
  if (op.op === 'patch') return { upserts: [], deletes: [], patches: [{ id: op.id, patch: op.patch }] };
  const upserts = op.items.map((it) => ({
    id: it.id,
    vector: vectorFromB64(it.v),
    label: it.label,
    payload: it.payload,
    text: it.text ?? null,
  }));
  return { upserts, deletes: [], patches: [] };
}
