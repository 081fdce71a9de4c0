import type { Plan, SearchOptions } from '../search/options.js';
import type { SearchResult } from '../search/search.js';
import type { CollectionRecord } from '../store/collections.js';
import type { RunDeps } from './search-run.js';

/** A search as it ran, in the collection's own (rotated) space: what the quality audit re-runs. */
export interface SearchEvent {
  collection: string;
  vector: Float32Array;
  exclude?: number;
  plan: Plan;
  response: SearchResult;
}
/** Chooses search options for a recall target (src/quality/recall-target.ts); null: none fits. */
export type RecallResolver = (record: CollectionRecord, target: number) => SearchOptions | null;

/**
 * What other parts (the quality guard) attach to the engine: listeners told after each committed
 * upsert and each user's search (they run on those paths, so they only queue work), and the
 * resolver of recall targets.
 */
export class EngineHooks {
  readonly upserted: ((collection: string) => void)[] = [];
  readonly searched: ((e: SearchEvent) => void)[] = [];
  recallResolver?: RecallResolver;

  /** The `observe` callback of one search of `collection`; undefined when nothing listens. */
  observer(collection: string): RunDeps['observe'] {
    if (this.searched.length === 0) return undefined;
    return (vector, exclude, plan, response) => {
      for (const f of this.searched) f({ collection, vector, exclude, plan, response });
    };
  }
}
