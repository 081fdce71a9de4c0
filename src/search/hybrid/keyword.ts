import { mrlError } from '../../errors.js';

/** How `text` is read: `plain` (default) words, any of which may match; `fts5` the FTS5 query syntax as written. */
export type TextSyntax = 'plain' | 'fts5';

/** The longest keyword query (characters). */
export const MAX_TEXT_QUERY = 10_000;
const WORD = /[\p{L}\p{N}_]+/gu;

/**
 * The FTS5 MATCH expression for a keyword query. Plain text: each word quoted (so no
 * character of it is syntax) and joined with OR, ranked by BM25. `fts5`: as given (phrases,
 * AND/OR/NOT, NEAR, prefix*); a malformed one is refused by the store as INVALID_QUERY.
 */
export function matchExpression(text: unknown, syntax: TextSyntax = 'plain'): string {
  if (typeof text !== 'string' || text.trim() === '') throw mrlError('INVALID_QUERY', 'text must be a non-empty string');
  if (text.length > MAX_TEXT_QUERY) throw mrlError('INVALID_QUERY', `text is longer than ${MAX_TEXT_QUERY} characters`);
  if (syntax === 'fts5') return text;
  if (syntax !== 'plain') throw mrlError('INVALID_QUERY', "textSyntax must be 'plain' or 'fts5'");
  const words = [...new Set(text.match(WORD) ?? [])];
  if (words.length === 0) throw mrlError('INVALID_QUERY', `text '${text.slice(0, 100)}' has no words to search for`);
  return words
    .slice(0, 256)
    .map((w) => `"${w}"`)
    .join(' OR ');
}
