import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ResidentType } from '../core/quantize.js';
import { ResidentMatrix, type MatrixPart } from '../core/resident-matrix.js';
import { publishSnapshot, removeSnapshotFiles } from './snapshot.js';

export const MATRIX_SNAPSHOT_FORMAT = 1;
/** Bytes per read or write call (and per hash update): large calls, bounded temporary views. */
const CHUNK = 1 << 24;

/**
 * The resident matrix written as its typed arrays, one after another (only the live slots),
 * with a manifest: what the arrays are, the row count and width, the highest seq the matrix had
 * seen, the file's size and sha256. The manifest's rename is the commit point. Files are named
 * `m<collection id>.…` (the index snapshot's are `c<id>.…`).
 */
export interface MatrixManifest {
  format: number;
  collectionId: number;
  width: number;
  normDims: number[];
  rows: number;
  lastSeq: number;
  parts: { name: string; type: string; perRow: number; bytes: number }[];
  file: string;
  bytes: number;
  sha256: string;
  createdAt: string;
}

const manifestPath = (dir: string, collectionId: number) => join(dir, `m${collectionId}.manifest.json`);
/** Distinguishes files written in the same millisecond. */
let written = 0;

/** Views of the first `rows` slots of each part, as bytes. */
function partBytes(part: MatrixPart, rows: number): Buffer {
  const a = part.array;
  return Buffer.from(a.buffer, a.byteOffset, rows * part.perRow * a.BYTES_PER_ELEMENT);
}

/** Runs `fn` over [0, bytes) in CHUNK-sized pieces. */
function inChunks(bytes: number, fn: (from: number, len: number) => void): void {
  for (let at = 0; at < bytes; at += CHUNK) fn(at, Math.min(CHUNK, bytes - at));
}

/**
 * Writes the matrix atomically: temp file (hashed while written), fsync, rename; then the
 * manifest (temp, fsync, rename), then the directory; older matrix files are removed.
 * Synchronous: no write can move rows while it runs.
 */
export function writeMatrixSnapshot(dir: string, collectionId: number, matrix: ResidentMatrix, lastSeq: number): MatrixManifest {
  const file = `m${collectionId}.${Date.now().toString(36)}-${process.pid}-${written++}.bin`;
  const tmp = join(dir, `${file}.tmp`);
  const rows = matrix.size;
  const hash = createHash('sha256');
  const parts: MatrixManifest['parts'] = [];
  let total = 0;
  const fd = openSync(tmp, 'w');
  try {
    for (const part of matrix.snapshotParts()) {
      const buf = partBytes(part, rows);
      inChunks(buf.byteLength, (from, len) => {
        const view = buf.subarray(from, from + len);
        hash.update(view);
        for (let off = 0; off < len;) off += writeSync(fd, view, off, len - off, total + from + off);
      });
      parts.push({ name: part.name, type: part.array.constructor.name, perRow: part.perRow, bytes: buf.byteLength });
      total += buf.byteLength;
    }
  } finally {
    closeSync(fd);
  }
  const digest = hash.digest('hex');
  const manifest = publishSnapshot(dir, tmp, file, manifestPath(dir, collectionId), (): MatrixManifest => ({
    format: MATRIX_SNAPSHOT_FORMAT,
    collectionId,
    width: matrix.width,
    normDims: matrix.normDims,
    rows,
    lastSeq,
    parts,
    file,
    bytes: total,
    sha256: digest,
    createdAt: new Date().toISOString(),
  }));
  removeMatrixSnapshotFiles(dir, collectionId, file);
  return manifest;
}

export type MatrixLoad = { matrix: ResidentMatrix; manifest: MatrixManifest } | { matrix: null; reason: string };

/** What the matrix must be to be restored: the collection's resident width and nesting. */
export interface MatrixShape {
  width: number;
  nesting: number[];
  highestIssuedSeq: number;
  /** The rows' storage (f32 | f16 | int8): its arrays are the parts a snapshot holds. */
  type?: ResidentType;
  /** On SharedArrayBuffers for the search pool's workers (src/core/matrix-storage.ts). */
  shared?: boolean;
}

function readManifest(dir: string, collectionId: number): MatrixManifest | string {
  const mpath = manifestPath(dir, collectionId);
  if (!existsSync(mpath)) return 'no matrix snapshot';
  try {
    return JSON.parse(readFileSync(mpath, 'utf8')) as MatrixManifest;
  } catch {
    return 'matrix manifest unreadable';
  }
}

/** Why a manifest cannot be used for `shape`, or null. */
function mismatch(m: MatrixManifest, collectionId: number, probe: ResidentMatrix, shape: MatrixShape): string | null {
  if (m.format !== MATRIX_SNAPSHOT_FORMAT || m.collectionId !== collectionId) return 'matrix manifest of another format or collection';
  if (m.width !== probe.width || JSON.stringify(m.normDims) !== JSON.stringify(probe.normDims))
    return 'matrix snapshot width or nesting differs from the collection';
  if (m.lastSeq > shape.highestIssuedSeq) return 'matrix snapshot is newer than the database';
  const want = probe.snapshotParts();
  const same =
    want.length === m.parts.length &&
    want.every((p, i) => {
      const q = m.parts[i];
      return (
        q.name === p.name &&
        q.type === p.array.constructor.name &&
        q.perRow === p.perRow &&
        q.bytes === m.rows * p.perRow * p.array.BYTES_PER_ELEMENT
      );
    });
  return same ? null : 'matrix snapshot parts differ from the matrix';
}

/** Reads every part's first `rows` slots into `matrix`, hashing the bytes; throws on a short file. */
function readParts(file: string, matrix: ResidentMatrix, rows: number, hash: Hash): void {
  const fd = openSync(file, 'r');
  try {
    let pos = 0;
    for (const part of matrix.snapshotParts()) {
      const buf = partBytes(part, rows);
      inChunks(buf.byteLength, (from, len) => {
        const view = buf.subarray(from, from + len);
        for (let off = 0; off < len;) {
          const n = readSync(fd, view, off, len - off, pos + from + off);
          if (n === 0) throw new Error('matrix file ended early');
          off += n;
        }
        hash.update(view);
      });
      pos += buf.byteLength;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads a matrix snapshot if it is present, intact (size, sha256, no repeated seq) and of the
 * collection's shape; otherwise says why not (never throws). The caller replays the store
 * beyond it.
 */
export function loadMatrixSnapshot(dir: string, collectionId: number, shape: MatrixShape): MatrixLoad {
  const manifest = readManifest(dir, collectionId);
  if (typeof manifest === 'string') return { matrix: null, reason: manifest };
  const bad = mismatch(manifest, collectionId, new ResidentMatrix(shape.width, shape.nesting, 16, { type: shape.type }), shape);
  if (bad) return { matrix: null, reason: bad };
  const file = join(dir, manifest.file);
  if (!existsSync(file)) return { matrix: null, reason: 'matrix file missing' };
  try {
    const fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    closeSync(fd);
    if (size !== manifest.bytes) return { matrix: null, reason: 'matrix file truncated or resized' };
    // Room to grow a little before the first resize (which copies the whole matrix).
    const matrix = new ResidentMatrix(shape.width, shape.nesting, manifest.rows + (manifest.rows >> 4), {
      type: shape.type,
      shared: shape.shared,
    });
    const hash = createHash('sha256');
    readParts(file, matrix, manifest.rows, hash);
    if (hash.digest('hex') !== manifest.sha256) return { matrix: null, reason: 'matrix file checksum mismatch' };
    if (!matrix.restored(manifest.rows)) return { matrix: null, reason: 'matrix snapshot repeats a seq' };
    return { matrix, manifest };
  } catch (err) {
    return { matrix: null, reason: `matrix snapshot unreadable: ${(err as Error).message}` };
  }
}

/** Deletes a collection's matrix snapshot files (all, or all but `keep` and the manifest). */
export function removeMatrixSnapshotFiles(dir: string, collectionId: number, keep?: string): void {
  removeSnapshotFiles(dir, collectionId, keep, 'm');
}
