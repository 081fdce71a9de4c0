import type { EncoderRegistry } from '../encoders/registry.js';
import type { CollectionSpec } from '../engine/collection-spec.js';
import { MrlError, mrlError } from '../errors.js';

/** A spec bound to an encoder takes the encoder's dim and nesting unless they are given (a dim must match). */
export function withEncoderShape(spec: CollectionSpec, registry: EncoderRegistry): CollectionSpec {
  if (spec.encoder === undefined || spec.encoder === null) return spec;
  const m = registry.has(String(spec.encoder)) ? registry.manifest(String(spec.encoder)) : undefined;
  if (!m) throw new MrlError('UNKNOWN_ENCODER', { encoder: String(spec.encoder) });
  if (spec.dim !== undefined && spec.dim !== m.dim) throw mrlError('INVALID_COLLECTION', `encoder '${m.name}' makes ${m.dim}-d vectors; dim ${String(spec.dim)} does not match`);
  return { ...spec, dim: m.dim, nesting: spec.nesting ?? m.nesting };
}
