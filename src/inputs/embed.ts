import type { EncoderRegistry } from '../encoders/registry.js';
import type { ItemVector } from '../engine/engine.js';
import { MrlError, mrlError } from '../errors.js';
import type { Query } from '../search/query.js';
import type { CollectionRecord } from '../store/collections.js';

/** An item as a client sends it: a vector, or (for a collection with an encoder) an input to embed. */
export interface ItemInput extends ItemVector {
  input?: unknown;
}
/** A query as a client sends it: a vector, an input to embed, or a stored item's id. */
export type QueryInput = Query | { input: unknown };

/** The encoder a collection's `input` goes through, or the coded error why there is none. */
function encoderOf(rec: CollectionRecord, registry: EncoderRegistry): string {
  if (rec.encoder === null) throw new MrlError('NO_ENCODER', { collection: rec.name });
  if (!registry.has(rec.encoder)) throw new MrlError('UNKNOWN_ENCODER', { encoder: rec.encoder });
  return rec.encoder;
}

/** Exactly one of vector and input; an input must suit the collection's encoder. */
export async function checkInput(rec: CollectionRecord, registry: EncoderRegistry, it: ItemInput, field: string): Promise<void> {
  const hasVector = it.vector !== undefined;
  const hasInput = it.input !== undefined;
  if (hasVector && hasInput) throw mrlError('VALIDATION', `${field}: give either vector or input, not both`);
  if (!hasVector && !hasInput) throw mrlError('VALIDATION', `${field}: needs a vector (or an input, for a collection with an encoder)`);
  if (hasInput) (await registry.get(encoderOf(rec, registry))).validate(it.input, `${field}.input`);
}

/** Replaces every `input` by its embedding (one batched, chunked encoder pass). */
export async function embedInputs(rec: CollectionRecord, registry: EncoderRegistry, items: ItemInput[]): Promise<ItemVector[]> {
  const at: number[] = [];
  items.forEach((it, i) => {
    if (typeof it === 'object' && it !== null && it.input !== undefined) {
      if (it.vector !== undefined) throw mrlError('VALIDATION', `items[${i}]: give either vector or input, not both`);
      at.push(i);
    }
  });
  if (at.length === 0) return items;
  const encoder = encoderOf(rec, registry);
  const vectors = await registry.embed(
    encoder,
    at.map((i) => items[i].input),
    'items[].input',
  );
  const out: ItemVector[] = items.slice();
  // A text input is also the item's keyword text unless the item brings its own or the collection says storeText: false.
  const keepText = rec.storeText && registry.manifest(encoder).input.kind === 'text';
  at.forEach((i, j) => {
    const { input, ...rest } = items[i];
    out[i] = { ...rest, vector: vectors[j], ...(keepText && rest.text === undefined && typeof input === 'string' ? { text: input } : {}) };
  });
  return out;
}

/**
 * A query whose one field is `input`, as a vector query; any other query as it is (the engine
 * checks that exactly one of vector, input and id is given).
 */
export async function embedQuery(rec: CollectionRecord, registry: EncoderRegistry, q: QueryInput): Promise<Query> {
  const f = q as Record<string, unknown>;
  if (typeof q !== 'object' || q === null || f.input === undefined || f.vector !== undefined || f.id !== undefined) return q as Query;
  const [v] = await registry.embed(encoderOf(rec, registry), [f.input], 'input');
  return { vector: v };
}
