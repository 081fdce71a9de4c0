import { validateId, validateLabel, validatePayload, validateVector } from '../core/validate.js';
import type { EncoderRegistry } from '../encoders/registry.js';
import { mrlError } from '../errors.js';
import type { CollectionRecord } from '../store/collections.js';
import { checkInput, type ItemInput } from './embed.js';

/** Validates one item as an upsert would (an input against the collection's encoder); throws the coded error. */
export async function checkItem(rec: CollectionRecord, registry: EncoderRegistry, it: ItemInput): Promise<ItemInput> {
  if (typeof it !== 'object' || it === null) throw mrlError('VALIDATION', 'item must be an object');
  validateId(it.id);
  await checkInput(rec, registry, it, 'item');
  if (it.vector !== undefined) validateVector(it.vector, rec.dim, rec.name);
  validateLabel(it.label);
  validatePayload(it.payload);
  return it;
}
