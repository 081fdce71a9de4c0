import { validateId } from '../core/validate.js';
import { MrlError } from '../errors.js';
import type { ItemStore, WriteResult } from '../store/items.js';
import type { CollectionRuntime } from './collection-runtime.js';
import type { EngineHooks } from './hooks.js';
import { preparePatch, type ItemPatchInput, type PreparedItem } from './prepare-items.js';
import type { BoundRotations } from './rotations.js';
import type { RowCache } from './row-cache.js';

/** What item reads and writes of one collection touch: the store, the collection's row cache, rotations and listeners. */
export interface ItemOpsDeps {
  items: ItemStore;
  rows: RowCache;
  rotations: BoundRotations;
  hooks: EngineHooks;
  /** Told of each write once the caches hold it (the search pool's workers). */
  committed?: (w: CommittedWrite) => void;
}
export type ItemRow = { seq: number; vector: Float32Array };
/** A row's metadata as the filter columns read it: its label and its payload (parsed). */
type RowMeta = { label: string | null; payload: unknown };

/** A committed write: rows added, seqs removed, rows patched in place (their label and payload now). */
export interface CommittedWrite {
  added: (ItemRow & RowMeta)[];
  removed: number[];
  patched: ({ seq: number } & RowMeta)[];
}

/** Tells `committed` of a write (patched rows are read back: the store holds what the patch made of them). */
function tell(deps: ItemOpsDeps, added: CommittedWrite['added'], removed: number[], patchedSeqs: number[]): void {
  if (!deps.committed) return;
  const patched = patchedSeqs.length === 0 ? [] : [...deps.items.getBySeqs(patchedSeqs).values()];
  deps.committed({ added, removed, patched: patched.map((r) => ({ seq: r.seq, label: r.label, payload: r.payload })) });
}

/** After the store committed `written` (as `res`; `changed`: rows patched in place): the row cache, then index and matrix, then listeners. */
export function applyCommitted(
  deps: ItemOpsDeps,
  name: string,
  rt: CollectionRuntime,
  written: PreparedItem[],
  res: WriteResult,
  changed: number[],
): void {
  deps.rows.forget([...res.removedSeqs, ...changed]);
  const rows = deps.rows.written(
    res.added.map((a, i) => ({ seq: a.seq, id: written[i].id, label: written[i].label, payload: written[i].payload })),
  );
  rt.apply(res.added, res.removedSeqs);
  if (deps.committed)
    tell(
      deps,
      res.added.map((a, i) => ({ ...a, label: rows[i].label, payload: rows[i].payload })),
      res.removedSeqs,
      changed,
    );
  if (written.length) for (const f of deps.hooks.upserted) f(name);
}

/** Deletes ids in one transaction, then forgets their rows in the cache, the index and the matrix. */
export function deleteItems(deps: ItemOpsDeps, rt: CollectionRuntime, ids: unknown[]): { deleted: number; missing: string[] } {
  const valid = ids.map((id, i) => validateId(id, `ids[${i}]`));
  const res = deps.items.delete(rt.record.id, valid);
  deps.rows.forget(res.removedSeqs);
  rt.apply([], res.removedSeqs);
  tell(deps, [], res.removedSeqs, []);
  return { deleted: res.removedSeqs.length, missing: res.missing };
}

/** A stored item with its text and its vector as it was given (unrotated). */
export function getItem(deps: ItemOpsDeps, name: string, rt: CollectionRuntime, id: unknown) {
  const item = deps.items.getById(rt.record.id, validateId(id));
  if (!item) throw new MrlError('ITEM_NOT_FOUND', { id: String(id), collection: name });
  return {
    id: item.id,
    label: item.label,
    payload: item.payload,
    text: deps.items.text.textOf(item.seq),
    vector: Array.from(deps.rotations.toRaw(rt.record, item.vector)),
  };
}

/**
 * Changes an item's label, payload and/or text in one transaction: no re-embedding and no
 * index change (the row keeps its seq and vector); keyword text and field indexes follow.
 */
export function patchItem(deps: ItemOpsDeps, name: string, rt: CollectionRuntime, id: unknown, patch: ItemPatchInput) {
  const { key, p } = preparePatch(rt.record, id, patch);
  const seq = deps.items.getById(rt.record.id, key)?.seq;
  if (!deps.items.patch(rt.record.id, key, p)) throw new MrlError('ITEM_NOT_FOUND', { id: key, collection: name });
  if (seq !== undefined) deps.rows.forget([seq]); // the row changed under its seq
  if (seq !== undefined) tell(deps, [], [], [seq]);
  return getItem(deps, name, rt, key);
}
