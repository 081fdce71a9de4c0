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

/** OpenAI's error shape, what every 4xx and 5xx of /v1/embeddings sends: `code` is the project's error code. */
export const OpenAiErrorBody = Type.Object({
  error: Type.Object({
    message: Type.String(),
    type: Type.Union([Type.Literal('invalid_request_error'), Type.Literal('server_error')]),
    param: Type.Null(),
    code: Type.String({ description: "the project's error code, e.g. UNKNOWN_ENCODER" }),
  }),
});

/** The answers /v1/embeddings documents besides 200 (those auth adds included). */
export const openAiErrorResponses = Object.fromEntries(
  [400, 401, 403, 404, 409, 413, 415, 429, 500, 503].map((s) => [s, OpenAiErrorBody]),
) as Record<400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503, typeof OpenAiErrorBody>;
