import { fromBlob } from '../store/vector-blob.js';
import { parseFloatArray } from './float-array-literal.js';

/** What one line holds: a JSON object (its `vector` already a Float32Array when it was numbers or base64). */
export type ParsedLine = { item: Record<string, unknown> } | { error: string; code: 'VALIDATION' | 'INVALID_VECTOR' };

const KEY = Buffer.from('"vector":[');
const VECTOR_KEY = Buffer.from('"vector"');
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const QUOTE = 34;
const BACKSLASH = 92;
const SPACE = 32;
const TAB = 9;
const COLON = 58;
const MINUS = 45;
const ZERO = 48;

/**
 * One NDJSON line (blank lines are the caller's). The usual shape, a top-level
 * `"vector":[numbers]` written without spaces around the colon, has its numbers read straight
 * into float32 (float-array-literal.ts) and only the rest goes through JSON.parse; any other
 * line, or one that path does not take, is parsed whole, so refusals read as they always did.
 * A `vector` given as a string is base64 of little-endian float32 (4 bytes a value).
 */
export function parseLine(buf: Buffer, scratch: Float32Array): ParsedLine {
  const fast = fastItem(buf, scratch);
  let item: unknown = fast;
  if (!fast) {
    try {
      item = JSON.parse(buf.toString('utf8'));
    } catch (err) {
      return { code: 'VALIDATION', error: `invalid JSON: ${(err as Error).message}` };
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return { code: 'VALIDATION', error: 'line is not a JSON object' };
  }
  const obj = item as Record<string, unknown>;
  if (typeof obj.vector === 'string') {
    const v = fromBase64(obj.vector);
    if (!v) return { code: 'INVALID_VECTOR', error: 'vector as a string must be base64 of little-endian float32 values (4 bytes each)' };
    obj.vector = v;
  }
  return { item: obj };
}

function fastItem(buf: Buffer, scratch: Float32Array): Record<string, unknown> | null {
  const at = buf.indexOf(KEY);
  if (at < 0 || !atTopLevel(buf, at)) return null;
  const open = at + KEY.length - 1;
  const arr = parseFloatArray(buf, open, scratch);
  if (!arr || laterZeroVector(buf, arr.end)) return null;
  let rest: unknown;
  try {
    rest = JSON.parse(`${buf.toString('utf8', 0, open)}0${buf.toString('utf8', arr.end)}`);
  } catch {
    return null;
  }
  if (typeof rest !== 'object' || rest === null || (rest as { vector?: unknown }).vector !== 0) return null;
  (rest as { vector: unknown }).vector = scratch.slice(0, arr.length);
  return rest as Record<string, unknown>;
}

/**
 * True when a `"vector"` after `from` is followed by a number that could be zero: were it a
 * second top-level key, JSON.parse would keep it, and the check below (`vector === 0`) could
 * not tell it from the placeholder. Any other later "vector" (a payload's) is harmless.
 */
function laterZeroVector(buf: Buffer, from: number): boolean {
  for (let at = buf.indexOf(VECTOR_KEY, from); at >= 0; at = buf.indexOf(VECTOR_KEY, at + 1)) {
    let p = at + VECTOR_KEY.length;
    while (buf[p] === SPACE || buf[p] === TAB) p++;
    if (buf[p] !== COLON) continue;
    p++;
    while (buf[p] === SPACE || buf[p] === TAB) p++;
    if (buf[p] === MINUS || buf[p] === ZERO) return true;
  }
  return false;
}

/** True when `buf[at]` lies directly in the line's outermost object, outside any string. */
function atTopLevel(buf: Buffer, at: number): boolean {
  let depth = 0;
  let inString = false;
  for (let p = 0; p < at; p++) {
    const c = buf[p];
    if (inString) {
      if (c === BACKSLASH) p++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === LBRACE || c === LBRACKET) depth++;
    else if (c === RBRACE || c === RBRACKET) depth--;
  }
  return depth === 1 && !inString;
}

/** Strict base64 (padded, the canonical form: re-encoding gives it back; a regex test costs 50× the decode). */
function fromBase64(s: string): Float32Array | null {
  const b = Buffer.from(s, 'base64');
  return b.length % 4 === 0 && b.toString('base64') === s ? fromBlob(b) : null;
}
