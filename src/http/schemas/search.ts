import { Type } from '@sinclair/typebox';
import { CollectionName, FunnelStep, Vector } from './common.js';

export interface Caps { maxK: number; maxShortlist: number }

export const SearchQuery = (c: Caps) => Type.Object({
  collection: Type.Optional(CollectionName),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  k: Type.Optional(Type.Integer({ minimum: 1, maximum: c.maxK })),
  shortlist: Type.Optional(Type.Integer({ minimum: 1, maximum: c.maxShortlist })),
  rerank: Type.Optional(Type.Integer({ minimum: 1 })),
  ef: Type.Optional(Type.Integer({ minimum: 1, maximum: c.maxShortlist, description: 'HNSW beam width of the index stage' })),
  exact: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export const SearchBody = (c: Caps) => Type.Object({
  collection: Type.Optional(CollectionName),
  vector: Type.Optional(Vector),
  input: Type.Optional(Type.Unknown()),
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  k: Type.Optional(Type.Integer({ minimum: 1, maximum: c.maxK })),
  shortlist: Type.Optional(Type.Integer({ minimum: 1, maximum: c.maxShortlist })),
  rerank: Type.Optional(Type.Integer({ minimum: 1 })),
  funnel: Type.Optional(Type.Array(FunnelStep, { minItems: 1, maxItems: 16 })),
  firstStage: Type.Optional(Type.Union([Type.Literal('index'), Type.Literal('exact')])),
  ef: Type.Optional(Type.Integer({ minimum: 1, maximum: c.maxShortlist, description: 'HNSW beam width of the index stage' })),
  exact: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export const SearchReply = Type.Object({
  results: Type.Array(Type.Object({
    id: Type.String(), score: Type.Number(), label: Type.Union([Type.String(), Type.Null()]), payload: Type.Unknown(),
  })),
  stages: Type.Array(Type.Object({ dims: Type.Integer(), source: Type.String(), candidates: Type.Integer(), ms: Type.Number() })),
  ms: Type.Number(),
});
