import { Type } from '@sinclair/typebox';
import { CollectionName } from './common.js';
import { QualitySummary } from './quality.js';

const IndexedFields = Type.Array(Type.String({ minLength: 1, maxLength: 520 }), {
  maxItems: 16,
  description: 'payload paths with an SQLite index, e.g. ["year", "meta.lang"]',
});

export const CreateCollectionBody = Type.Object(
  {
    name: CollectionName,
    dim: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192, description: 'required unless an encoder gives it' })),
    indexDim: Type.Optional(Type.Integer({ minimum: 1 })),
    rerankDim: Type.Optional(Type.Integer({ minimum: 1 })),
    residentDim: Type.Optional(Type.Integer({ minimum: 1 })),
    // Checked by the engine (INVALID_COLLECTION names the allowed values).
    residentType: Type.Optional(Type.String({ description: 'f32 (default), f16 or int8: how the resident rerank rows are held' })),
    nesting: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 64 })),
    encoder: Type.Optional(Type.String()),
    targetRecall: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'recall@10 searches aim for (needs a stored sweep)' }),
    ),
    hnsw: Type.Optional(
      Type.Object(
        {
          m: Type.Optional(Type.Integer()),
          efConstruction: Type.Optional(Type.Integer()),
          efSearch: Type.Optional(Type.Integer()),
        },
        { additionalProperties: false },
      ),
    ),
    indexedFields: Type.Optional(IndexedFields),
    storeText: Type.Optional(Type.Boolean({ description: 'keep a text input as the item text (default true)' })),
    shards: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 256, description: 'cluster mode: fixed number of shards (ids are hashed onto them)' }),
    ),
    replicas: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 5,
        description: 'cluster mode: JetStream replicas of each shard log (default min(3, NATS servers))',
      }),
    ),
  },
  { additionalProperties: false },
);

/** Admin changes to a collection after creation. */
export const UpdateCollectionBody = Type.Object({ indexedFields: IndexedFields }, { additionalProperties: false });

export const Collection = Type.Object({
  name: Type.String(),
  dim: Type.Integer(),
  indexDim: Type.Integer(),
  rerankDim: Type.Integer(),
  residentDim: Type.Integer(),
  residentType: Type.String(),
  nesting: Type.Array(Type.Integer()),
  distance: Type.String(),
  encoder: Type.Union([Type.String(), Type.Null()]),
  hnsw: Type.Object({ m: Type.Integer(), efConstruction: Type.Integer(), efSearch: Type.Integer() }),
  searchDefaults: Type.Object({
    k: Type.Optional(Type.Integer()),
    shortlist: Type.Optional(Type.Integer()),
    rerank: Type.Optional(Type.Integer()),
    ef: Type.Optional(Type.Integer()),
    funnel: Type.Optional(Type.Array(Type.Object({ dims: Type.Integer(), keep: Type.Integer() }))),
    refine: Type.Optional(Type.Integer()),
    targetRecall: Type.Optional(Type.Number()),
  }),
  indexedFields: Type.Array(Type.String()),
  storeText: Type.Boolean(),
  createdAt: Type.String(),
  count: Type.Integer({ description: 'items on this node (in cluster mode: of the shards it serves)' }),
  quality: Type.Optional(QualitySummary),
  shards: Type.Optional(Type.Integer()),
  replicas: Type.Optional(Type.Integer()),
});

/** What one search worker holds of a collection, in bytes (estimates). */
const WorkerMemory = Type.Object({
  indexBytes: Type.Integer(),
  metadataCacheBytes: Type.Integer(),
  filterColumnsBytes: Type.Integer(),
});

export const CollectionDetail = Type.Intersect([
  Collection,
  Type.Object({
    index: Type.Object({
      state: Type.String(),
      dims: Type.Integer(),
      elements: Type.Integer(),
      deleted: Type.Integer(),
      unsnapshotted: Type.Integer(),
      pending: Type.Optional(Type.Integer({ description: 'committed rows not yet in the graph (searched exactly beside it)' })),
      searchWaits: Type.Optional(
        Type.Object(
          { count: Type.Integer(), totalMs: Type.Number(), maxMs: Type.Number() },
          { description: "searches of this thread's graph that waited for a row's insertion, since it was opened" },
        ),
      ),
      lastOpen: Type.Union([
        Type.Null(),
        Type.Object({
          loadedSnapshot: Type.Boolean(),
          reason: Type.String(),
          replayed: Type.Integer(),
          removed: Type.Integer(),
          rows: Type.Integer(),
          ms: Type.Number(),
          matrix: Type.Optional(
            Type.Object({ loadedSnapshot: Type.Boolean(), reason: Type.String(), replayed: Type.Integer(), removed: Type.Integer() }),
          ),
        }),
      ]),
    }),
    memory: Type.Object({
      indexBytes: Type.Integer(),
      matrixBytes: Type.Integer({ description: 'rowBytes + normBytes + slotBytes' }),
      rowBytes: Type.Integer(),
      normBytes: Type.Integer({ description: 'prefix norms, and int8 row scales' }),
      slotBytes: Type.Integer(),
      metadataCacheBytes: Type.Integer({ description: 'result rows cached for search hits (estimate)' }),
      filterColumnsBytes: Type.Integer({
        description: 'labels, indexed fields and index-dim prefixes held for filters (estimate; 0 until a filtered search here built them)',
      }),
      residentDim: Type.Integer(),
      residentType: Type.String(),
      workers: Type.Optional(
        Type.Object(
          {
            count: Type.Integer({ description: 'search worker threads (MRL_SEARCH_THREADS)' }),
            each: Type.Array(Type.Union([Type.Null(), WorkerMemory]), { description: 'by worker; null: it did not answer within 250 ms' }),
          },
          {
            description:
              'with the search pool on: each worker holds its own index replica, result-row cache and filter columns (the resident matrix is shared, counted once above)',
          },
        ),
      ),
    }),
  }),
]);

export const NameParams = Type.Object({ name: CollectionName });
