import { validateId, validateVector } from '../core/validate.js';
import { MrlError, mrlError } from '../errors.js';

/**
 * A query as the engine takes it: a vector, or a stored item's id (that item is left out of its
 * own results), or neither for a keyword-only search. Text and image inputs are embedded
 * before the engine is called (src/inputs/).
 */
export type Query = { vector: unknown } | { id: unknown } | NoVectorQuery;
/** No vector and no id: a keyword-only search (its `text` is a search option). */
export type NoVectorQuery = { vector?: undefined; id?: undefined };

/** A stored item's vector and seq by its id (the store satisfies this). */
export interface ItemsById {
  getById(collectionId: number, id: string): { seq: number; vector: Float32Array } | undefined;
}

/**
 * The query's vector, and the seq to leave out when it names a stored item; throws the coded
 * error. An `input` still counts as a field, so one given beside a vector or an id is refused
 * here as at the route.
 */
export function resolveQuery(
  record: { id: number; name: string; dim: number },
  items: ItemsById,
  q: Query,
): { vector: Float32Array; exclude?: number } {
  if (typeof q !== 'object' || q === null) throw mrlError('INVALID_SEARCH', 'a query needs a vector or an id');
  const f = q as Record<string, unknown>;
  const given = ['vector', 'id', 'input'].filter((k) => f[k] !== undefined);
  if (given.length !== 1) throw mrlError('VALIDATION', 'give exactly one of vector, input (q) and id');
  if (f.input !== undefined) throw mrlError('VALIDATION', 'an input is embedded before the search: give its vector');
  if (f.vector !== undefined) return { vector: validateVector(f.vector, record.dim, record.name, 'query vector') };
  const item = items.getById(record.id, validateId(f.id));
  if (!item) throw new MrlError('ITEM_NOT_FOUND', { id: String(f.id), collection: record.name });
  return { vector: item.vector, exclude: item.seq };
}
