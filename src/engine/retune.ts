import { mrlError } from '../errors.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import type { SearchOptions } from '../search/options.js';
import type { CollectionRecord, CollectionStore, SearchDefaults } from '../store/collections.js';
import type { ItemStore } from '../store/items.js';
import type { CollectionRuntime } from './collection-runtime.js';
import { buildIndexFromRows } from './index-build.js';

/** What a retune reads and writes besides the collection's runtime. */
export interface RetuneDeps {
  collections: CollectionStore;
  items: ItemStore;
  snapshotDir: string;
  /** Plans a search (throws when the options do not plan). */
  plan(rt: CollectionRuntime, opts: SearchOptions, indexDim: number): unknown;
}

/**
 * Sets the collection's tuned search defaults and, when `indexDim` differs, rebuilds its index
 * at those dims. The rebuild runs in the collection's index queue (writes still commit and
 * reach the matrix, their rows wait as pending; searches use the old index until the swap,
 * which resyncs the new index with the matrix); `prebuilt` is used when no write reached the
 * matrix since it was built (its matrix version still matches).
 */
export async function retuneCollection(
  deps: RetuneDeps,
  name: string,
  rt: CollectionRuntime,
  indexDim: number,
  defaults: SearchDefaults,
  prebuilt?: { index: PrefixIndex; matrixVersion: number },
): Promise<CollectionRecord> {
  if (!Number.isInteger(indexDim) || indexDim < 1 || indexDim > rt.record.dim)
    throw mrlError('INVALID_COLLECTION', `indexDim must be an integer in 1..${rt.record.dim}`);
  deps.plan(
    rt,
    defaults.funnel ? { funnel: defaults.funnel } : { shortlist: defaults.shortlist, rerank: defaults.rerank, ef: defaults.ef },
    indexDim,
  ); // throws if they do not plan
  await rt.exclusive(async () => {
    let index = rt.index;
    if (indexDim !== rt.index.dim) {
      index =
        prebuilt && prebuilt.index.dim === indexDim && prebuilt.matrixVersion === rt.matrix.version
          ? prebuilt.index
          : await buildIndexFromRows(rt, deps.items, indexDim);
    }
    const rec = deps.collections.updateTuning(name, indexDim, defaults);
    rt.swap(rec, index, deps.items);
    rt.snapshot(deps.snapshotDir, true);
  });
  return rt.record;
}
