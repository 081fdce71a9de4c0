import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { validateId, validateLabel, validatePayload, validateText, validateVector } from '../core/validate.js';
import { mrlError } from '../errors.js';
import type { CollectionRecord } from '../store/collections.js';
import type { ItemPatch } from '../store/items.js';
import { checkIndexedPayload } from './indexed-fields.js';
import type { BoundRotations } from './rotations.js';

/** An item as the engine takes it: a vector (text and image inputs are embedded before). */
export interface ItemVector {
  id: unknown;
  vector?: unknown;
  label?: unknown;
  payload?: unknown;
  text?: unknown;
}

export type PreparedItem = { id: string; vector: Float32Array; label: string | null; payload: string | null; text: string | null };

/** A patch as the engine takes it: any of label, payload and text. */
export type ItemPatchInput = { label?: unknown; payload?: unknown; text?: unknown };

const VALIDATE_CHUNK = 250;

/**
 * Validates a batch (the last id wins; vectors in their stored form, rotated when the collection
 * has a rotation), in chunks that yield to the event loop; writes nothing.
 */
export async function prepareItems(record: CollectionRecord, rotations: BoundRotations, items: ItemVector[]): Promise<PreparedItem[]> {
  if (!Array.isArray(items)) throw mrlError('VALIDATION', 'items must be an array');
  const prepared: PreparedItem[] = [];
  const chunk = rotations.chunk(record, VALIDATE_CHUNK);
  for (let i = 0; i < items.length; i += chunk) {
    if (i > 0) await yieldToLoop();
    for (let j = i; j < Math.min(items.length, i + chunk); j++) prepared.push(prepareItem(record, rotations, items[j], `items[${j}]`));
  }
  return lastIdWins(prepared);
}

/** Each id once, at the place of its last occurrence, with that occurrence's values (what one upsert of the batch writes). */
export function lastIdWins(items: PreparedItem[]): PreparedItem[] {
  const byId = new Map<string, PreparedItem>();
  for (const it of items) {
    byId.delete(it.id);
    byId.set(it.id, it);
  }
  return [...byId.values()];
}

/**
 * One item validated as `prepareItems` does (its vector in stored form); throws the coded error.
 * Messages name its fields `${field}.id` and so on, or `id`… as `checkItem` does when `field` is ''.
 */
export function prepareItem(record: CollectionRecord, rotations: BoundRotations, it: ItemVector, field: string): PreparedItem {
  const at = (k: string) => (field ? `${field}.${k}` : k);
  const whole = field || 'item';
  if (typeof it !== 'object' || it === null) throw mrlError('VALIDATION', `${whole} must be an object`);
  const id = validateId(it.id, at('id'));
  if (it.vector === undefined)
    throw mrlError('VALIDATION', `${field ? field : 'item:'} needs a vector (or an input, for a collection with an encoder)`);
  const vector = rotations.toStored(record, validateVector(it.vector, record.dim, record.name, at('vector')));
  checkIndexedPayload(record.indexedFields, it.payload, at('payload'));
  return {
    id,
    vector,
    label: validateLabel(it.label),
    payload: validatePayload(it.payload),
    text: validateText(it.text, at('text')),
  };
}

/** Validates an item's id and a patch of its label, payload and/or text; writes nothing. */
export function preparePatch(record: CollectionRecord, id: unknown, patch: ItemPatchInput): { key: string; p: ItemPatch } {
  const key = validateId(id);
  if (typeof patch !== 'object' || patch === null) throw mrlError('VALIDATION', 'a patch is an object of label, payload and text');
  const p = {
    ...(patch.label !== undefined ? { label: validateLabel(patch.label) } : {}),
    ...(patch.payload !== undefined
      ? { payload: (checkIndexedPayload(record.indexedFields, patch.payload, 'payload'), validatePayload(patch.payload)) }
      : {}),
    ...(patch.text !== undefined ? { text: validateText(patch.text) } : {}),
  };
  return { key, p };
}
