import { Type } from '@sinclair/typebox';
import { CollectionName, FunnelStep, Vector } from './common.js';
import { ShardSeqs } from './items.js';

/** Cluster mode: read your writes (wait until the answering replicas applied these sequences), or accept missing shards. */
const ClusterReadOptions = {
  consistency: Type.Optional(
    Type.Object(
      {
        after: Type.Optional(ShardSeqs),
        timeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
      },
      { additionalProperties: false },
    ),
  ),
  allowPartial: Type.Optional(
    Type.Boolean({ description: 'cluster mode: answer from the shards that have a live replica, flagged partial' }),
  ),
};

export interface Caps {
  maxK: number;
  maxShortlist: number;
}

/** The options the GET and POST forms share: the query item, result count and the stages' sizes. */
const queryOptions = (c: Caps) => ({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  k: Type.Optional(Type.Integer({ minimum: 1, maximum: c.maxK })),
  shortlist: Type.Optional(Type.Integer({ minimum: 1, maximum: c.maxShortlist })),
  rerank: Type.Optional(Type.Integer({ minimum: 1 })),
});

/** The index stage's beam width, or an exact first stage (both forms). */
const stageOptions = (c: Caps) => ({
  ef: Type.Optional(Type.Integer({ minimum: 1, maximum: c.maxShortlist, description: 'HNSW beam width of the index stage' })),
  exact: Type.Optional(Type.Boolean()),
});

/** A refine stage and a recall target (both forms). */
const tuningOptions = (c: Caps) => ({
  refine: Type.Optional(
    Type.Integer({ minimum: 0, maximum: c.maxShortlist, description: 'rescore the best few from the full vectors (0 = off)' }),
  ),
  recall: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'recall@10 target: the cheapest configuration of the latest sweep meeting it',
    }),
  ),
});

export const SearchQuery = (c: Caps) =>
  Type.Object(
    {
      collection: Type.Optional(CollectionName),
      q: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
      ...queryOptions(c),
      ...stageOptions(c),
      filter: Type.Optional(Type.String({ maxLength: 100_000, description: 'a filter as JSON, as in the POST body' })),
      text: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000, description: 'keyword query (BM25); with q, a hybrid search' })),
      hybrid: Type.Optional(Type.Boolean({ description: 'use q as the keyword query too (a text-encoder collection)' })),
      ...tuningOptions(c),
    },
    { additionalProperties: false },
  );

const Fusion = Type.Object(
  {
    method: Type.Optional(Type.Union([Type.Literal('rrf'), Type.Literal('blend')])),
    k: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000, description: 'RRF constant (default 60)' })),
    weights: Type.Optional(
      Type.Object(
        {
          vector: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
          text: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const SearchBody = (c: Caps) =>
  Type.Object(
    {
      collection: Type.Optional(CollectionName),
      vector: Type.Optional(Vector),
      input: Type.Optional(Type.Unknown()),
      ...queryOptions(c),
      funnel: Type.Optional(Type.Array(FunnelStep, { minItems: 1, maxItems: 16 })),
      adaptive: Type.Optional(
        Type.Union(
          [
            Type.Boolean(),
            Type.Object(
              {
                ratio: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10 })),
                cap: Type.Optional(Type.Integer({ minimum: 1, maximum: c.maxShortlist })),
              },
              { additionalProperties: false },
            ),
          ],
          { description: 'widen the shortlist (doubling, up to cap) while its boundary is crowded' },
        ),
      ),
      firstStage: Type.Optional(Type.Union([Type.Literal('index'), Type.Literal('exact')])),
      ...stageOptions(c),
      filter: Type.Optional(Type.Unknown({ description: 'Mongo-style filter over id, label and payload.<path> (README: Filters)' })),
      text: Type.Optional(
        Type.String({ minLength: 1, maxLength: 10_000, description: 'keyword query: alone BM25, with a vector query hybrid' }),
      ),
      textSyntax: Type.Optional(Type.Union([Type.Literal('plain'), Type.Literal('fts5')])),
      fusion: Type.Optional(Fusion),
      candidates: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 1000, description: 'depth of each list of a hybrid search (default 100)' }),
      ),
      ...tuningOptions(c),
      ...ClusterReadOptions,
    },
    { additionalProperties: false },
  );

const Stages = Type.Array(
  Type.Object({
    dims: Type.Integer(),
    source: Type.String(),
    candidates: Type.Integer(),
    ms: Type.Number(),
    widened: Type.Optional(Type.Integer({ description: 'the shortlist an adaptive first stage widened to' })),
  }),
);
const ListPlace = Type.Object({ rank: Type.Integer(), score: Type.Number() });

export const SearchReply = Type.Object({
  results: Type.Array(
    Type.Object({
      id: Type.String(),
      score: Type.Number(),
      label: Type.Union([Type.String(), Type.Null()]),
      payload: Type.Unknown(),
      sources: Type.Optional(Type.Object({ vector: Type.Optional(ListPlace), text: Type.Optional(ListPlace) })),
    }),
  ),
  stages: Stages,
  mode: Type.Optional(Type.String({ description: 'vector, keyword or hybrid' })),
  filter: Type.Optional(
    Type.Object({ plan: Type.String(), matched: Type.Integer(), selectivity: Type.Number(), fallback: Type.Boolean() }),
  ),
  keyword: Type.Optional(Type.Object({ candidates: Type.Integer(), ms: Type.Number() })),
  shards: Type.Optional(
    Type.Array(Type.Object({ node: Type.String(), shards: Type.Array(Type.Integer()), ms: Type.Number(), stages: Stages })),
  ),
  partial: Type.Optional(Type.Boolean()),
  missingShards: Type.Optional(Type.Array(Type.Integer())),
  ms: Type.Number(),
});
