import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import { mrlError } from '../errors.js';

/** A keyword hit: the item's seq and its BM25 score (higher is better). */
export interface TextHit {
  seq: number;
  score: number;
}

/**
 * The FTS5 side of the items (table `item_text`, rowid = seq): written inside the item
 * store's transactions, so an acknowledged item is searchable by keyword at once and a crash
 * keeps both or neither.
 */
export class ItemText {
  private readonly ins: Statement;
  private readonly del: Statement;
  private readonly get: Statement;
  private readonly searches = new Map<string, Statement>();

  constructor(private readonly db: Db) {
    this.ins = db.prepare('INSERT INTO item_text (rowid, text, collection_id) VALUES (?, ?, ?)');
    this.del = db.prepare('DELETE FROM item_text WHERE rowid = ?');
    this.get = db.prepare('SELECT text FROM item_text WHERE rowid = ?').pluck();
  }

  /** Indexes `text` for `seq` (no row for null). Call inside the item's transaction. */
  write(collectionId: number, seq: number, text: string | null | undefined): void {
    if (text !== null && text !== undefined && text !== '') this.ins.run(seq, text, collectionId);
  }

  /** Removes the text of `seq`, if any. Call inside the item's transaction. */
  remove(seq: number): void {
    this.del.run(seq);
  }

  textOf(seq: number): string | null {
    return (this.get.get(seq) as string | undefined) ?? null;
  }

  removeCollection(collectionId: number): void {
    this.db.prepare('DELETE FROM item_text WHERE collection_id = ?').run(collectionId);
  }

  /**
   * The best `limit` items for an FTS5 MATCH expression by BM25, optionally restricted by a
   * compiled filter over `items`. A malformed expression is INVALID_QUERY (never a 500).
   */
  search(collectionId: number, match: string, limit: number, filter?: { where: string; params: (string | number)[] }): TextHit[] {
    const where = filter ? ` AND (${filter.where})` : '';
    let stmt = this.searches.get(where);
    if (!stmt) {
      stmt = this.db
        .prepare(
          `SELECT item_text.rowid, -bm25(item_text) AS score FROM item_text JOIN items ON items.seq = item_text.rowid
        WHERE item_text MATCH ? AND items.collection_id = ?${where} ORDER BY bm25(item_text) LIMIT ?`,
        )
        .raw();
      if (this.searches.size > 64) this.searches.clear();
      this.searches.set(where, stmt);
    }
    try {
      const rows = stmt.all(match, collectionId, ...(filter?.params ?? []), limit) as [number, number][];
      return rows.map(([seq, score]) => ({ seq, score }));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'SQLITE_ERROR' && /fts5|syntax|unterminated|no such column/i.test((err as Error).message)) {
        throw mrlError('INVALID_QUERY', `keyword query '${match}' is not valid FTS5 syntax: ${(err as Error).message}`);
      }
      throw err;
    }
  }
}
