import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('mrl-server stores little-endian float32 and runs on little-endian hosts only');

/** A vector as the bytes of its SQLite BLOB (little-endian float32, no copy). */
export function toBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function fromBlob(b: Buffer): Float32Array {
  // Copy: the Buffer may not be 4-byte aligned.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/**
 * A blob's float32 values without a copy where it can: a view of its own memory when 4-byte
 * aligned (better-sqlite3 hands each blob over in a buffer of its own, so nothing else shares
 * it), else a copy (fromBlob).
 */
export function blobFloats(b: Buffer): Float32Array {
  return b.byteOffset % 4 === 0 ? new Float32Array(b.buffer, b.byteOffset, b.byteLength >> 2) : fromBlob(b);
}
