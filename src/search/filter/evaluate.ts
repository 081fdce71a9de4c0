import { MISSING, NULL, NUM, STR } from '../../core/field-kind.js';
import type { Column, FilterColumns } from '../../store/filter-columns.js';
import type { CompareOp, FilterField, FilterNode, Scalar } from './ast.js';
import { compareCodePoints } from './code-points.js';

/** Seqs (ascending) matching a part of a filter the columns cannot answer: SQLite's answer. */
export type SqlPart = (node: FilterNode) => Uint32Array;

/**
 * The seqs (ascending) of live rows that match `node`, and their rows, from the in-memory columns: labels and
 * indexed payload fields, combined with `and`, `or`, `not` as masks over the rows. The largest
 * parts that touch no column (ids, fields that are not indexed) come from `sql`. The semantics
 * are those of src/search/filter/sql.ts over an indexed field: values compare only with values
 * of the same type, strings in code-point order (SQLite's BINARY collation on UTF-8), a missing
 * field or a null matches no comparison, and negations match what their positive form does not.
 */
export function evaluateFilter(node: FilterNode, cols: FilterColumns, sql: SqlPart): { seqs: Uint32Array; rows: Int32Array } {
  const m = mask(node, cols, sql);
  let n = 0;
  for (let r = 0; r < cols.n; r++) if (m[r] === 1 && cols.live[r] === 1) n++;
  const rows = new Int32Array(n);
  const seqs = new Uint32Array(n);
  for (let r = 0, i = 0; i < n; r++) {
    if (m[r] === 1 && cols.live[r] === 1) {
      rows[i] = r;
      seqs[i++] = cols.seqs[r];
    }
  }
  return { seqs, rows };
}

/** The column a field reads, or undefined when the columns do not hold it. */
function columnOf(f: FilterField, cols: FilterColumns): Column | undefined {
  if (f.kind === 'label') return cols.label;
  if (f.kind !== 'payload') return undefined;
  const name = f.path.join('.');
  return cols.unsupported.has(name) ? undefined : cols.fields.get(name);
}

/** True when some leaf of `n` reads a column. */
function readsColumns(n: FilterNode, cols: FilterColumns): boolean {
  switch (n.op) {
    case 'and':
    case 'or':
      return n.terms.length === 0 || n.terms.some((t) => readsColumns(t, cols));
    case 'not':
      return readsColumns(n.term, cols);
    default:
      return columnOf(n.field, cols) !== undefined;
  }
}

function mask(n: FilterNode, cols: FilterColumns, sql: SqlPart): Uint8Array {
  if (!readsColumns(n, cols)) return sqlMask(sql(n), cols);
  switch (n.op) {
    case 'and': {
      const out = new Uint8Array(cols.n).fill(1);
      for (const t of n.terms) {
        const m = mask(t, cols, sql);
        for (let r = 0; r < cols.n; r++) out[r] &= m[r];
      }
      return out;
    }
    case 'or': {
      const out = new Uint8Array(cols.n);
      for (const t of n.terms) {
        const m = mask(t, cols, sql);
        for (let r = 0; r < cols.n; r++) out[r] |= m[r];
      }
      return out;
    }
    case 'not':
      return invert(mask(n.term, cols, sql));
    case 'exists': {
      const col = columnOf(n.field, cols) as Column;
      const absent = n.field.kind === 'label' ? NULL : MISSING; // a label is null or a string, never missing
      return rowsWhere(cols, (r) => (col.kind[r] !== absent) === n.exists);
    }
    case 'in': {
      const m = anyOf(columnOf(n.field, cols) as Column, n.field, n.values, cols);
      return n.negate ? invert(m) : m;
    }
    case 'cmp': {
      const col = columnOf(n.field, cols) as Column;
      if (n.cmp === '$ne') return invert(anyOf(col, n.field, [n.value], cols));
      return compare(col, n.field, n.cmp, n.value, cols);
    }
  }
}

function invert(m: Uint8Array): Uint8Array {
  for (let r = 0; r < m.length; r++) m[r] ^= 1;
  return m;
}

function rowsWhere(cols: FilterColumns, test: (r: number) => boolean): Uint8Array {
  const out = new Uint8Array(cols.n);
  for (let r = 0; r < cols.n; r++) if (test(r)) out[r] = 1;
  return out;
}

/** SQLite's seqs (ascending) as a mask over the rows (both in seq order: one merge). */
function sqlMask(seqs: Uint32Array, cols: FilterColumns): Uint8Array {
  const out = new Uint8Array(cols.n);
  let j = 0;
  for (let r = 0; r < cols.n && j < seqs.length; r++) {
    while (j < seqs.length && seqs[j] < cols.seqs[r]) j++;
    if (j < seqs.length && seqs[j] === cols.seqs[r]) out[r] = 1;
  }
  return out;
}

/** Rows equal to one of `values` (nulls: an explicit null; for a label, no label). */
function anyOf(col: Column, f: FilterField, values: readonly Scalar[], cols: FilterColumns): Uint8Array {
  const nums: number[] = [];
  const strs = new Uint8Array(col.strings.length);
  let nulls = false;
  for (const v of values) {
    if (v === null) nulls = true;
    else if (typeof v === 'number' && f.kind !== 'label') nums.push(v);
    else if (typeof v === 'string') {
      const code = col.codeOf(v);
      if (code !== undefined) strs[code] = 1;
    }
  }
  const kind = col.kind;
  const val = col.val;
  const numSet = new Set(nums);
  const isNum = nums.length === 0 ? () => false : nums.length === 1 ? (x: number) => x === nums[0] : (x: number) => numSet.has(x);
  return rowsWhere(cols, (r) => {
    const k = kind[r];
    return k === STR ? strs[val[r]] === 1 : k === NUM ? isNum(val[r]) : k === NULL && nulls;
  });
}

/** Rows whose value compares with `v` by `op` (same type only; never a null or a missing value). */
function compare(col: Column, f: FilterField, op: Exclude<CompareOp, '$ne'>, v: Scalar, cols: FilterColumns): Uint8Array {
  if (op === '$eq') return anyOf(col, f, [v], cols);
  const kind = col.kind;
  const val = col.val;
  if (typeof v === 'number') return f.kind === 'label' ? new Uint8Array(cols.n) : numberMask(kind, val, cols.n, op, v);
  if (typeof v !== 'string') return new Uint8Array(cols.n);
  const ok = new Uint8Array(col.strings.length);
  const sign = op === '$gt' || op === '$gte' ? 1 : -1;
  const strict = op === '$gt' || op === '$lt';
  for (let c = 0; c < ok.length; c++) {
    const d = compareCodePoints(col.strings[c], v) * sign;
    ok[c] = d > 0 || (!strict && d === 0) ? 1 : 0;
  }
  return rowsWhere(cols, (r) => kind[r] === STR && ok[val[r]] === 1);
}

/** Rows holding a number that compares with `v` by `op`: one plain loop per operator (the common range filter). */
function numberMask(kind: Uint8Array, val: Float64Array, n: number, op: '$gt' | '$gte' | '$lt' | '$lte', v: number): Uint8Array {
  const out = new Uint8Array(n);
  if (op === '$gt') for (let r = 0; r < n; r++) out[r] = kind[r] === NUM && val[r] > v ? 1 : 0;
  else if (op === '$gte') for (let r = 0; r < n; r++) out[r] = kind[r] === NUM && val[r] >= v ? 1 : 0;
  else if (op === '$lt') for (let r = 0; r < n; r++) out[r] = kind[r] === NUM && val[r] < v ? 1 : 0;
  else for (let r = 0; r < n; r++) out[r] = kind[r] === NUM && val[r] <= v ? 1 : 0;
  return out;
}
