import { mrlError } from '../../errors.js';
import { MAX_FILTER_DEPTH, MAX_FILTER_TERMS, type CompareOp, type FilterField, type FilterNode, type Scalar } from './ast.js';

/** A payload path's segments: letters, digits, `_` and `-` (they are written into SQL as a JSON path). */
const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;
const COMPARE = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte']);

function bad(at: string, why: string): never {
  throw mrlError('INVALID_FILTER', `${at}: ${why}`, { at });
}

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses the Mongo-style filter of a search; throws INVALID_FILTER naming the place (`filter.$or[1].label`). */
export function parseFilter(value: unknown): FilterNode {
  const p = new Parser();
  return p.object(value, 'filter', 1);
}

class Parser {
  private terms = 0;

  private count(at: string, n = 1): void {
    this.terms += n;
    if (this.terms > MAX_FILTER_TERMS) bad(at, `more than ${MAX_FILTER_TERMS} terms`);
  }

  /** An object of conditions: its keys are an implicit $and. */
  object(v: unknown, at: string, depth: number): FilterNode {
    if (depth > MAX_FILTER_DEPTH) bad(at, `nested deeper than ${MAX_FILTER_DEPTH}`);
    if (!isPlainObject(v)) bad(at, 'must be an object of conditions');
    const keys = Object.keys(v);
    if (keys.length === 0) return { op: 'and', terms: [] };
    const terms = keys.map((k) => this.entry(k, v[k], `${at}.${k}`, depth));
    return terms.length === 1 ? terms[0] : { op: 'and', terms };
  }

  private entry(key: string, v: unknown, at: string, depth: number): FilterNode {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(v) || v.length === 0) bad(at, 'must be a non-empty list of conditions');
      return { op: key === '$and' ? 'and' : 'or', terms: v.map((x, i) => this.object(x, `${at}[${i}]`, depth + 1)) };
    }
    if (key === '$not') return { op: 'not', term: this.object(v, at, depth + 1) };
    if (key.startsWith('$')) bad(at, `unknown operator '${key}' (use $and, $or, $not or a field: id, label, payload.<path>)`);
    return this.field(fieldOf(key, at), v, at, depth);
  }

  /** A field's condition: a bare scalar ($eq) or an object of operators (an implicit $and). */
  private field(field: FilterField, v: unknown, at: string, depth: number): FilterNode {
    if (isScalar(v)) {
      this.count(at);
      return { op: 'cmp', field, cmp: '$eq', value: v };
    }
    if (!isPlainObject(v)) bad(at, 'must be a string, number, boolean, null or an object of operators');
    const ops = Object.keys(v);
    if (ops.length === 0) bad(at, 'has no operator');
    if (depth + 1 > MAX_FILTER_DEPTH) bad(at, `nested deeper than ${MAX_FILTER_DEPTH}`);
    const terms = ops.map((op) => this.operator(field, op, v[op], `${at}.${op}`, depth + 1));
    return terms.length === 1 ? terms[0] : { op: 'and', terms };
  }

  private operator(field: FilterField, op: string, v: unknown, at: string, depth: number): FilterNode {
    if (COMPARE.has(op)) {
      if (!isScalar(v)) bad(at, 'must be a string, number, boolean or null');
      if (op !== '$eq' && op !== '$ne' && typeof v !== 'number' && typeof v !== 'string') bad(at, 'must be a number or a string');
      this.count(at);
      return { op: 'cmp', field, cmp: op as CompareOp, value: v };
    }
    if (op === '$in' || op === '$nin') {
      if (!Array.isArray(v) || v.length === 0) bad(at, 'must be a non-empty list of values');
      v.forEach((x, i) => {
        if (!isScalar(x)) bad(`${at}[${i}]`, 'must be a string, number, boolean or null');
      });
      this.count(at, v.length);
      return { op: 'in', field, values: v as Scalar[], negate: op === '$nin' };
    }
    if (op === '$exists') {
      if (typeof v !== 'boolean') bad(at, 'must be true or false');
      this.count(at);
      return { op: 'exists', field, exists: v };
    }
    if (op === '$not') {
      if (depth + 1 > MAX_FILTER_DEPTH) bad(at, `nested deeper than ${MAX_FILTER_DEPTH}`);
      return { op: 'not', term: this.field(field, v, at, depth + 1) };
    }
    bad(at, `unknown operator '${op}' (use $eq $ne $in $nin $gt $gte $lt $lte $exists $not)`);
  }
}

/** `id`, `label` or `payload.<path>` (dots for nesting). */
function fieldOf(key: string, at: string): FilterField {
  if (key === 'id') return { kind: 'id' };
  if (key === 'label') return { kind: 'label' };
  if (key.startsWith('payload.')) {
    const path = key.slice('payload.'.length).split('.');
    if (path.length > MAX_FILTER_DEPTH) bad(at, `a payload path has at most ${MAX_FILTER_DEPTH} parts`);
    for (const s of path) if (!SEGMENT.test(s)) bad(at, `payload path part '${s}' must be 1-64 letters, digits, _ or -`);
    return { kind: 'payload', path };
  }
  bad(at, `unknown field '${key}' (use id, label or payload.<path>)`);
}
