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
  collection: { id: number; indexedFields: readonly string[] },
  node: FilterNode,
): SeqSet {
  const cols = store.filters.columns(collection.id, collection.indexedFields);
  const version = store.writeVersion(collection.id);
  const key = JSON.stringify(node);
  const hit = cols.matches.get(key);
  if (hit && hit.version === version) {
    cols.matches.delete(key);
    cols.matches.set(key, hit);
    return hit.set;
  }
  const indexed = new Set(collection.indexedFields);
  const seqs = evaluateFilter(node, cols, (part) => store.matcher.matching(collection.id, compileFilter(part, indexed), version));
  const set = new SeqSet(seqs);
  cols.matches.set(key, { version, set });
  if (cols.matches.size > CACHED_MATCHES) cols.matches.delete(cols.matches.keys().next().value as string);
  return set;
}
