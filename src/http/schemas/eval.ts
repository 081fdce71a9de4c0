import { Type } from '@sinclair/typebox';
import { CollectionName, FunnelStep } from './common.js';

const Latency = Type.Object({ p50: Type.Number(), p99: Type.Number(), mean: Type.Number() });
/** A label metric: null when no query of the evaluation has a label. */
const LabelMetric = Type.Union([Type.Number(), Type.Null()]);
const StagePlan = Type.Object({ dims: Type.Integer(), keep: Type.Integer(), source: Type.String(), ef: Type.Optional(Type.Integer()) });
const SearchConfig = Type.Object({
  k: Type.Optional(Type.Integer()),
  shortlist: Type.Optional(Type.Integer()),
  rerank: Type.Optional(Type.Integer()),
  ef: Type.Optional(Type.Integer()),
  funnel: Type.Optional(Type.Array(FunnelStep)),
  firstStage: Type.Optional(Type.String()),
  exact: Type.Optional(Type.Boolean()),
  filter: Type.Optional(Type.Unknown()),
  text: Type.Optional(Type.String()),
  refine: Type.Optional(Type.Integer()),
});

export const EvalQuery = Type.Object(
  {
    collection: Type.Optional(CollectionName),
    queries: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'another collection whose items are the queries' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, description: 'at most this many items of `queries`' })),
    sample: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'leave-one-out on this collection: a fraction ≤ 1 or a count > 1 of its items (default 1000)',
      }),
    ),
    seed: Type.Optional(Type.Integer({ description: 'which items the sample picks' })),
    shortlist: Type.Optional(Type.Integer({ minimum: 1 })),
    rerank: Type.Optional(Type.Integer({ minimum: 1 })),
    ef: Type.Optional(Type.Integer({ minimum: 1 })),
    funnel: Type.Optional(Type.String({ description: "'paper' or dims:keep,dims:keep,… e.g. 16:200,64:50,512:10" })),
    firstStage: Type.Optional(Type.Union([Type.Literal('index'), Type.Literal('exact')])),
    exact: Type.Optional(Type.Boolean()),
    filter: Type.Optional(
      Type.String({ maxLength: 100_000, description: 'a search filter as JSON: every query (and the exact truth) is restricted by it' }),
    ),
    text: Type.Optional(
      Type.String({ minLength: 1, maxLength: 10_000, description: 'a keyword query: every query runs as a hybrid search' }),
    ),
    async: Type.Optional(Type.Boolean({ description: 'answer 202 with a job to poll instead of waiting' })),
  },
  { additionalProperties: false },
);

export const EvalResultSchema = Type.Object({
  collection: Type.String(),
  mapAt10: LabelMetric,
  mapAt10HitNormalized: LabelMetric,
  precisionAt10: LabelMetric,
  top1: LabelMetric,
  recallAt10VsExact: Type.Number(),
  latencyMs: Latency,
  qps: Type.Number(),
  flopsPerQuery: Type.Number(),
  queries: Type.Integer(),
  unlabelledQueries: Type.Integer(),
  config: Type.Object({ search: SearchConfig, stages: Type.Array(StagePlan), indexDims: Type.Integer() }),
  ms: Type.Number(),
  createdAt: Type.String(),
});

const SweepPointSchema = Type.Object({
  indexDims: Type.Integer(),
  search: SearchConfig,
  label: Type.String(),
  mapAt10: LabelMetric,
  mapAt10HitNormalized: LabelMetric,
  recallAt10VsExact: Type.Number(),
  latencyMs: Latency,
  qps: Type.Number(),
  flopsPerQuery: Type.Number(),
  indexBytes: Type.Number(),
  pareto: Type.Boolean(),
  // Optional: sweeps stored before it existed have no such field, and must still be served.
  paretoRecall: Type.Optional(Type.Boolean()),
});

export const SweepResultSchema = Type.Object({
  collection: Type.String(),
  queries: Type.Integer(),
  // Optional: sweeps stored before they existed lack them.
  labelledQueries: Type.Optional(Type.Integer()),
  targetRecall: Type.Optional(Type.Number()),
  exact: SweepPointSchema,
  perDim: Type.Array(
    Type.Object({ dims: Type.Integer(), mapAt10: LabelMetric, top1: LabelMetric, recallAt10VsExact: Type.Number(), latencyMs: Latency }),
  ),
  points: Type.Array(SweepPointSchema),
  best: Type.Union([SweepPointSchema, Type.Null()]),
  tolerance: Type.Object({ recall: Type.Number(), mapAt10: Type.Number() }),
  applied: Type.Boolean(),
  ms: Type.Number(),
  createdAt: Type.String(),
});

const Ints = Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 32 });
export const SweepBody = Type.Object(
  {
    collection: Type.Optional(CollectionName),
    queries: Type.Optional(
      Type.Union([
        Type.Object({ collection: CollectionName, limit: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
        Type.Object({ sample: Type.Number({ exclusiveMinimum: 0 }), seed: Type.Optional(Type.Integer()) }, { additionalProperties: false }),
      ]),
    ),
    grid: Type.Optional(
      Type.Object(
        {
          indexDims: Type.Optional(Ints),
          shortlists: Type.Optional(Ints),
          rerankDims: Type.Optional(Ints),
          efs: Type.Optional(Ints),
          refines: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: 32 })),
          funnels: Type.Optional(Type.Array(Type.Array(FunnelStep, { minItems: 1, maxItems: 16 }), { maxItems: 16 })),
        },
        { additionalProperties: false },
      ),
    ),
    targetRecall: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1,
        description: 'recall@10 against exact full-D the chosen point must reach (default 0.99)',
      }),
    ),
    tolerance: Type.Optional(
      Type.Object(
        {
          recall: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'older form of targetRecall = 1 − recall' })),
          mapAt10: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    cost: Type.Optional(Type.Union([Type.Literal('latency'), Type.Literal('flops')])),
    apply: Type.Optional(Type.Boolean()),
    perDim: Type.Optional(Type.Boolean()),
    filter: Type.Optional(Type.Unknown({ description: 'every run (and the exact truth) restricted by this search filter' })),
    text: Type.Optional(
      Type.String({ minLength: 1, maxLength: 10_000, description: 'every configuration run as a hybrid search with this keyword query' }),
    ),
    async: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const JobReply = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  collection: Type.String(),
  state: Type.String(),
  progress: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  startedAt: Type.String(),
  finishedAt: Type.Optional(Type.String()),
  statusUrl: Type.String(),
});
