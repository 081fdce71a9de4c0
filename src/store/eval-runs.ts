import type { Db } from './db.js';

export type EvalKind = 'eval' | 'sweep';
const KEEP = 50;

/** Stored evaluation and sweep results per collection (the newest KEEP of each kind). */
export class EvalRunStore {
  constructor(private readonly db: Db) {}

  save(collectionId: number, kind: EvalKind, result: unknown): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO eval_runs (collection_id, kind, result, created_at) VALUES (?, ?, ?, ?)')
        .run(collectionId, kind, JSON.stringify(result), new Date().toISOString());
      this.db
        .prepare(
          `DELETE FROM eval_runs WHERE collection_id = ? AND kind = ? AND id NOT IN
        (SELECT id FROM eval_runs WHERE collection_id = ? AND kind = ? ORDER BY id DESC LIMIT ${KEEP})`,
        )
        .run(collectionId, kind, collectionId, kind);
    })();
  }

  /** The id of the newest result of a kind (cheap: lets readers cache the parsed result). */
  latestId(collectionId: number, kind: EvalKind): number | null {
    const r = this.db
      .prepare('SELECT id FROM eval_runs WHERE collection_id = ? AND kind = ? ORDER BY id DESC LIMIT 1')
      .pluck()
      .get(collectionId, kind) as number | undefined;
    return r ?? null;
  }

  latest<T>(collectionId: number, kind: EvalKind): T | null {
    const r = this.db
      .prepare('SELECT result FROM eval_runs WHERE collection_id = ? AND kind = ? ORDER BY id DESC LIMIT 1')
      .pluck()
      .get(collectionId, kind) as string | undefined;
    return r === undefined ? null : (JSON.parse(r) as T);
  }
}
