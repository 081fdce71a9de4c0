import { MrlError, mrlError } from '../errors.js';

export const MAX_ID_LENGTH = 256;
const F32_MAX = 3.4028234663852886e38;

/**
 * Checks a vector before it reaches SQLite or native code: hnswlib-node aborts the whole
 * process on a non-number element and silently accepts NaN. Returns the float32 copy.
 */
export function validateVector(value: unknown, dim: number, collection: string, field = 'vector'): Float32Array {
  if (!Array.isArray(value) && !(value instanceof Float32Array)) {
    throw mrlError('INVALID_VECTOR', `${field} must be an array of ${dim} numbers`);
  }
  if (value.length === 0) throw mrlError('INVALID_VECTOR', `${field} is empty`);
  if (value.length !== dim) throw new MrlError('DIM_MISMATCH', { got: value.length, expected: dim, collection });
  const out = new Float32Array(dim);
  let nonZero = false;
  for (let i = 0; i < dim; i++) {
    const x: unknown = value[i];
    if (typeof x !== 'number') throw mrlError('INVALID_VECTOR', `${field}[${i}] is ${x === null ? 'null' : typeof x}, not a number`);
    // Rounding to float32 turns anything beyond ±3.4e38 into Infinity.
    if (!Number.isFinite(x) || Math.abs(x) > F32_MAX || !Number.isFinite(Math.fround(x))) {
      throw mrlError('INVALID_VECTOR', `${field}[${i}] is not finite as float32 (${x})`);
    }
    out[i] = x;
    if (out[i] !== 0) nonZero = true;
  }
  if (!nonZero) throw mrlError('INVALID_VECTOR', `${field} is all zeros: it has no direction`);
  return out;
}

export function validateId(value: unknown, field = 'id'): string {
  if (typeof value !== 'string' || value.length === 0) throw mrlError('INVALID_ID', `${field} must be a non-empty string`);
  if (value.length > MAX_ID_LENGTH) throw mrlError('INVALID_ID', `${field} is longer than ${MAX_ID_LENGTH} characters`);
  return value;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export function validateCollectionName(value: unknown): string {
  if (typeof value !== 'string' || !NAME_RE.test(value)) {
    throw mrlError(
      'INVALID_COLLECTION',
      'collection name must be 1-64 characters of letters, digits, _ . - and start with a letter or digit',
    );
  }
  return value;
}

export function validateLabel(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > 1024) throw mrlError('VALIDATION', 'label must be a string of at most 1024 characters');
  return value;
}

/** An item's keyword text: the FTS5 index holds at most this many bytes (UTF-8) per item. */
export const MAX_TEXT_BYTES = 64 * 1024;

export function validateText(value: unknown, field = 'text'): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw mrlError('VALIDATION', `${field} must be a string`);
  if (Buffer.byteLength(value) > MAX_TEXT_BYTES) throw mrlError('PAYLOAD_TOO_LARGE', `${field} is larger than 64 KB`);
  return value;
}

export function validatePayload(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined) throw mrlError('VALIDATION', 'payload must be JSON-serialisable');
  if (json.length > 1 << 20) throw mrlError('PAYLOAD_TOO_LARGE', 'payload is larger than 1 MiB');
  return json;
}

export function positiveInt(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw mrlError('INVALID_SEARCH', `${field} must be an integer in 1..${max}`);
  }
  return value;
}
