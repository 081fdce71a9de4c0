import type { Engine } from '../engine/engine.js';
import type { CollectionRecord, SearchDefaults } from '../store/collections.js';

/**
 * What of a collection may change after its creation and must be the same on every node: the
 * index dims and search defaults (a sweep's `apply`), and the indexed payload fields (PATCH).
 * It lives in the collection's metadata entry (KV bucket mrl_collections).
 */
export interface Tuning {
  indexDim: number;
  searchDefaults: SearchDefaults;
  indexedFields: string[];
}

export const tuningOf = (r: Pick<CollectionRecord, 'indexDim' | 'searchDefaults' | 'indexedFields'>): Tuning => ({
  indexDim: r.indexDim,
  searchDefaults: r.searchDefaults,
  indexedFields: r.indexedFields,
});

/** JSON with sorted object keys: two tunings are the same when these are. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export const sameTuning = (a: Tuning | undefined, b: Tuning | undefined): boolean => stable(a) === stable(b);

/** Makes the local collection's tuning `t`: indexed fields first, then a retune (the index is rebuilt when its dims change). */
export async function applyTuning(engine: Engine, name: string, t: Tuning): Promise<boolean> {
  const now = tuningOf(engine.runtime(name).record);
  if (sameTuning(now, t)) return false;
  if (stable(now.indexedFields) !== stable(t.indexedFields)) engine.setIndexedFields(name, t.indexedFields);
  if (now.indexDim !== t.indexDim || stable(now.searchDefaults) !== stable(t.searchDefaults))
    await engine.retune(name, t.indexDim, t.searchDefaults);
  return true;
}
