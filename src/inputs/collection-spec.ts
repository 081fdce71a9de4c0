import type { EncoderRegistry } from '../encoders/registry.js';
import type { CollectionSpec } from '../engine/collection-spec.js';
import { MrlError, mrlError } from '../errors.js';

/** A spec bound to an encoder takes the encoder's dim and nesting unless they are given (a dim must match). */
export function withEncoderShape(spec: CollectionSpec, registry: EncoderRegistry): CollectionSpec {
  if (spec.encoder === undefined || spec.encoder === null) return spec;
  // The spec is unchecked input: a value that is not a string is looked up and reported as its JSON text.
  const name = typeof spec.encoder === 'string' ? spec.encoder : JSON.stringify(spec.encoder);
  const m = registry.has(name) ? registry.manifest(name) : undefined;
  if (!m) throw new MrlError('UNKNOWN_ENCODER', { encoder: name });
  if (spec.dim !== undefined && spec.dim !== m.dim)
    throw mrlError('INVALID_COLLECTION', `encoder '${m.name}' makes ${m.dim}-d vectors; dim ${JSON.stringify(spec.dim)} does not match`);
  return { ...spec, dim: m.dim, nesting: spec.nesting ?? m.nesting };
}
