import { mrlError } from '../errors.js';

/** The value at a dotted path of a payload (undefined when any part is missing). */
function valueAt(payload: unknown, path: string): unknown {
  let v = payload;
  for (const part of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * An indexed field holds a number, a string or null (or is missing): filters on it are then
 * answered from its SQLite index alone (src/search/filter/sql.ts). Throws VALIDATION otherwise.
 */
export function checkIndexedPayload(fields: readonly string[], payload: unknown, at: string): void {
  for (const f of fields) {
    const v = valueAt(payload, f);
    if (v !== undefined && v !== null && typeof v !== 'number' && typeof v !== 'string') {
      throw mrlError(
        'VALIDATION',
        `${at}.${f} is an indexed field: it must be a number, a string or null, not ${Array.isArray(v) ? 'an array' : typeof v}`,
      );
    }
  }
}
