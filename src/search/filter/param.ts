import { mrlError } from '../../errors.js';

/** `filter=` of a query string (GET /search, GET /eval): the same JSON as a POST body's `filter`. */
export function filterParam(s: string | undefined): unknown {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    throw mrlError('INVALID_FILTER', 'filter: the filter= parameter must be JSON (e.g. {"label":"cats"})', { at: 'filter' });
  }
}
