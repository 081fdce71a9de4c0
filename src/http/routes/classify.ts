import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RouteDeps } from '../route-deps.js';
import { classifyCascade } from '../../encoders/classify-cascade.js';
import { errorResponses } from '../schemas/common.js';
import { ClassifyBody, ClassifyReply } from '../schemas/classify.js';

/** POST /classify: the MRL adaptive classification cascade over a model's heads. */
export const classifyRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/classify',
    {
      schema: { tags: ['models'], body: ClassifyBody(ctx.config.http.maxEmbedBatch), response: { 200: ClassifyReply, ...errorResponses } },
    },
    async (req) => {
      const { model, inputs, threshold, dims } = req.body;
      return { model, ...(await classifyCascade(ctx.encoders, model, inputs, { threshold, dims })) };
    },
  );
};
