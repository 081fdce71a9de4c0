import { Type } from '@sinclair/typebox';

/** POST /v1/embeddings, as OpenAI's embeddings API defines it (token-array inputs are not accepted). */
export const EmbeddingsBody = (maxInputs: number) =>
  Type.Object(
    {
      model: Type.String({ minLength: 1, description: 'a model of GET /models, e.g. text-mrl' }),
      input: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: maxInputs })], {
        description: 'text, or a base64 PNG for an image model; or an array of them',
      }),
      dimensions: Type.Optional(Type.Integer({ description: 'truncate to this prefix and renormalise (1..D), as /embed dims' })),
      encoding_format: Type.Optional(
        Type.Union([Type.Literal('float'), Type.Literal('base64')], {
          description: "base64: each embedding's little-endian float32 bytes",
        }),
      ),
      user: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  );

export const EmbeddingsReply = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(
    Type.Object({
      object: Type.Literal('embedding'),
      index: Type.Integer(),
      embedding: Type.Union([Type.Array(Type.Number()), Type.String()]),
    }),
  ),
  model: Type.String(),
  usage: Type.Object({ prompt_tokens: Type.Integer(), total_tokens: Type.Integer() }),
});
