import { Type } from '@sinclair/typebox';
import { CollectionName } from './common.js';

export const Verdict = Type.Union([Type.Literal('matryoshka'), Type.Literal('weak'), Type.Literal('not-matryoshka')]);

export const QualityQuery = Type.Object(
  {
    refresh: Type.Optional(Type.Boolean({ description: 'recompute even when a report is stored' })),
    sample: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, description: 'leave-one-out queries (default 500); recomputes' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
  },
  { additionalProperties: false },
);

const Prefix = Type.Object({
  dims: Type.Integer(),
  recallAt10: Type.Number({ description: 'exact search at d against exact full-D' }),
  shortlistRecall: Type.Number({ description: 'share of the full-D top-10 inside the exact top-100 at d' }),
  rotatedShortlistRecall: Type.Number({ description: 'the same after a seeded random rotation (no order in the dims)' }),
  gain: Type.Number({ description: '(b − c) / (1 − c)' }),
  shortlistFor099: Type.Union([Type.Integer(), Type.Literal('> 2000')], {
    description: 'shortlist at d for recall 0.99 after a full-D rerank',
  }),
});

export const QualityReportSchema = Type.Object({
  collection: Type.String(),
  dim: Type.Integer(),
  items: Type.Integer(),
  sampleRows: Type.Integer(),
  queries: Type.Integer(),
  seed: Type.Integer(),
  prefixes: Type.Array(Prefix),
  maxGain: Type.Number(),
  verdict: Verdict,
  recommendation: Type.String(),
  adapted: Type.Optional(
    Type.Object(
      {
        source: Type.Union([Type.String(), Type.Null()]),
        method: Type.String(),
        before: Type.Union([
          Type.Null(),
          Type.Object({
            verdict: Verdict,
            maxGain: Type.Number(),
            recallAt10: Type.Array(Type.Object({ dims: Type.Integer(), recallAt10: Type.Number() })),
          }),
        ]),
      },
      { description: "for a collection made by adapt: its source and the source's figures before the rotation" },
    ),
  ),
  ms: Type.Number(),
  createdAt: Type.String(),
});

const AuditStage = Type.Object({
  stage: Type.Integer(),
  dims: Type.Integer(),
  source: Type.String(),
  recallAt10: Type.Number(),
  dropped: Type.Integer(),
});

export const QualityReplySchema = Type.Intersect([
  QualityReportSchema,
  Type.Object({
    audit: Type.Object({ searches: Type.Integer(), recallAt10: Type.Union([Type.Number(), Type.Null()]), byStage: Type.Array(AuditStage) }),
    targetRecall: Type.Union([Type.Number(), Type.Null()]),
  }),
]);

export const AdaptBody = Type.Object(
  {
    target: CollectionName,
    method: Type.Optional(Type.Literal('pca')),
    sample: Type.Optional(Type.Integer({ minimum: 2, maximum: 1_000_000, description: 'rows the rotation is fitted on (default 20000)' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
  },
  { additionalProperties: false },
);

export const AdaptReply = Type.Object({
  source: Type.String(),
  target: Type.String(),
  method: Type.Literal('pca'),
  copied: Type.Integer(),
  sampleRows: Type.Integer(),
  topEigenvalues: Type.Array(Type.Number()),
  ms: Type.Number(),
  before: QualityReportSchema,
  after: QualityReportSchema,
});

/** What GET /collections shows of a collection's stored report. */
export const QualitySummary = Type.Union([Type.Null(), Type.Object({ verdict: Verdict, maxGain: Type.Number(), items: Type.Integer() })]);
