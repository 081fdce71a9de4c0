import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

export type EvalKind = 'eval' | 'sweep';
const KEEP = 50;

/**
 * Stored evaluation and sweep results per collection (the newest KEEP of each kind). `kept`
 * serves the newest of a kind parsed once (every search to a recall target reads the latest
 * sweep) until this store saves another for that collection, or the collection goes (`forget`);
 * `latest` reads SQLite each time (it sees rows written by another process).
 */
export class EvalRunStore {
  private readonly insertStmt: Statement;
  private readonly pruneStmt: Statement;
  private readonly latestIdStmt: Statement;
  private readonly latestStmt: Statement;
  private readonly newest = new Map<number, Map<EvalKind, unknown>>();

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO eval_runs (collection_id, kind, result, created_at) VALUES (?, ?, ?, ?)');
    this.pruneStmt = db.prepare(
      `DELETE FROM eval_runs WHERE collection_id = ? AND kind = ? AND id NOT IN
        (SELECT id FROM eval_runs WHERE collection_id = ? AND kind = ? ORDER BY id DESC LIMIT ${KEEP})`,
    );
    this.latestIdStmt = db.prepare('SELECT id FROM eval_runs WHERE collection_id = ? AND kind = ? ORDER BY id DESC LIMIT 1').pluck();
    this.latestStmt = db.prepare('SELECT result FROM eval_runs WHERE collection_id = ? AND kind = ? ORDER BY id DESC LIMIT 1').pluck();
  }

  save(collectionId: number, kind: EvalKind, result: unknown): void {
    this.db.transaction(() => {
      this.insertStmt.run(collectionId, kind, JSON.stringify(result), new Date().toISOString());
      this.pruneStmt.run(collectionId, kind, collectionId, kind);
    })();
    this.newest.get(collectionId)?.delete(kind);
  }

  /** The id of the newest result of a kind. */
  latestId(collectionId: number, kind: EvalKind): number | null {
    return (this.latestIdStmt.get(collectionId, kind) as number | undefined) ?? null;
  }

  /** The newest result of a kind (null when there is none). */
  latest<T>(collectionId: number, kind: EvalKind): T | null {
    const r = this.latestStmt.get(collectionId, kind) as string | undefined;
    return r === undefined ? null : (JSON.parse(r) as T);
  }

  /** `latest`, read from SQLite once and then kept (the same object each time: read it, never change it). */
  kept<T>(collectionId: number, kind: EvalKind): T | null {
    let kinds = this.newest.get(collectionId);
    if (!kinds) this.newest.set(collectionId, (kinds = new Map<EvalKind, unknown>()));
    if (!kinds.has(kind)) kinds.set(kind, this.latest(collectionId, kind));
    return kinds.get(kind) as T | null;
  }

  /** Drops what is kept of a collection (it was dropped: its runs went with it). */
  forget(collectionId: number): void {
    this.newest.delete(collectionId);
  }
}
