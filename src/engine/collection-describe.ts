import type { CollectionRuntime } from './collection-runtime.js';
import type { RowCache } from './row-cache.js';

/** A collection as `describe` shows it: its record, row count, index state and memory by structure. */
export function describeCollection(rt: CollectionRuntime, rows: RowCache) {
  return {
    ...rt.record,
    count: rt.count,
    index: {
      state: 'ready',
      dims: rt.index.dim,
      elements: rt.index.elementCount,
      deleted: rt.index.deletedCount,
      pending: rt.pending.size,
      unsnapshotted: rt.dirty,
      lastOpen: rt.lastOpen ?? null,
    },
    memory: memoryOf(rt, rows),
  };
}

/** Bytes per structure: the index (estimate), the resident matrix in all and by part, cached result rows. */
function memoryOf(rt: CollectionRuntime, rows: RowCache) {
  return { indexBytes: rt.index.bytes, ...rt.matrix.memory, metadataCacheBytes: rows.bytes };
}
