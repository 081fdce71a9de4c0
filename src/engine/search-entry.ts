import type { Kernel } from '../compute/kernel.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import type { Plan, SearchOptions } from '../search/options.js';
import { withRecallTarget } from '../search/plan.js';
import type { Query } from '../search/query.js';
import { overIndex, type SearchSource } from '../search/sources.js';
import type { CollectionRecord } from '../store/collections.js';
import type { ItemStore } from '../store/items.js';
import type { EngineHooks } from './hooks.js';
import type { BoundRotations } from './rotations.js';
import type { RowCache } from './row-cache.js';
import { runSearch, type RunResult } from './search-run.js';

/** A collection as a search reads it: the engine's runtime, or a search worker's replica (src/engine/pool/). */
export type SearchedCollection = SearchSource & { readonly record: CollectionRecord };

/** What one collection's search reads: the stores and caches of the engine, and its planner. */
export interface SearchEntryDeps {
  items: ItemStore;
  kernel: Kernel;
  rows: RowCache;
  rotations: BoundRotations;
  hooks: EngineHooks;
  plan(rt: SearchedCollection, opts: SearchOptions, indexDim?: number): Plan;
}

/**
 * A search of one collection as `Engine.search` runs it: the plan (recall target resolved), the
 * query rotated into the collection's space, `using` in place of its index, and `observe` telling
 * `hooks.searched` (never for a swapped-in index).
 */
export async function searchCollection(
  deps: SearchEntryDeps,
  name: string,
  rt: SearchedCollection,
  query: Query,
  opts: SearchOptions,
  using: { index: PrefixIndex } | undefined,
  observe: boolean,
): Promise<RunResult> {
  const source = using ? overIndex(rt, using.index) : rt;
  const plan = (o: SearchOptions) => deps.plan(rt, withRecallTarget(rt.record, o, deps.hooks.recallResolver), using?.index.dim);
  // A stored item's vector is already in the collection's space; a raw one is rotated into it.
  const toStored = (v: Float32Array) => deps.rotations.toStored(rt.record, v);
  const observer = observe && !using ? deps.hooks.observer(name) : undefined;
  return runSearch(
    { items: deps.items, rows: deps.rows, kernel: deps.kernel, source, record: rt.record, plan, toStored, observe: observer },
    query,
    opts,
  );
}
