import type { Db } from './db.js';

/** A compiled filter: a WHERE over `items` (src/search/filter/sql.ts). */
export interface WhereClause {
  where: string;
  params: (string | number)[];
}

const CACHE_ENTRIES = 64;

/**
 * Seqs of a collection's items that match a compiled filter, in seq order. Results are cached
 * per (collection, filter) until the collection's next write (`version`), so a filter repeated
 * between writes costs one Map lookup.
 */
export class ItemMatcher {
  private readonly cache = new Map<string, { version: number; seqs: Uint32Array }>();

  constructor(private readonly db: Db) {}

  matching(collectionId: number, f: WhereClause, version: number): Uint32Array {
    const key = `${collectionId}\u0000${f.where}\u0000${JSON.stringify(f.params)}`;
    const hit = this.cache.get(key);
    if (hit && hit.version === version) {
      this.cache.delete(key);
      this.cache.set(key, hit); // most recently used last
      return hit.seqs;
    }
    // Sorted here, not by SQLite: an indexed field's rows come back in index order.
    const rows = this.db
      .prepare(`SELECT seq FROM items WHERE collection_id = ? AND (${f.where})`)
      .pluck()
      .all(collectionId, ...f.params) as number[];
    const seqs = Uint32Array.from(rows).sort();
    this.cache.set(key, { version, seqs });
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    return seqs;
  }
}
