import { mrlError } from '../errors.js';
import type { Db } from './db.js';

/** A payload path as written in `indexedFields` (`year`, `meta.lang`): parts of letters, digits, `_`, `-`. */
export const FIELD_PATH = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$/;

function indexName(collectionId: number, field: string): string {
  return `items_f${collectionId}_${field.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16)}_`)}`;
}

/**
 * Expression indexes on `json_extract(payload, '$.<field>')` for one collection's indexed
 * fields: creates the missing ones and drops those no longer listed. Paths are checked against
 * FIELD_PATH by the caller (they are written into the SQL as literals).
 */
export function syncFieldIndexes(db: Db, collectionId: number, fields: string[]): void {
  const want = new Map(fields.map((f) => [indexName(collectionId, f), f]));
  const have = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items'").pluck().all() as string[];
  for (const name of have) if (name.startsWith(`items_f${collectionId}_`) && !want.has(name)) db.exec(`DROP INDEX "${name}"`);
  for (const [name, field] of want) {
    if (!FIELD_PATH.test(field)) throw new Error(`bad field path ${field}`);
    db.exec(`CREATE INDEX IF NOT EXISTS "${name}" ON items (collection_id, json_extract(payload, '$.${field}'))`);
  }
}

/** Refuses to index a field that some stored item holds as a boolean, an array or an object. */
export function checkStoredIndexable(db: Db, collectionId: number, fields: readonly string[]): void {
  for (const f of fields) {
    const bad = db
      .prepare(
        `SELECT id FROM items WHERE collection_id = ? AND json_type(payload, '$.${f}') NOT IN ('integer', 'real', 'text', 'null') LIMIT 1`,
      )
      .pluck()
      .get(collectionId) as string | undefined;
    if (bad !== undefined)
      throw mrlError(
        'INVALID_COLLECTION',
        `payload.${f} cannot be indexed: item '${bad}' holds a boolean, an array or an object there (indexed fields hold numbers, strings or null)`,
      );
  }
}
