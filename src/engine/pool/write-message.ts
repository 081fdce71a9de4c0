import type { CollectionRecord } from '../../store/collections.js';
import type { ToldChange, ToldWrite } from '../../store/filter-cache.js';
import { valueAt } from '../../store/filter-columns.js';
import type { CommittedWrite } from '../item-ops.js';
import type { WriteMessage } from './protocol.js';

/**
 * An indexed field's value as it crosses to a worker: a string, a number, null or missing as
 * it is; anything else (a boolean, an array, an object) as `true`, which no column holds either,
 * so the field is marked unsupported alike without copying the value to every worker.
 */
function cell(v: unknown): unknown {
  return v === undefined || v === null || typeof v === 'number' || typeof v === 'string' ? v : true;
}

/** The message every worker gets for a write committed to `record`'s collection (main thread). */
export function writeMessage(record: CollectionRecord, w: CommittedWrite): WriteMessage {
  const dim = record.indexDim;
  const prefixes = new Float32Array(w.added.length * dim);
  w.added.forEach((a, i) => prefixes.set(a.vector.subarray(0, dim), i * dim));
  const fields = record.indexedFields;
  const paths = fields.map((f) => f.split('.'));
  const labels: (string | null)[] = [];
  const values: unknown[] = [];
  for (const r of [...w.added, ...w.patched]) {
    labels.push(r.label);
    for (const path of paths) values.push(cell(valueAt(r.payload, path)));
  }
  const seqs = w.added.map((a) => a.seq);
  return {
    t: 'write',
    name: record.name,
    dim,
    seqs,
    prefixes,
    removed: w.removed,
    patched: w.patched.map((p) => p.seq),
    fields,
    labels,
    values,
  };
}

/** What a worker's filter columns journal of a write message, in the order the store applied it: removals, additions, patches. */
export function toldWrite(m: WriteMessage): ToldWrite {
  const f = m.fields.length;
  const valuesOf = (i: number) => m.values.slice(i * f, (i + 1) * f);
  const changes: ToldChange[] = m.removed.map((seq) => ({ seq, removed: true }));
  m.seqs.forEach((seq, i) =>
    changes.push({ seq, added: true, label: m.labels[i], values: valuesOf(i), vector: m.prefixes.subarray(i * m.dim, (i + 1) * m.dim) }),
  );
  const n = m.seqs.length;
  m.patched.forEach((seq, j) => changes.push({ seq, label: m.labels[n + j], values: valuesOf(n + j) }));
  return { fields: m.fields, prefixDims: m.dim, changes };
}
