import type { CollectionRuntime } from './collection-runtime.js';
import { applyCommitted, type CommittedWrite, type ItemOpsDeps } from './item-ops.js';
import { toldWrite, writeMessage } from './pool/write-message.js';
import type { PreparedItem } from './prepare-items.js';

/**
 * One batch committed by another connection of this process (the ingest thread, src/ingest/),
 * as it is applied here: per added row its seq, id, label and payload (as stored) and its stored
 * vector (`vectors`: seqs.length × dim), and the seqs the batch replaced.
 */
export interface CommittedBatch {
  seqs: number[];
  ids: string[];
  labels: (string | null)[];
  payloads: (string | null)[];
  vectors: Float32Array;
  removed: number[];
}

/** What a writer on another connection calls, each within one turn of the event loop (Engine.batchHooks). */
export interface BatchHooks {
  /** Null when the next batch may be granted now, else a promise of when (the index has caught up enough). */
  room(): Promise<void> | null;
  /** A batch is ready to commit: null grants it (this thread's writes of the collection then wait until `applied` or `released`), else why not. */
  grant(): Error | null;
  /**
   * The batch granted last committed: apply it to the caches, at once or (a promise) in parts
   * between other work; the writer grants no next batch and acknowledges nothing before it is done.
   */
  applied(b: CommittedBatch): void | Promise<void>;
  /** The batch granted last will not be told (its writer failed or exited). */
  released(): void;
}

/**
 * Applies a batch committed on another connection: this connection's filter columns journal it
 * as a search worker's do, then it is applied as a batch committed here would be.
 */
export function applyBatch(deps: ItemOpsDeps, name: string, rt: CollectionRuntime, b: CommittedBatch): void {
  const dim = rt.record.dim;
  const written: PreparedItem[] = b.ids.map((id, i) => ({
    id,
    vector: b.vectors.subarray(i * dim, (i + 1) * dim),
    label: b.labels[i],
    payload: b.payloads[i],
    text: null,
  }));
  const added = b.seqs.map((seq, i) => ({ seq, vector: written[i].vector }));
  const parse = rt.record.indexedFields.length > 0;
  const payloadOf = (p: string | null): unknown => (parse && p !== null ? JSON.parse(p) : null);
  const told: CommittedWrite = {
    added: added.map((a, i) => ({
      ...a,
      label: b.labels[i],
      payload: payloadOf(b.payloads[i]),
    })),
    removed: b.removed,
    patched: [],
  };
  deps.items.noteExternalWrite(rt.record.id, toldWrite(writeMessage(rt.record, told)));
  applyCommitted(deps, name, rt, written, { added, removedSeqs: b.removed }, []);
}

/** Rows [from, to) of a batch that replaced no rows (`removed` empty). */
export function batchPart(b: CommittedBatch, dim: number, from: number, to: number): CommittedBatch {
  return {
    seqs: b.seqs.slice(from, to),
    ids: b.ids.slice(from, to),
    labels: b.labels.slice(from, to),
    payloads: b.payloads.slice(from, to),
    vectors: b.vectors.subarray(from * dim, to * dim),
    removed: [],
  };
}
