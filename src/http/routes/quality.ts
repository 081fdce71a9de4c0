import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RouteDeps } from '../route-deps.js';
import { NameParams } from '../schemas/collections.js';
import { errorResponses } from '../schemas/common.js';
import { AdaptBody, AdaptReply, QualityQuery, QualityReplySchema } from '../schemas/quality.js';

/** The quality guard: is a collection Matryoshka (read), and make it so with a PCA rotation (admin). */
export const qualityRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const quality = ctx.data.quality;

  app.get(
    '/collections/:name/quality',
    {
      schema: {
        tags: ['quality'],
        params: NameParams,
        querystring: QualityQuery,
        response: { 200: QualityReplySchema, ...errorResponses },
      },
    },
    async (req) => quality.report(req.params.name, req.query),
  );

  app.post(
    '/collections/:name/adapt',
    {
      schema: { tags: ['quality'], params: NameParams, body: AdaptBody, response: { 201: AdaptReply, ...errorResponses } },
    },
    async (req, reply) => reply.status(201).send(await quality.adapt(req.params.name, req.body)),
  );
};
