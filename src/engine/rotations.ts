import { rotate, unrotate } from '../core/rotation.js';
import { mrlError } from '../errors.js';
import type { StoredRotation } from '../store/quality.js';

/** Where rotations are kept (the store of src/store/quality.ts). */
export interface RotationSource {
  get(collectionId: number): StoredRotation | null;
  save(collectionId: number, r: StoredRotation): void;
}
interface Shape {
  id: number;
  name: string;
  dim: number;
}

/** Multiply-adds of rotation per validation chunk of an upsert (a few ms of work). */
const ROTATE_WORK = 4_000_000;

/**
 * Orthogonal rotations bound to collections by `adapt` (src/quality/adapt.ts), cached by
 * collection id (never reused): raw vectors enter such a collection as v·R, at ingest and at
 * search, and leave it as v·Rᵀ.
 */
export class BoundRotations {
  private readonly cache = new Map<number, Float32Array | null>();

  constructor(private readonly store?: RotationSource) {}

  of(c: Shape): Float32Array | null {
    let r = this.cache.get(c.id);
    if (r === undefined) this.cache.set(c.id, (r = this.store?.get(c.id)?.matrix ?? null));
    return r;
  }

  /** Binds a D×D rotation to a collection that holds no items yet. */
  bind(c: Shape, count: number, rotation: StoredRotation): void {
    if (!this.store) throw mrlError('INVALID_COLLECTION', 'this engine keeps no rotations');
    if (rotation.dim !== c.dim || rotation.matrix.length !== c.dim ** 2)
      throw mrlError('INVALID_COLLECTION', `a rotation of '${c.name}' must be ${c.dim}×${c.dim}`);
    if (count > 0) throw mrlError('INVALID_COLLECTION', `'${c.name}' already holds items: a rotation is bound before the first`);
    this.store.save(c.id, rotation);
    this.cache.set(c.id, rotation.matrix);
  }

  /** A raw vector as the collection stores it. */
  toStored(c: Shape, v: Float32Array): Float32Array {
    const r = this.of(c);
    return r ? rotate(v, r, c.dim) : v;
  }

  /** A stored vector as it was given. */
  toRaw(c: Shape, v: Float32Array): Float32Array {
    const r = this.of(c);
    return r ? unrotate(v, r, c.dim) : v;
  }

  /** Items validated per event-loop turn in an upsert: fewer when each costs a D² rotation. */
  chunk(c: Shape, plain: number): number {
    return this.of(c) ? Math.max(4, Math.min(plain, Math.floor(ROTATE_WORK / c.dim ** 2))) : plain;
  }
}
