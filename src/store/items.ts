import { endianness } from 'node:os';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import { MrlError } from '../errors.js';
import { FilterCache } from './filter-cache.js';
import { ItemMatcher } from './item-match.js';
import { ItemText } from './item-text.js';

/** HNSW labels are 32-bit: hnswlib-node silently truncates anything larger. */
export const MAX_SEQ = 2 ** 32 - 1;

if (endianness() !== 'LE') throw new Error('mrl-server stores little-endian float32 and runs on little-endian hosts only');

export interface ItemWrite {
  id: string;
  vector: Float32Array;
  label: string | null;
  payload: string | null;
  text?: string | null;
}
/** A metadata update: fields left out keep their value (`payload` and `text` are already validated). */
export interface ItemPatch {
  label?: string | null;
  payload?: string | null;
  text?: string | null;
}
export interface StoredItem {
  seq: number;
  id: string;
  label: string | null;
  payload: unknown;
}
export interface WriteResult {
  added: { seq: number; vector: Float32Array }[];
  removedSeqs: number[];
}

export function toBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function fromBlob(b: Buffer): Float32Array {
  // Copy: the Buffer may not be 4-byte aligned.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

type ItemRow = { seq: number; id: string; label: string | null; payload: string | null };

/** A stored row with its payload JSON parsed. */
function toStored(r: ItemRow): StoredItem {
  return { seq: r.seq, id: r.id, label: r.label, payload: r.payload === null ? null : JSON.parse(r.payload) };
}

/** Parameters per `IN (…)` lookup: SQLite allows 32766; the statement cache stays small. */
const MAX_IN = 100;

export class ItemStore {
  private readonly findSeq: Statement;
  private readonly del: Statement;
  private readonly ins: Statement;
  private readonly bySeq: Statement;
  private readonly byId: Statement;
  private readonly vecBySeq: Statement;
  private readonly countStmt: Statement;
  private readonly pageStmt: Statement;
  private readonly seqsStmt: Statement;
  private readonly setLabel: Statement;
  private readonly setPayload: Statement;
  private readonly appliedSeq: Statement;
  private readonly markApplied: Statement;
  private readonly labelsStmt: Statement;
  private readonly refsStmt: Statement;
  /** `WHERE seq IN (?, …)` statements by their number of parameters. */
  private readonly bySeqs = new Map<number, Statement>();
  private readonly vecsBySeqs = new Map<number, Statement>();
  /** Keyword index (FTS5), written in the same transactions as the rows. */
  readonly text: ItemText;
  /** Seqs matching a filter, cached until the collection's next write. */
  readonly matcher: ItemMatcher;
  /** Labels and indexed fields in memory (filters without SQLite), told of every committed write. */
  readonly filters: FilterCache;
  /** Per collection: bumped by every write (invalidates cached filter matches). */
  private readonly versions = new Map<number, number>();

  constructor(private readonly db: Db) {
    this.text = new ItemText(db);
    this.matcher = new ItemMatcher(db);
    this.filters = new FilterCache(db);
    this.findSeq = db.prepare('SELECT seq FROM items WHERE collection_id = ? AND id = ?');
    this.del = db.prepare('DELETE FROM items WHERE seq = ?');
    this.ins = db.prepare('INSERT INTO items (collection_id, id, label, payload, vector) VALUES (?, ?, ?, ?, ?)');
    this.bySeq = db.prepare('SELECT seq, id, label, payload FROM items WHERE seq = ?');
    this.byId = db.prepare('SELECT seq, id, label, payload, vector FROM items WHERE collection_id = ? AND id = ?');
    this.vecBySeq = db.prepare('SELECT vector FROM items WHERE seq = ?').pluck();
    this.countStmt = db.prepare('SELECT count(*) FROM items WHERE collection_id = ?').pluck();
    this.seqsStmt = db.prepare('SELECT seq FROM items WHERE collection_id = ?').pluck();
    this.setLabel = db.prepare('UPDATE items SET label = ? WHERE seq = ?');
    this.setPayload = db.prepare('UPDATE items SET payload = ? WHERE seq = ?');
    this.appliedSeq = db.prepare('SELECT seq FROM cluster_applied WHERE collection = ? AND shard = ?').pluck();
    this.markApplied = db.prepare(
      'INSERT INTO cluster_applied (collection, shard, seq) VALUES (?, ?, ?) ON CONFLICT (collection, shard) DO UPDATE SET seq = excluded.seq',
    );
    this.pageStmt = db.prepare('SELECT seq, vector FROM items WHERE collection_id = ? AND seq > ? ORDER BY seq LIMIT ?').raw();
    this.labelsStmt = db.prepare('SELECT seq, label FROM items WHERE collection_id = ?').raw();
    this.refsStmt = db.prepare('SELECT seq, id, label FROM items WHERE collection_id = ? ORDER BY seq').raw();
  }

  /**
   * Upserts a batch in ONE transaction: all rows or none. A replaced id gets a new seq (labels
   * are never reused), so the caller removes `removedSeqs` from its caches and adds `added`.
   */
  upsert(collectionId: number, items: ItemWrite[]): WriteResult {
    this.bump(collectionId);
    return this.filters.write((): WriteResult => {
      const added: WriteResult['added'] = [];
      const removedSeqs: number[] = [];
      for (const it of items) {
        const old = this.findSeq.get(collectionId, it.id) as { seq: number } | undefined;
        if (old) {
          this.del.run(old.seq);
          removedSeqs.push(old.seq);
        }
        const seq = Number(this.ins.run(collectionId, it.id, it.label, it.payload, toBlob(it.vector)).lastInsertRowid);
        if (seq > MAX_SEQ) throw new MrlError('LABEL_SPACE_EXHAUSTED');
        if (old) this.text.remove(old.seq);
        this.text.write(collectionId, seq, it.text);
        added.push({ seq, vector: it.vector });
        if (old) this.filters.stage(collectionId, { seq: old.seq, removed: true });
        this.filters.stage(collectionId, { seq, added: true, label: it.label, payload: it.payload, vector: it.vector });
      }
      return { added, removedSeqs };
    });
  }

  /** Deletes ids in one transaction; returns the seqs removed and the ids that were not there. */
  delete(collectionId: number, ids: string[]): { removedSeqs: number[]; missing: string[] } {
    this.bump(collectionId);
    return this.filters.write(() => {
      const removedSeqs: number[] = [];
      const missing: string[] = [];
      for (const id of ids) {
        const old = this.findSeq.get(collectionId, id) as { seq: number } | undefined;
        if (!old) missing.push(id);
        else {
          this.del.run(old.seq);
          this.text.remove(old.seq);
          removedSeqs.push(old.seq);
          this.filters.stage(collectionId, { seq: old.seq, removed: true });
        }
      }
      return { removedSeqs, missing };
    });
  }

  /**
   * Changes an item's label, payload and/or text in one transaction (the row keeps its seq and
   * vector, so no cache changes); false when the id is not there.
   */
  patch(collectionId: number, id: string, p: ItemPatch): boolean {
    this.bump(collectionId);
    return this.filters.write(() => {
      const old = this.findSeq.get(collectionId, id) as { seq: number } | undefined;
      if (!old) return false;
      this.filters.stage(collectionId, { seq: old.seq, label: p.label, payload: p.payload });
      if (p.label !== undefined) this.setLabel.run(p.label, old.seq);
      if (p.payload !== undefined) this.setPayload.run(p.payload, old.seq);
      if (p.text !== undefined) {
        this.text.remove(old.seq);
        this.text.write(collectionId, old.seq, p.text);
      }
      return true;
    });
  }

  /** Bumped before every write of the collection (cached filter matches are then stale). */
  writeVersion(collectionId: number): number {
    return this.versions.get(collectionId) ?? 0;
  }

  /** Another connection wrote the collection (a search worker's store): cached matches and filter columns are stale, read again. */
  noteExternalWrite(collectionId: number): void {
    this.bump(collectionId);
    this.filters.drop(collectionId);
  }

  private bump(collectionId: number): void {
    this.versions.set(collectionId, this.writeVersion(collectionId) + 1);
  }

  /**
   * Cluster mode: applies one log message (deletes, upserts, patches) and records `pos.seq` as the
   * shard's applied sequence, in ONE transaction. Null, changing nothing, when that sequence was
   * already applied (a redelivery after a crash between commit and acknowledgement).
   */
  applyLogged(
    collectionId: number,
    pos: { collection: string; shard: number; seq: number },
    upserts: ItemWrite[],
    deleteIds: string[],
    patches: { id: string; patch: ItemPatch }[] = [],
  ): (WriteResult & { patchedSeqs: number[] }) | null {
    return this.filters.write((): (WriteResult & { patchedSeqs: number[] }) | null => {
      const done = this.appliedSeq.get(pos.collection, pos.shard) as number | undefined;
      if (done !== undefined && done >= pos.seq) return null;
      const del = deleteIds.length ? this.delete(collectionId, deleteIds) : { removedSeqs: [] };
      const up = upserts.length ? this.upsert(collectionId, upserts) : { added: [], removedSeqs: [] };
      const patchedSeqs: number[] = [];
      for (const p of patches) {
        const row = this.findSeq.get(collectionId, p.id) as { seq: number } | undefined;
        if (row && this.patch(collectionId, p.id, p.patch)) patchedSeqs.push(row.seq); // an id deleted meanwhile: nothing to patch
      }
      this.markApplied.run(pos.collection, pos.shard, pos.seq);
      return { added: up.added, removedSeqs: [...del.removedSeqs, ...up.removedSeqs], patchedSeqs };
    });
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

  /** Vectors by seq in few queries (reranks beyond the resident width); missing seqs are absent. */
  vectorsBySeqs(seqs: number[]): Map<number, Float32Array> {
    const out = new Map<number, Float32Array>();
    for (let i = 0; i < seqs.length; i += MAX_IN) {
      const part = seqs.slice(i, i + MAX_IN);
      const stmt = this.inStatement(this.vecsBySeqs, part.length, (marks) =>
        this.db.prepare(`SELECT seq, vector FROM items WHERE seq IN (${marks})`).raw(),
      );
      for (const [seq, b] of stmt.all(...part) as [number, Buffer][]) out.set(seq, fromBlob(b));
    }
    return out;
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
