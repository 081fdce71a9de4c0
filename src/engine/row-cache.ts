import type { ResultRow, RowsBySeq } from '../search/sources.js';

/** Bytes (estimated) a collection's cache keeps; the oldest cached rows go first. */
export const ROW_CACHE_BYTES = 64 * 2 ** 20;

/**
 * Result rows (id, label, payload) by seq, kept in memory when written and after their first
 * read, so a search's hits need no SQLite query (a random read of the items table costs
 * several µs a row: its pages hold the vectors too). An upsert gives the id a new seq, so
 * what must reach the cache is removal and a patch of metadata in place: the engine calls
 * `forget` with those seqs right after each such commit, before anything else runs. Payloads are shared
 * between replies (they are only serialised). Bounded by estimated bytes, oldest first out.
 */
export class RowCache implements RowsBySeq {
  private readonly rows = new Map<number, { row: ResultRow; bytes: number }>();
  private total = 0;

  constructor(
    private readonly store: RowsBySeq,
    private readonly maxBytes = ROW_CACHE_BYTES,
  ) {}

  /** Rows just committed (payload as its JSON text, as written); returns them as cached (payload parsed). */
  written(rows: { seq: number; id: string; label: string | null; payload: string | null }[]): ResultRow[] {
    return rows.map((r) => {
      const row: ResultRow = { id: r.id, label: r.label, payload: r.payload === null ? null : (JSON.parse(r.payload) as unknown) };
      this.remember(r.seq, row, r.payload?.length ?? 0);
      return row;
    });
  }

  getBySeqs(seqs: number[]): Map<number, ResultRow> {
    const out = new Map<number, ResultRow>();
    let missing: number[] | null = null;
    for (const seq of seqs) {
      const hit = this.rows.get(seq);
      if (hit) out.set(seq, hit.row);
      else (missing ??= []).push(seq);
    }
    if (missing) {
      for (const [seq, row] of this.store.getBySeqs(missing)) {
        out.set(seq, row);
        this.remember(seq, row);
      }
    }
    return out;
  }

  getBySeq(seq: number): ResultRow | undefined {
    const hit = this.rows.get(seq);
    if (hit) return hit.row;
    const row = this.store.getBySeq(seq);
    if (row) this.remember(seq, row);
    return row;
  }

  forget(seqs: Iterable<number>): void {
    for (const seq of seqs) {
      const hit = this.rows.get(seq);
      if (hit) {
        this.total -= hit.bytes;
        this.rows.delete(seq);
      }
    }
  }

  /** Estimated bytes held: strings at 2 bytes a character, the payload as its JSON (about: jsonChars), ~100 per entry. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.rows.size;
  }

  private remember(seq: number, row: ResultRow, payloadChars?: number): void {
    if (this.rows.has(seq)) return;
    const json = payloadChars ?? (row.payload == null ? 0 : jsonChars(row.payload));
    const bytes = 100 + 2 * (row.id.length + (row.label?.length ?? 0) + json);
    while (this.total + bytes > this.maxBytes && this.rows.size > 0) this.forget([this.rows.keys().next().value as number]);
    this.rows.set(seq, { row: { id: row.id, label: row.label, payload: row.payload }, bytes });
    this.total += bytes;
  }
}

/**
 * About the length of `v`'s JSON without building it (several times cheaper than JSON.stringify
 * on a miss): strings by length (escapes not counted), other scalars at 8, keys and punctuation.
 */
export function jsonChars(v: unknown): number {
  if (typeof v === 'string') return v.length + 2;
  if (v === null || typeof v !== 'object') return 8;
  let n = 2;
  if (Array.isArray(v)) for (const x of v) n += jsonChars(x) + 1;
  else for (const k of Object.keys(v)) n += k.length + 4 + jsonChars((v as Record<string, unknown>)[k]);
  return n;
}
