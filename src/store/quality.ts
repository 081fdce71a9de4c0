import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import { fromBlob, toBlob } from './vector-blob.js';

/** The latest quality report per collection (src/quality/), as JSON. */
export class QualityReportStore {
  private readonly saveStmt: Statement;
  private readonly latestStmt: Statement;
  constructor(db: Db) {
    this.saveStmt = db.prepare('INSERT OR REPLACE INTO quality_reports (collection_id, report, items, created_at) VALUES (?, ?, ?, ?)');
    this.latestStmt = db.prepare('SELECT report FROM quality_reports WHERE collection_id = ?').pluck();
  }

  save(collectionId: number, items: number, report: unknown): void {
    this.saveStmt.run(collectionId, JSON.stringify(report), items, new Date().toISOString());
  }

  latest<T>(collectionId: number): T | null {
    const r = this.latestStmt.get(collectionId) as string | undefined;
    return r === undefined ? null : (JSON.parse(r) as T);
  }
}

export interface StoredRotation {
  method: string;
  dim: number;
  matrix: Float32Array;
  source: string | null;
  /** What the source looked like before (the quality guard's summary), for the new collection's report. */
  before?: unknown;
}

/** Orthogonal rotations bound to collections: vectors enter them as v·R. */
export class RotationStore {
  private readonly saveStmt: Statement;
  private readonly getStmt: Statement;
  constructor(db: Db) {
    this.saveStmt = db.prepare(
      'INSERT OR REPLACE INTO collection_rotations (collection_id, method, dim, matrix, source, before, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.getStmt = db.prepare('SELECT method, dim, matrix, source, before FROM collection_rotations WHERE collection_id = ?');
  }

  save(collectionId: number, r: StoredRotation): void {
    this.saveStmt.run(
      collectionId,
      r.method,
      r.dim,
      toBlob(r.matrix),
      r.source,
      r.before === undefined ? null : JSON.stringify(r.before),
      new Date().toISOString(),
    );
  }

  get(collectionId: number): StoredRotation | null {
    const row = this.getStmt.get(collectionId) as
      { method: string; dim: number; matrix: Buffer; source: string | null; before: string | null } | undefined;
    return row
      ? {
          method: row.method,
          dim: row.dim,
          matrix: fromBlob(row.matrix),
          source: row.source,
          before: row.before === null ? undefined : JSON.parse(row.before),
        }
      : null;
  }
}
