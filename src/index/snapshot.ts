import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { PrefixIndex, type HnswParams } from './prefix-index.js';

export const SNAPSHOT_FORMAT = 1;

/** Written next to the index file; the manifest's rename is the snapshot's commit point. */
export interface Manifest {
  format: number;
  collectionId: number;
  indexDim: number;
  m: number;
  efConstruction: number;
  elements: number;
  deleted: number;
  highestSeq: number;
  file: string;
  bytes: number;
  sha256: string;
  createdAt: string;
}

const manifestPath = (dir: string, collectionId: number) => join(dir, `c${collectionId}.manifest.json`);

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the index atomically: temp file, fsync, checksum, then the manifest (temp, fsync,
 * rename), then the directory. Synchronous, so no addPoint can run while it writes.
 */
export function writeSnapshot(dir: string, collectionId: number, index: PrefixIndex, highestSeq: number): Manifest {
  const stamp = `${Date.now().toString(36)}-${process.pid}`;
  const file = `c${collectionId}.${stamp}.hnsw`;
  const tmp = join(dir, `${file}.tmp`);
  index.writeSync(tmp);
  const manifest = publishSnapshot(dir, tmp, file, manifestPath(dir, collectionId), (path): Manifest => ({
    format: SNAPSHOT_FORMAT,
    collectionId,
    indexDim: index.dim,
    m: index.params.m,
    efConstruction: index.params.efConstruction,
    elements: index.elementCount,
    deleted: index.deletedCount,
    highestSeq,
    file,
    bytes: statSync(path).size,
    sha256: sha256File(path),
    createdAt: new Date().toISOString(),
  }));
  removeSnapshotFiles(dir, collectionId, file);
  return manifest;
}

/**
 * Publishes a snapshot file written to `tmp`: fsync, rename to `file` in `dir`, then commits the
 * manifest `build` makes from the published file's path (commitManifest) and returns it.
 */
export function publishSnapshot<M extends object>(
  dir: string,
  tmp: string,
  file: string,
  manifestFile: string,
  build: (path: string) => M,
): M {
  fsyncPath(tmp);
  const path = join(dir, file);
  renameSync(tmp, path);
  const manifest = build(path);
  commitManifest(dir, manifestFile, manifest);
  return manifest;
}

/** The commit point of a snapshot: its manifest written to a temp file, fsynced, renamed in place; then the folder fsynced. */
function commitManifest(dir: string, path: string, manifest: object): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest, null, 2));
  fsyncPath(tmp);
  renameSync(tmp, path);
  fsyncPath(dir);
}

export type LoadResult = { index: PrefixIndex; manifest: Manifest } | { index: null; reason: string };

/** Loads a snapshot if it is present, intact and matches; otherwise says why not (never throws). */
export function loadSnapshot(
  dir: string,
  collectionId: number,
  indexDim: number,
  params: HnswParams,
  highestIssuedSeq: number,
): LoadResult {
  const mpath = manifestPath(dir, collectionId);
  if (!existsSync(mpath)) return { index: null, reason: 'no snapshot' };
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(mpath, 'utf8')) as Manifest;
  } catch {
    return { index: null, reason: 'manifest unreadable' };
  }
  if (manifest.format !== SNAPSHOT_FORMAT || manifest.collectionId !== collectionId)
    return { index: null, reason: 'manifest of another format or collection' };
  if (manifest.indexDim !== indexDim || manifest.m !== params.m || manifest.efConstruction !== params.efConstruction) {
    return { index: null, reason: 'snapshot parameters differ from the collection' };
  }
  if (manifest.highestSeq > highestIssuedSeq) return { index: null, reason: 'snapshot is newer than the database' };
  const file = join(dir, manifest.file);
  if (!existsSync(file)) return { index: null, reason: 'index file missing' };
  if (statSync(file).size !== manifest.bytes) return { index: null, reason: 'index file truncated or resized' };
  if (sha256File(file) !== manifest.sha256) return { index: null, reason: 'index file checksum mismatch' };
  try {
    const index = PrefixIndex.load(file, indexDim, params);
    if (index.elementCount !== manifest.elements) return { index: null, reason: 'element count differs from manifest' };
    if (index.deletedCount !== manifest.deleted) return { index: null, reason: 'deleted count differs from manifest' };
    return { index, manifest };
  } catch (err) {
    return { index: null, reason: `index unreadable: ${(err as Error).message}` };
  }
}

/**
 * Deletes a collection's snapshot files (all, or all but `keep` and the manifest). `prefix`
 * names the structure: `c` the index, `m` the resident matrix (matrix-snapshot.ts).
 */
export function removeSnapshotFiles(dir: string, collectionId: number, keep?: string, prefix = 'c'): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(`${prefix}${collectionId}.`) || f === keep) continue;
    if (keep && f === `${prefix}${collectionId}.manifest.json`) continue;
    try {
      unlinkSync(join(dir, f));
    } catch {
      /* already gone */
    }
  }
}
