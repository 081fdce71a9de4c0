import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ResidentMatrix } from '../core/resident-matrix.js';
import { loadMatrixSnapshot } from '../index/matrix-snapshot.js';
import { PrefixIndex } from '../index/prefix-index.js';
import { loadSnapshot } from '../index/snapshot.js';
import type { CollectionRecord } from '../store/collections.js';
import type { ItemStore } from '../store/items.js';
import type { VectorsBySeq } from '../search/sources.js';

/** How a collection's caches were opened: from snapshots or rebuilt, and what was replayed. */
export interface OpenReport {
  /** The index snapshot was used. */
  loadedSnapshot: boolean;
  reason: string;
  /** Rows queued for the index (the store's rows the index snapshot lacked). */
  replayed: number;
  /** Index labels removed (rows deleted or replaced behind the snapshot). */
  removed: number;
  rows: number;
  ms: number;
  matrix: { loadedSnapshot: boolean; reason: string; replayed: number; removed: number };
}

/** Rows per page when loading: bounds event-loop stalls. */
export const LOAD_PAGE = 2000;

/** What the loader fills in of the runtime it assembles (collection-runtime.ts). */
export interface Loaded {
  highestSeq: number;
  dirty: number;
  matrixDirty: number;
  lastOpen?: OpenReport;
  resyncIndex(vectors: VectorsBySeq): { queued: number; removed: number };
}

/**
 * Opens a collection's caches. The matrix: a valid snapshot, then the store's changes behind it
 * (rows it lacks are read, rows no longer stored are dropped), or every row read from the store.
 * The index: a valid snapshot or an empty graph, then resynced with the matrix (the rows it
 * lacks are indexed in the background and searched exactly until then).
 */
export async function openCollection<R extends Loaded>(
  record: CollectionRecord,
  items: ItemStore,
  dir: string,
  assemble: (index: PrefixIndex, matrix: ResidentMatrix) => R,
  shared = false,
): Promise<R> {
  const t0 = performance.now();
  const highestIssuedSeq = items.highestIssuedSeq();
  const msnap = loadMatrixSnapshot(dir, record.id, {
    width: record.residentDim,
    nesting: record.nesting,
    highestIssuedSeq,
    type: record.residentType,
    shared,
  });
  let matrix: ResidentMatrix;
  let lastSeq: number;
  let mreport: OpenReport['matrix'];
  if (msnap.matrix) {
    matrix = msnap.matrix;
    const r = await replayMatrix(matrix, items, record.id, msnap.manifest.lastSeq);
    lastSeq = Math.max(msnap.manifest.lastSeq, r.lastSeq);
    mreport = { loadedSnapshot: true, reason: 'snapshot loaded', replayed: r.added, removed: r.removed };
  } else {
    matrix = new ResidentMatrix(record.residentDim, record.nesting, items.count(record.id), { type: record.residentType, shared });
    lastSeq = await readPages(matrix, items, record.id, 0);
    mreport = { loadedSnapshot: false, reason: msnap.reason, replayed: matrix.size, removed: 0 };
  }
  const isnap = loadSnapshot(dir, record.id, record.indexDim, record.hnsw, highestIssuedSeq);
  const index = isnap.index ?? PrefixIndex.create(record.indexDim, record.hnsw, matrix.size);
  const rt = assemble(index, matrix);
  rt.highestSeq = Math.max(lastSeq, isnap.index ? isnap.manifest.highestSeq : 0);
  const sync = rt.resyncIndex(items);
  rt.dirty = isnap.index ? sync.queued + sync.removed : Math.max(1, matrix.size);
  rt.matrixDirty = msnap.matrix ? mreport.replayed + mreport.removed : Math.max(1, matrix.size);
  rt.lastOpen = {
    loadedSnapshot: isnap.index !== null,
    reason: isnap.index ? 'snapshot loaded' : isnap.reason,
    replayed: sync.queued,
    removed: sync.removed,
    rows: matrix.size,
    ms: performance.now() - t0,
    matrix: mreport,
  };
  return rt;
}

/** Adds the store's rows after `afterSeq` to the matrix, a page at a time; the last seq read. */
async function readPages(matrix: ResidentMatrix, items: ItemStore, collectionId: number, afterSeq: number): Promise<number> {
  let last = afterSeq;
  for (let page = items.page(collectionId, last, LOAD_PAGE); page.length; page = items.page(collectionId, last, LOAD_PAGE)) {
    for (const { seq, vector } of page) matrix.add(seq, vector);
    last = page[page.length - 1].seq;
    await yieldToLoop();
  }
  return last;
}

/**
 * Brings a restored matrix to the store's state: its rows the store no longer holds are removed,
 * the store's rows it lacks are read (those after the snapshot's last seq by pages, any older
 * ones by seq). Seqs are never reused and a row never changes in place, so this is exact.
 */
async function replayMatrix(matrix: ResidentMatrix, items: ItemStore, collectionId: number, snapshotSeq: number) {
  const live = new Set(items.seqs(collectionId));
  let removed = 0;
  for (const seq of Array.from(matrix.slotSeq.subarray(0, matrix.size))) if (!live.has(seq) && matrix.remove(seq)) removed++;
  const before = matrix.size;
  const older = [...live].filter((seq) => seq <= snapshotSeq && !matrix.has(seq));
  for (let i = 0; i < older.length; i += LOAD_PAGE) {
    for (const [seq, v] of items.vectorsBySeqs(older.slice(i, i + LOAD_PAGE))) matrix.add(seq, v);
    await yieldToLoop();
  }
  const lastSeq = await readPages(matrix, items, collectionId, snapshotSeq);
  return { added: matrix.size - before, removed, lastSeq };
}
