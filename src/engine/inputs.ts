import type { EncoderRegistry } from '../encoders/registry.js';
import { MrlError, mrlError } from '../errors.js';
import type { CollectionRecord } from '../store/collections.js';

export interface ItemInput { id: unknown; vector?: unknown; input?: unknown; label?: unknown; payload?: unknown }

/** The encoder a collection's `input` goes through, or the coded error why there is none. */
function encoderOf(rec: CollectionRecord, registry: EncoderRegistry | undefined): string {
  if (rec.encoder === null) throw new MrlError('NO_ENCODER', { collection: rec.name });
  if (!registry?.has(rec.encoder)) throw new MrlError('UNKNOWN_ENCODER', { encoder: rec.encoder });
  return rec.encoder;
}

/** Exactly one of vector and input; an input must suit the collection's encoder. */
export async function checkInput(rec: CollectionRecord, registry: EncoderRegistry | undefined, it: ItemInput, field: string): Promise<void> {
  const hasVector = it.vector !== undefined;
  const hasInput = it.input !== undefined;
  if (hasVector && hasInput) throw mrlError('VALIDATION', `${field}: give either vector or input, not both`);
  if (!hasVector && !hasInput) throw mrlError('VALIDATION', `${field}: needs a vector (or an input, for a collection with an encoder)`);
  if (hasInput) (await registry!.get(encoderOf(rec, registry))).validate(it.input, `${field}.input`);
}

/** Replaces every `input` by its embedding (one batched, chunked encoder pass). */
export async function embedInputs(rec: CollectionRecord, registry: EncoderRegistry | undefined, items: ItemInput[]): Promise<ItemInput[]> {
  const at: number[] = [];
  items.forEach((it, i) => {
    if (typeof it === 'object' && it !== null && it.input !== undefined) {
      if (it.vector !== undefined) throw mrlError('VALIDATION', `items[${i}]: give either vector or input, not both`);
      at.push(i);
    }
  });
  if (at.length === 0) return items;
  const encoder = encoderOf(rec, registry);
  const vectors = await registry!.embed(encoder, at.map((i) => items[i].input), 'items[].input');
  const out = items.slice();
  at.forEach((i, j) => {
    const { input: _input, ...rest } = items[i];
    out[i] = { ...rest, vector: vectors[j] };
  });
  return out;
}

/** A query's text or image input as a vector. */
export async function embedQuery(rec: CollectionRecord, registry: EncoderRegistry | undefined, input: unknown): Promise<Float32Array> {
  const [v] = await registry!.embed(encoderOf(rec, registry), [input], 'input');
  return v;
}
