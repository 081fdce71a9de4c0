import type { CollectionRuntime } from './collection-runtime.js';
import type { SearchPool } from './pool/search-pool.js';
import type { RowCache } from './row-cache.js';

/**
 * A collection as `describe` shows it: its record, row count, index state and memory by
 * structure in this thread (`filterColumnsBytes`: the in-memory filter columns, 0 until a
 * filtered search built them).
 */
export function describeCollection(rt: CollectionRuntime, rows: RowCache, filterColumnsBytes: number) {
  return {
    ...rt.record,
    count: rt.count,
    index: {
      state: 'ready',
      dims: rt.index.dim,
      elements: rt.pending.elementsOf(rt.index),
      deleted: rt.index.deletedCount,
      pending: rt.pending.size,
      searchWaits: rt.index.searchWaits(),
      unsnapshotted: rt.dirty,
      lastOpen: rt.lastOpen ?? null,
    },
    memory: { ...memoryOf(rt, rows), filterColumnsBytes },
  };
}

/** Bytes per structure: the index (estimate), the resident matrix in all and by part, cached result rows. */
function memoryOf(rt: CollectionRuntime, rows: RowCache) {
  return { indexBytes: rt.index.bytes, ...rt.matrix.memory, metadataCacheBytes: rows.bytes };
}

/**
 * `described` with the search pool's part, when there is one: each worker holds its own index
 * replica, result-row cache and filter columns of the collection (the resident matrix is shared,
 * counted once), so their bytes are asked of the workers; one that does not answer within the
 * pool's short wait (busy with a long search) shows as null.
 */
export async function withWorkers<D extends ReturnType<typeof describeCollection>>(described: D, pool?: SearchPool) {
  if (!pool) return described;
  const each = (await pool.memory(described.name)).map(
    (m) => m && { indexBytes: m.indexBytes, metadataCacheBytes: m.metadataCacheBytes, filterColumnsBytes: m.filterColumnsBytes },
  );
  return { ...described, memory: { ...described.memory, workers: { count: pool.threads, each } } };
}
