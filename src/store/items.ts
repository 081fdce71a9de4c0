import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import { MrlError } from '../errors.js';
import { FilterCache, type ToldWrite } from './filter-cache.js';
import { ItemMatcher } from './item-match.js';
import { ItemReads } from './item-reads.js';
import { ItemText } from './item-text.js';
import { toBlob } from './vector-blob.js';

/** HNSW labels are 32-bit: hnswlib-node silently truncates anything larger. */
export const MAX_SEQ = 2 ** 32 - 1;

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
export interface WriteResult {
  added: { seq: number; vector: Float32Array }[];
  removedSeqs: number[];
}

/** Writes of the items table (upserts, deletes, patches, the cluster log), each in one transaction with its keyword index and filter columns; reads are inherited. */
export class ItemStore extends ItemReads {
  private readonly findSeq: Statement;
  private readonly del: Statement;
  private readonly ins: Statement;
  private readonly setLabel: Statement;
  private readonly setPayload: Statement;
  private readonly appliedSeq: Statement;
  private readonly markApplied: Statement;
  /** Keyword index (FTS5), written in the same transactions as the rows. */
  readonly text: ItemText;
  /** Seqs matching a filter, cached until the collection's next write. */
  readonly matcher: ItemMatcher;
  /** Labels and indexed fields in memory (filters without SQLite), told of every committed write. */
  readonly filters: FilterCache;
  /** Per collection: bumped by every write (invalidates cached filter matches). */
  private readonly versions = new Map<number, number>();

  constructor(db: Db) {
    super(db);
    this.text = new ItemText(db);
    this.matcher = new ItemMatcher(db);
    this.filters = new FilterCache(db);
    this.findSeq = db.prepare('SELECT seq FROM items WHERE collection_id = ? AND id = ?');
    this.del = db.prepare('DELETE FROM items WHERE seq = ?');
    this.ins = db.prepare('INSERT INTO items (collection_id, id, label, payload, vector) VALUES (?, ?, ?, ?, ?)');
    this.setLabel = db.prepare('UPDATE items SET label = ? WHERE seq = ?');
    this.setPayload = db.prepare('UPDATE items SET payload = ? WHERE seq = ?');
    this.appliedSeq = db.prepare('SELECT seq FROM cluster_applied WHERE collection = ? AND shard = ?').pluck();
    this.markApplied = db.prepare(
      'INSERT INTO cluster_applied (collection, shard, seq) VALUES (?, ?, ?) ON CONFLICT (collection, shard) DO UPDATE SET seq = excluded.seq',
    );
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

  /** Another connection wrote the collection (told to a search worker's store): cached matches are stale; the filter columns journal `told` (none: read again). */
  noteExternalWrite(collectionId: number, told?: ToldWrite): void {
    this.bump(collectionId);
    this.filters.written(collectionId, told);
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
}
