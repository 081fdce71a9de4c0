import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RouteDeps } from '../route-deps.js';
import { errorResponses } from '../schemas/common.js';

const Manifest = Type.Object({
  name: Type.String(),
  loader: Type.String(),
  input: Type.Unknown(),
  dim: Type.Integer(),
  nesting: Type.Array(Type.Integer()),
  objective: Type.String(),
  training: Type.Unknown(),
  metrics: Type.Unknown(),
  classes: Type.Optional(Type.Array(Type.String())),
  createdAt: Type.String(),
});

/** The shipped encoders and POST /embed (truncate to `dims`, then normalise). */
export const modelRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { encoders, config } = ctx;

  app.get(
    '/models',
    {
      schema: { tags: ['models'], response: { 200: Type.Object({ models: Type.Array(Manifest) }) } },
    },
    async () => ({ models: encoders.list() }),
  );

  app.post(
    '/embed',
    {
      schema: {
        tags: ['models'],
        body: Type.Object(
          {
            model: Type.String({ minLength: 1 }),
            inputs: Type.Array(Type.Unknown(), {
              minItems: 1,
              maxItems: config.http.maxEmbedBatch,
              description: '28×28 arrays of 0..255 or base64 PNG for images; strings for text',
            }),
            dims: Type.Optional(Type.Integer({ description: 'truncate to this prefix and renormalise (1..D)' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ model: Type.String(), dims: Type.Integer(), embeddings: Type.Array(Type.Array(Type.Number())) }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const { model, inputs, dims } = req.body;
      return { model, ...(await encoders.embedAtDims(model, inputs, dims)) };
    },
  );
};
