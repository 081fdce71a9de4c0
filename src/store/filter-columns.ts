import { MISSING, NULL, NUM, STR } from '../core/field-kind.js';
import type { SeqSet } from '../core/seq-set.js';

/**
 * One field over a collection's rows: its kind per row and its value (the number, or the code
 * of the string in `strings`). Codes are never reused; a string no row holds any more keeps its
 * code (the dictionary only grows until the next rebuild).
 */
export class Column {
  kind: Uint8Array;
  val: Float64Array;
  readonly strings: string[] = [];
  private readonly codes = new Map<string, number>();
  /** Characters of the dictionary's strings (for `bytes`). */
  private chars = 0;

  constructor(capacity: number) {
    this.kind = new Uint8Array(capacity);
    this.val = new Float64Array(capacity);
  }

  /** Sets row `r` to `v`; false when `v` is not a value a column holds (a boolean, an array, an object, an unsafe integer). */
  set(r: number, v: unknown): boolean {
    if (v === undefined || v === null) {
      this.kind[r] = v === null ? NULL : MISSING;
      return true;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) return false;
      this.kind[r] = NUM;
      this.val[r] = v;
      return true;
    }
    if (typeof v !== 'string') return false;
    let code = this.codes.get(v);
    if (code === undefined) {
      code = this.strings.length;
      this.strings.push(v);
      this.codes.set(v, code);
      this.chars += v.length;
    }
    this.kind[r] = STR;
    this.val[r] = code;
    return true;
  }

  /** The code of string `s`, if some row ever held it. */
  codeOf(s: string): number | undefined {
    return this.codes.get(s);
  }

  /** Estimated bytes: the two arrays, and each dictionary string twice (array and map) at 2 bytes a character plus ~40 of entry. */
  get bytes(): number {
    return this.kind.byteLength + this.val.byteLength + 2 * (2 * this.chars + 40 * this.strings.length);
  }

  resize(capacity: number, n: number): void {
    const kind = new Uint8Array(capacity);
    kind.set(this.kind.subarray(0, n));
    const val = new Float64Array(capacity);
    val.set(this.val.subarray(0, n));
    this.kind = kind;
    this.val = val;
  }

  move(from: number, to: number): void {
    this.kind[to] = this.kind[from];
    this.val[to] = this.val[from];
  }
}

/** The value at a dotted path of a parsed payload (undefined when any part is missing). */
export function valueAt(payload: unknown, path: readonly string[]): unknown {
  let v = payload;
  for (const part of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** A filter's match over the columns: its seqs, and the rows they are at (valid until the columns next change). */
export interface ColumnMatch {
  version: number;
  set: SeqSet;
  rows: Int32Array;
}

/**
 * A collection's labels and indexed payload fields held in memory as columns over its rows, so
 * a filter on them is answered without SQLite (src/search/filter/evaluate.ts), and each row's
 * L2-normalised prefix at the index's dims (`prefix`, `prefixDims` floats a row), so an exact
 * first stage over the matching rows reads one compact array instead of rows of the resident
 * matrix spread over memory (src/search/filter/filtered-scan.ts). Rows are kept in
 * seq order (seqs only grow, so a new row is appended); a removed row is marked dead and dropped
 * at the next compaction. A field some row holds a value of another kind in is `unsupported`:
 * filters on it go to SQLite. Plain typed arrays and Maps, kept by src/store/filter-cache.ts.
 */
export class FilterColumns {
  seqs: Uint32Array;
  live: Uint8Array;
  /** Rows used (live and dead); rows [0, n) are in ascending seq order. */
  n = 0;
  dead = 0;
  readonly label: Column;
  readonly fields = new Map<string, Column>();
  readonly unsupported = new Set<string>();
  prefix: Float32Array;
  /** Matches computed over these columns, by filter, with the write version they were computed at. */
  readonly matches = new Map<string, ColumnMatch>();
  private readonly paths: { name: string; path: string[] }[];

  constructor(
    readonly indexedFields: readonly string[],
    readonly prefixDims: number,
    capacity = 1024,
  ) {
    this.seqs = new Uint32Array(capacity);
    this.prefix = new Float32Array(capacity * prefixDims);
    this.live = new Uint8Array(capacity);
    this.label = new Column(capacity);
    this.paths = indexedFields.map((name) => ({ name, path: name.split('.') }));
    for (const f of indexedFields) this.fields.set(f, new Column(capacity));
  }

  get size(): number {
    return this.n - this.dead;
  }

  /** Estimated bytes held: rows (seqs, liveness, prefixes), the columns and the cached matches. */
  get bytes(): number {
    let b = this.seqs.byteLength + this.live.byteLength + this.prefix.byteLength;
    for (const c of this.columns()) b += c.bytes;
    for (const m of this.matches.values()) b += m.set.bytes + m.rows.byteLength;
    return b;
  }

  /** The row of `seq`, or -1 (binary search: rows are in seq order). */
  rowOf(seq: number): number {
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.seqs[mid];
      if (s === seq) return this.live[mid] === 1 ? mid : -1;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Whether `seq` is at or below the last row's: a row the columns hold, or held and removed. */
  covers(seq: number): boolean {
    return this.n > 0 && seq <= this.seqs[this.n - 1];
  }

  /** The indexed fields' values in `payload` (parsed; null: every field missing), in `indexedFields` order. */
  valuesOf(payload: unknown): unknown[] {
    return this.paths.map(({ path }) => valueAt(payload, path));
  }

  /**
   * Adds a row with a seq above every row's (`values`: of the indexed fields, as `valuesOf`
   * gives them; `vector`: at least its first prefixDims values); false when it is not above (the
   * caller rebuilds).
   */
  append(seq: number, label: string | null, values: readonly unknown[], vector: ArrayLike<number>): boolean {
    if (this.covers(seq)) return false;
    if (this.n === this.seqs.length) this.resize(Math.max(1024, this.seqs.length * 2));
    const r = this.n++;
    this.seqs[r] = seq;
    this.live[r] = 1;
    this.setLabel(r, label);
    this.setValues(r, values);
    this.setPrefix(r, vector);
    return true;
  }

  private setPrefix(r: number, v: ArrayLike<number>): void {
    const d = this.prefixDims;
    let norm = 0;
    for (let j = 0; j < d; j++) norm += v[j] * v[j];
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < d; j++) this.prefix[r * d + j] = v[j] * inv;
  }

  /** Changes a live row's label and/or indexed-field values (left undefined: kept); false when `seq` is not a live row. */
  update(seq: number, label: string | null | undefined, values: readonly unknown[] | undefined): boolean {
    const r = this.rowOf(seq);
    if (r < 0) return false;
    if (label !== undefined) this.setLabel(r, label);
    if (values !== undefined) this.setValues(r, values);
    return true;
  }

  remove(seq: number): void {
    const r = this.rowOf(seq);
    if (r < 0) return;
    this.live[r] = 0;
    this.dead++;
    if (this.dead > 1024 && this.dead * 4 > this.n) this.compact();
  }

  private setLabel(r: number, label: string | null): void {
    this.label.set(r, label);
  }

  private setValues(r: number, values: readonly unknown[]): void {
    this.paths.forEach(({ name }, i) => {
      const col = this.fields.get(name) as Column;
      if (!col.set(r, values[i])) {
        this.unsupported.add(name);
        col.kind[r] = MISSING;
      }
    });
  }

  private columns(): Column[] {
    return [this.label, ...this.fields.values()];
  }

  private resize(capacity: number): void {
    const seqs = new Uint32Array(capacity);
    seqs.set(this.seqs.subarray(0, this.n));
    const live = new Uint8Array(capacity);
    live.set(this.live.subarray(0, this.n));
    const prefix = new Float32Array(capacity * this.prefixDims);
    prefix.set(this.prefix.subarray(0, this.n * this.prefixDims));
    this.seqs = seqs;
    this.live = live;
    this.prefix = prefix;
    for (const c of this.columns()) c.resize(capacity, this.n);
  }

  /**
   * Drops dead rows (rows keep their order) into new arrays: a match made before keeps reading
   * the prefixes its rows point at.
   */
  private compact(): void {
    const d = this.prefixDims;
    const prefix = new Float32Array(this.prefix.length);
    const cols = this.columns();
    for (const c of cols) c.resize(c.kind.length, this.n);
    let w = 0;
    for (let r = 0; r < this.n; r++) {
      if (this.live[r] !== 1) continue;
      this.seqs[w] = this.seqs[r];
      this.live[w] = 1;
      for (const c of cols) c.move(r, w);
      prefix.set(this.prefix.subarray(r * d, (r + 1) * d), w * d);
      w++;
    }
    this.prefix = prefix;
    this.n = w;
    this.dead = 0;
  }
}
