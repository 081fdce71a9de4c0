import type { CompareOp, FilterField, FilterNode, Scalar } from './ast.js';

/** A WHERE clause over the `items` table (columns qualified) and its parameters in order. */
export interface CompiledFilter {
  where: string;
  params: (string | number)[];
}

const SQL_OP: Record<Exclude<CompareOp, '$ne'>, string> = { $eq: '=', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };

/**
 * Compiles a parsed filter to SQL for SQLite. Semantics (the README's filter section):
 * values compare only with values of the same JSON type (a number never equals a string, a
 * boolean never equals 1); a payload array matches when any element does; `$ne`, `$nin` and
 * `$not` are the negations of their positive forms, so they also match items that lack the
 * field; `{"x": null}` matches an explicit null only (use `$exists` for a missing field).
 * Paths are validated by the parser (letters, digits, `_`, `-`), so they are safe literals —
 * literal paths let SQLite use an expression index on `json_extract(payload, '$.f')`.
 *
 * `indexed` fields (a collection's indexedFields) hold only numbers, strings or null (the
 * engine refuses anything else on write), so their comparisons are written over the indexed
 * expression alone and SQLite answers them from the index without reading rows: numbers sort
 * before all text in SQLite, so `x < ''` means "x is a number" and `x >= ''` "x is text".
 */
export function compileFilter(node: FilterNode, indexed: ReadonlySet<string> = new Set()): CompiledFilter {
  const params: (string | number)[] = [];
  const where = compile(node, params, indexed);
  return { where, params };
}

function compile(n: FilterNode, params: (string | number)[], ix: ReadonlySet<string>): string {
  const compare = (f: FilterField, op: Exclude<CompareOp, '$ne'>, v: Scalar, p: (string | number)[]) =>
    f.kind === 'payload' && v !== null && ix.has(f.path.join('.')) ? compareIndexed(f.path, op, v, p) : compareAny(f, op, v, p);
  switch (n.op) {
    case 'and':
      return n.terms.length === 0 ? '1' : `(${n.terms.map((t) => compile(t, params, ix)).join(' AND ')})`;
    case 'or':
      return `(${n.terms.map((t) => compile(t, params, ix)).join(' OR ')})`;
    case 'not':
      return negate(compile(n.term, params, ix));
    case 'exists':
      return n.exists ? exists(n.field) : negate(exists(n.field));
    case 'in': {
      const any = `(${n.values.map((v) => compare(n.field, '$eq', v, params)).join(' OR ')})`;
      return n.negate ? negate(any) : any;
    }
    case 'cmp':
      return n.cmp === '$ne' ? negate(compare(n.field, '$eq', n.value, params)) : compare(n.field, n.cmp, n.value, params);
  }
}

/** NOT that treats SQL NULL (a missing field) as false before negating. */
function negate(sql: string): string {
  return `NOT coalesce(${sql}, 0)`;
}

function jsonPath(path: string[]): string {
  return `'$.${path.join('.')}'`;
}

function exists(f: FilterField): string {
  if (f.kind === 'id') return '1';
  if (f.kind === 'label') return 'items.label IS NOT NULL';
  return `json_type(items.payload, ${jsonPath(f.path)}) IS NOT NULL`;
}

/** The JSON types a scalar compares with. */
function typesOf(v: Scalar): string {
  if (v === null) return "'null'";
  if (typeof v === 'boolean') return v ? "'true'" : "'false'";
  if (typeof v === 'number') return "'integer', 'real'";
  return "'text'";
}

/** A comparison on an indexed field (numbers and strings only): index-only SQL. */
function compareIndexed(path: string[], op: Exclude<CompareOp, '$ne'>, v: string | number | boolean, params: (string | number)[]): string {
  if (typeof v === 'boolean') return '0'; // an indexed field holds no booleans
  const x = `json_extract(items.payload, ${jsonPath(path)})`;
  params.push(v);
  const sql = `${x} ${SQL_OP[op]} ?`;
  if (typeof v === 'number') return op === '$gt' || op === '$gte' ? `(${sql} AND ${x} < '')` : sql;
  return op === '$lt' || op === '$lte' ? `(${sql} AND ${x} >= '')` : sql;
}

function compareAny(f: FilterField, op: Exclude<CompareOp, '$ne'>, v: Scalar, params: (string | number)[]): string {
  const sqlOp = SQL_OP[op];
  if (f.kind !== 'payload') {
    const col = f.kind === 'id' ? 'items.id' : 'items.label';
    if (v === null) return op === '$eq' && f.kind === 'label' ? 'items.label IS NULL' : '0';
    if (typeof v !== 'string') return '0'; // ids and labels are strings
    params.push(v);
    return `${col} ${sqlOp} ?`;
  }
  const p = jsonPath(f.path);
  const types = typesOf(v);
  const scalarTest = (value: string) => (v === null || typeof v === 'boolean' ? '1' : `${value} ${sqlOp} ?`);
  if (v !== null && typeof v !== 'boolean') params.push(v, v);
  const scalar = `(json_type(items.payload, ${p}) IN (${types}) AND ${scalarTest(`json_extract(items.payload, ${p})`)})`;
  const element = `(json_type(items.payload, ${p}) = 'array' AND EXISTS (SELECT 1 FROM json_each(items.payload, ${p}) WHERE type IN (${types}) AND ${scalarTest('value')}))`;
  return `(${scalar} OR ${element})`;
}
