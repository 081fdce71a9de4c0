import { Type } from '@sinclair/typebox';

export const ClassifyBody = (maxBatch: number) =>
  Type.Object(
    {
      model: Type.String({ minLength: 1 }),
      inputs: Type.Array(Type.Unknown(), {
        minItems: 1,
        maxItems: maxBatch,
        description: '28×28 arrays of 0..255 or base64 PNG (the same inputs as POST /embed)',
      }),
      threshold: Type.Optional(
        Type.Number({
          minimum: 0,
          maximum: 1,
          description: 'a head answers when its max softmax probability is above this (0..1; default 0.9)',
        }),
      ),
      dims: Type.Optional(
        Type.Array(Type.Integer(), {
          minItems: 1,
          maxItems: 64,
          description: 'cascade over these head dims only (default: every head, smallest first)',
        }),
      ),
    },
    { additionalProperties: false },
  );

export const ClassifyReply = Type.Object({
  model: Type.String(),
  threshold: Type.Number(),
  results: Type.Array(
    Type.Object({
      label: Type.String(),
      classIndex: Type.Integer(),
      confidence: Type.Number(),
      dims: Type.Integer({ description: 'the nesting dim whose head answered' }),
      dimsTried: Type.Array(Type.Integer(), { description: 'the heads run, smallest first' }),
    }),
  ),
});
