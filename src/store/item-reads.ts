import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import { fromBlob } from './vector-blob.js';
import { VectorReads } from './vector-reads.js';

export interface StoredItem {
  seq: number;
  id: string;
  label: string | null;
  payload: unknown;
}

type ItemRow = { seq: number; id: string; label: string | null; payload: string | null };

/** A stored row with its payload JSON parsed. */
function toStored(r: ItemRow): StoredItem {
  return { seq: r.seq, id: r.id, label: r.label, payload: r.payload === null ? null : JSON.parse(r.payload) };
}

/** Parameters per `IN (…)` lookup: SQLite allows 32766; the statement cache stays small. */
const MAX_IN = 100;

/** The read side of the items table: rows and vectors by seq or id, scans and pages for cache rebuilds, labels for evaluation. */
export class ItemReads {
  private readonly bySeq: Statement;
  private readonly byId: Statement;
  private readonly vecBySeq: Statement;
  private readonly countStmt: Statement;
  private readonly pageStmt: Statement;
  private readonly seqsStmt: Statement;
  private readonly labelsStmt: Statement;
  private readonly refsStmt: Statement;
  /** `WHERE seq IN (?, …)` statements by their number of parameters. */
  private readonly bySeqs = new Map<number, Statement>();
  private readonly vectorReads: VectorReads;

  constructor(private readonly db: Db) {
    this.bySeq = db.prepare('SELECT seq, id, label, payload FROM items WHERE seq = ?');
    this.byId = db.prepare('SELECT seq, id, label, payload, vector FROM items WHERE collection_id = ? AND id = ?');
    this.vecBySeq = db.prepare('SELECT vector FROM items WHERE seq = ?').pluck();
    this.countStmt = db.prepare('SELECT count(*) FROM items WHERE collection_id = ?').pluck();
    this.seqsStmt = db.prepare('SELECT seq FROM items WHERE collection_id = ?').pluck();
    this.pageStmt = db.prepare('SELECT seq, vector FROM items WHERE collection_id = ? AND seq > ? ORDER BY seq LIMIT ?').raw();
    this.labelsStmt = db.prepare('SELECT seq, label FROM items WHERE collection_id = ?').raw();
    this.refsStmt = db.prepare('SELECT seq, id, label FROM items WHERE collection_id = ? ORDER BY seq').raw();
    this.vectorReads = new VectorReads(db);
  }

  getById(collectionId: number, id: string): (StoredItem & { vector: Float32Array }) | undefined {
    const r = this.byId.get(collectionId, id) as (ItemRow & { vector: Buffer }) | undefined;
    return r && { ...toStored(r), vector: fromBlob(r.vector) };
  }

  /** The cached statement for an `IN` list of n placeholders, prepared on first use. */
  private inStatement(cache: Map<number, Statement>, n: number, prepare: (marks: string) => Statement): Statement {
    let stmt = cache.get(n);
    if (!stmt) cache.set(n, (stmt = prepare(Array.from({ length: n }, () => '?').join(','))));
    return stmt;
  }

  /** Items by seq in one query (a search's results); seqs not found are missing from the map. */
  getBySeqs(seqs: number[]): Map<number, StoredItem> {
    const out = new Map<number, StoredItem>();
    for (let i = 0; i < seqs.length; i += MAX_IN) {
      const part = seqs.slice(i, i + MAX_IN);
      const stmt = this.inStatement(this.bySeqs, part.length, (marks) =>
        this.db.prepare(`SELECT seq, id, label, payload FROM items WHERE seq IN (${marks})`),
      );
      for (const r of stmt.all(...part) as ItemRow[]) out.set(r.seq, toStored(r));
    }
    return out;
  }

  getBySeq(seq: number): StoredItem | undefined {
    const r = this.bySeq.get(seq) as ItemRow | undefined;
    return r && toStored(r);
  }

  /** Vectors by seq in one query (reranks beyond the resident width, refines); missing seqs are absent. */
  vectorsBySeqs(seqs: number[]): Map<number, Float32Array> {
    return this.vectorReads.bySeqs(seqs);
  }

  vectorBySeq(seq: number): Float32Array | undefined {
    const b = this.vecBySeq.get(seq) as Buffer | undefined;
    return b ? fromBlob(b) : undefined;
  }

  count(collectionId: number): number {
    return this.countStmt.get(collectionId) as number;
  }

  /** Streams (seq, vector) of a collection in seq order: the source for every cache rebuild (two may be open: one statement each). */
  *scan(collectionId: number): IterableIterator<{ seq: number; vector: Float32Array }> {
    const it = this.db.prepare('SELECT seq, vector FROM items WHERE collection_id = ? ORDER BY seq').raw().iterate(collectionId);
    for (const row of it as IterableIterator<[number, Buffer]>) yield { seq: row[0], vector: fromBlob(row[1]) };
  }

  /** One page of (seq, vector) after `afterSeq`, in seq order: lets a long load yield between pages. */
  page(collectionId: number, afterSeq: number, limit: number): { seq: number; vector: Float32Array }[] {
    const rows = this.pageStmt.all(collectionId, afterSeq, limit) as [number, Buffer][];
    return rows.map(([seq, b]) => ({ seq, vector: fromBlob(b) }));
  }

  /** The seqs of a collection's rows (from the (collection, id) index alone: no row is read). */
  seqs(collectionId: number): number[] {
    return this.seqsStmt.all(collectionId) as number[];
  }

  /** Label strings by seq, for evaluation. */
  labels(collectionId: number): Map<number, string | null> {
    const m = new Map<number, string | null>();
    for (const [seq, label] of this.labelsStmt.iterate(collectionId) as IterableIterator<[number, string | null]>) m.set(seq, label);
    return m;
  }

  /** (seq, id, label) of every item in seq order, for choosing evaluation queries. */
  refs(collectionId: number): { seq: number; id: string; label: string | null }[] {
    const rows = this.refsStmt.all(collectionId) as [number, string, string | null][];
    return rows.map(([seq, id, label]) => ({ seq, id, label }));
  }

  /** The highest seq ever issued (AUTOINCREMENT's counter), 0 if none. */
  highestIssuedSeq(): number {
    const r = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'items'").pluck().get() as number | undefined;
    return r ?? 0;
  }
}
