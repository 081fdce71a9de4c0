import { SeqSet } from '../../core/seq-set.js';
import type { FilterCache } from '../../store/filter-cache.js';
import type { ItemMatcher } from '../../store/item-match.js';
import type { FilterNode } from './ast.js';
import { evaluateFilter } from './evaluate.js';
import { compileFilter } from './sql.js';

/** What matching reads of the item store: the in-memory columns, SQLite for the rest, the write version. */
export interface FilterMatchStore {
  filters: Pick<FilterCache, 'columns'>;
  matcher: Pick<ItemMatcher, 'matching'>;
  writeVersion(collectionId: number): number;
}

/**
 * The items a filter matches: their seqs (`set`), and the rows of the same items in `prefix`
 * (`prefixDims` normalised floats a row, aligned with `set.seqs`), read in the same turn of
 * the event loop as the match was made (a write may move rows afterwards).
 */
export interface FilterMatch {
  set: SeqSet;
  rows: Int32Array;
  prefix: Float32Array;
  prefixDims: number;
}

/** Matches kept per collection (most recently used last); each is dropped at the collection's next write. */
const CACHED_MATCHES = 64;

/**
 * The live items of a collection that match a parsed filter: labels and indexed fields from
 * the in-memory columns (src/store/filter-columns.ts, brought up to date with every committed
 * write first), the parts they cannot answer from SQLite. A filter repeated before the next
 * write costs one Map lookup.
 */
export function matchFilter(
  store: FilterMatchStore,
  collection: { id: number; indexedFields: readonly string[]; indexDim: number },
  node: FilterNode,
): FilterMatch {
  const cols = store.filters.columns(collection.id, collection.indexedFields, collection.indexDim);
  const version = store.writeVersion(collection.id);
  const key = JSON.stringify(node);
  let hit = cols.matches.get(key);
  if (hit && hit.version === version) cols.matches.delete(key);
  else {
    const indexed = new Set(collection.indexedFields);
    const { seqs, rows } = evaluateFilter(node, cols, (part) =>
      store.matcher.matching(collection.id, compileFilter(part, indexed), version),
    );
    hit = { version, set: new SeqSet(seqs), rows };
    if (cols.matches.size >= CACHED_MATCHES) cols.matches.delete(cols.matches.keys().next().value as string);
  }
  cols.matches.set(key, hit);
  return { set: hit.set, rows: hit.rows, prefix: cols.prefix, prefixDims: cols.prefixDims };
}
