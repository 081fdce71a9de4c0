import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

/** One IDX array (LeCun's MNIST format): unsigned bytes plus the dimension sizes. */
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/**
 * Parses an IDX file. Header, big-endian: two zero bytes, a type code (0x08 = unsigned byte,
 * the only one Fashion-MNIST uses), the number of dimensions, then one uint32 size per
 * dimension; the data follow. Gzipped input (magic 1f 8b) is inflated first.
 */
export function parseIdx(raw: Uint8Array, what = 'IDX data'): IdxArray {
  const buf = raw[0] === 0x1f && raw[1] === 0x8b ? new Uint8Array(gunzipSync(raw)) : raw;
  if (buf.length < 4) throw new Error(`${what}: too short for an IDX header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf[0] !== 0 || buf[1] !== 0) throw new Error(`${what}: bad IDX magic`);
  if (buf[2] !== 0x08) throw new Error(`${what}: IDX type 0x${buf[2].toString(16)} is not unsigned byte`);
  const ndim = buf[3];
  const headerBytes = 4 + 4 * ndim;
  if (ndim === 0 || buf.length < headerBytes) throw new Error(`${what}: truncated IDX header`);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  if (buf.length - headerBytes !== count) {
    throw new Error(`${what}: IDX header says ${count} bytes of data, file has ${buf.length - headerBytes}`);
  }
  return { shape, data: buf.subarray(headerBytes) };
}

export function readIdx(path: string): IdxArray {
  return parseIdx(readFileSync(path), path);
}

/** Encodes an unsigned-byte IDX array (the inverse of parseIdx, before gzip). */
export function encodeIdx(shape: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  shape.forEach((n, i) => view.setUint32(4 + 4 * i, n, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}
