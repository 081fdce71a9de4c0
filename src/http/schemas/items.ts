import { Type } from '@sinclair/typebox';
import { CollectionName, Vector } from './common.js';

const Wait = Type.Boolean({ description: 'cluster mode: answer once this node has applied the write (one node always has)' });

/** Cluster mode: the stream sequence of each touched shard, to pass back as a search's consistency.after. */
export const ShardSeqs = Type.Record(Type.String({ pattern: '^[0-9]+$' }), Type.Integer({ minimum: 0 }));

export const IngestItem = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 256 }),
    vector: Type.Optional(Vector),
    input: Type.Optional(Type.Unknown({ description: "input for the collection's encoder" })),
    label: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    payload: Type.Optional(Type.Unknown()),
    text: Type.Optional(Type.Union([Type.String({ description: 'keyword text (at most 64 KB), indexed with FTS5' }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const IngestBody = (maxBatch: number) =>
  Type.Object(
    {
      collection: CollectionName,
      items: Type.Array(IngestItem, { minItems: 1, maxItems: maxBatch }),
      wait: Type.Optional(Wait),
    },
    { additionalProperties: false },
  );

export const IngestQuery = Type.Object({ collection: Type.Optional(CollectionName), wait: Type.Optional(Wait) });

export const LineError = Type.Object({ line: Type.Integer(), code: Type.String(), message: Type.String() });

export const IngestReply = Type.Object({
  collection: Type.String(),
  upserted: Type.Integer(),
  lines: Type.Optional(Type.Integer()),
  failed: Type.Optional(Type.Integer()),
  errors: Type.Optional(Type.Array(LineError)),
  seqs: Type.Optional(ShardSeqs),
  ms: Type.Number(),
});

export const ItemParams = Type.Object({ name: CollectionName, id: Type.String({ minLength: 1, maxLength: 256 }) });

export const Item = Type.Object({
  id: Type.String(),
  label: Type.Union([Type.String(), Type.Null()]),
  payload: Type.Unknown(),
  text: Type.Union([Type.String(), Type.Null()]),
  vector: Type.Array(Type.Number()),
});

/** A metadata update: the vector stays, nothing is re-embedded. */
export const ItemPatchBody = Type.Object(
  {
    label: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    payload: Type.Optional(Type.Unknown()),
    text: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
