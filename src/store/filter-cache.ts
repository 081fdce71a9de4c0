import type { Db } from './db.js';
import { FilterColumns } from './filter-columns.js';

/**
 * A committed change to a collection's rows: a row removed, a row added (its label and payload
 * JSON), or a row patched (the parts given; undefined: unchanged).
 */
export type RowChange =
  | { seq: number; removed: true }
  | { seq: number; added: true; label: string | null; payload: string | null; vector: Float32Array }
  | { seq: number; label?: string | null; payload?: string | null };

/**
 * A change committed through another connection, as the thread that made it tells it (the search
 * pool's main thread, src/engine/pool/): a row removed, added or patched, with its label and the
 * values of the indexed fields (`values`, in the order of ToldWrite.fields) already read from its
 * payload. It may be one the columns were built with already (they were read from SQLite after
 * it committed, before it was told).
 */
export type ToldChange =
  | { seq: number; removed: true }
  | { seq: number; added: true; label: string | null; values: readonly unknown[]; vector: Float32Array }
  | { seq: number; label: string | null; values: readonly unknown[] };

/** One committed write told by another connection's thread: its changes in commit order, over `fields` with prefixes of `prefixDims` values. */
export interface ToldWrite {
  fields: readonly string[];
  prefixDims: number;
  changes: ToldChange[];
}

type Change = RowChange | ToldChange;

/** Changes held for a collection before its columns are rebuilt instead (a long ingest with no filtered search). */
const MAX_JOURNAL = 50_000;

interface Entry {
  columns: FilterColumns;
  /** Changes committed since the columns were last brought up to date; null: too many, rebuild. */
  journal: Change[] | null;
}

const parse = (payload: string | null): unknown => (payload === null ? null : JSON.parse(payload));

/**
 * The in-memory filter columns of each collection that has been searched with a filter
 * (filter-columns.ts). Built from SQLite on first use; then every committed write of the item
 * store is journalled here (only once the outermost transaction committed, so a rolled-back
 * write never shows), as is every write another connection's thread tells of (`written`), and
 * applied before the next use, so a filter never sees a stale row.
 */
export class FilterCache {
  private readonly entries = new Map<number, Entry>();
  /** Changes of the write transaction now running (and of those nested in it), journalled when it commits. */
  private staged: { collectionId: number; change: RowChange }[] = [];
  /** Times each collection's columns were built from SQLite. */
  private readonly builds = new Map<number, number>();

  constructor(private readonly db: Db) {}

  /**
   * Runs `fn` as an immediate transaction (a savepoint inside another): what it staged is
   * journalled once the outermost transaction commits, and dropped when its part rolls back.
   */
  write<T>(fn: () => T): T {
    const outer = !this.db.inTransaction;
    const mark = this.staged.length;
    try {
      const result = this.db.transaction(fn).immediate();
      if (outer) this.publish();
      return result;
    } catch (err) {
      this.staged.length = mark;
      throw err;
    }
  }

  /** A change of the running write transaction (kept only for collections with columns; of a vector, only its prefix). */
  stage(collectionId: number, change: RowChange): void {
    const e = this.entries.get(collectionId);
    if (!e) return;
    if ('added' in change) change = { ...change, vector: change.vector.slice(0, e.columns.prefixDims) };
    this.staged.push({ collectionId, change });
  }

  private publish(): void {
    const staged = this.staged;
    this.staged = [];
    for (const { collectionId, change } of staged) this.keep(this.entries.get(collectionId), change);
  }

  private keep(e: Entry | undefined, change: Change): void {
    if (!e?.journal) return;
    if (e.journal.length >= MAX_JOURNAL) e.journal = null;
    else e.journal.push(change);
  }

  /**
   * A write another connection committed (`told`: what its thread says of it): journalled like
   * this store's own writes; without it, or when it is over other indexed fields or shorter
   * prefixes than the columns keep, the columns are dropped (built again at their next use).
   */
  written(collectionId: number, told?: ToldWrite): void {
    const e = this.entries.get(collectionId);
    if (!e) return;
    const cols = e.columns;
    if (!told || told.prefixDims < cols.prefixDims || !sameFields(cols.indexedFields, told.fields)) return this.drop(collectionId);
    for (const c of told.changes) this.keep(e, 'vector' in c ? { ...c, vector: c.vector.slice(0, cols.prefixDims) } : c);
  }

  /** Forgets a collection's columns (it was dropped). */
  drop(collectionId: number): void {
    this.entries.delete(collectionId);
  }

  /** What a collection's columns hold now (0 bytes when not built), and how many times they were built from SQLite. */
  stats(collectionId: number): { bytes: number; builds: number } {
    return { bytes: this.entries.get(collectionId)?.columns.bytes ?? 0, builds: this.builds.get(collectionId) ?? 0 };
  }

  /** The collection's columns over `indexedFields` (prefixes at `prefixDims`), up to date with every committed write. */
  columns(collectionId: number, indexedFields: readonly string[], prefixDims: number): FilterColumns {
    if (this.staged.length > 0 && !this.db.inTransaction) {
      // Staged by a write inside a transaction this store did not open: whether it committed is
      // unknown here, so the collections it touched are read again.
      for (const s of this.staged) this.entries.delete(s.collectionId);
      this.staged = [];
    }
    let e = this.entries.get(collectionId);
    const same = e !== undefined && e.columns.prefixDims === prefixDims && sameFields(e.columns.indexedFields, indexedFields);
    if (e && same && e.journal && (e.journal.length === 0 || this.apply(e.columns, e.journal))) {
      e.journal.length = 0;
      return e.columns;
    }
    e = { columns: this.build(collectionId, indexedFields, prefixDims), journal: [] };
    this.entries.set(collectionId, e);
    return e.columns;
  }

  /**
   * Applies journalled changes in order; false when one of this store's own does not fit the
   * columns (rebuild). A told change the columns were built with already is passed over: an
   * added seq at or below their last row's (seqs grow in commit order), a patch of a row they
   * no longer hold (removed since, by a change also read).
   */
  private apply(cols: FilterColumns, journal: Change[]): boolean {
    cols.matches.clear();
    for (const c of journal) {
      if ('removed' in c) cols.remove(c.seq);
      else if ('values' in c) {
        if ('added' in c) {
          if (!cols.covers(c.seq)) cols.append(c.seq, c.label, c.values, c.vector);
        } else cols.update(c.seq, c.label, c.values);
      } else if ('added' in c) {
        if (!cols.append(c.seq, c.label, cols.valuesOf(parse(c.payload)), c.vector)) return false;
      } else if (!cols.update(c.seq, c.label, c.payload === undefined ? undefined : cols.valuesOf(parse(c.payload)))) return false;
    }
    return true;
  }

  /** Reads every row of the collection, in seq order (a scan of the table over the collection's seq range). */
  private build(collectionId: number, indexedFields: readonly string[], prefixDims: number): FilterColumns {
    const range = this.db
      .prepare('SELECT min(seq) AS lo, max(seq) AS hi, count(*) AS n FROM items WHERE collection_id = ?')
      .get(collectionId) as {
      lo: number | null;
      hi: number | null;
      n: number;
    };
    this.builds.set(collectionId, (this.builds.get(collectionId) ?? 0) + 1);
    const cols = new FilterColumns([...indexedFields], prefixDims, Math.max(1024, range.n));
    if (range.lo === null || range.hi === null) return cols;
    // `+collection_id`: no index on it, so SQLite walks the table in seq order between the bounds.
    const rows = this.db
      .prepare('SELECT seq, label, payload, substr(vector, 1, ?) FROM items WHERE seq BETWEEN ? AND ? AND +collection_id = ? ORDER BY seq')
      .raw()
      .iterate(4 * prefixDims, range.lo, range.hi, collectionId) as IterableIterator<[number, string | null, string | null, Buffer]>;
    const v = new Float32Array(prefixDims);
    for (const [seq, label, payload, head] of rows) {
      for (let j = 0; j < prefixDims; j++) v[j] = head.readFloatLE(4 * j);
      cols.append(seq, label, cols.valuesOf(parse(payload)), v);
    }
    return cols;
  }
}

function sameFields(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}
