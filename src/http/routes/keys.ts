import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MrlError } from '../../errors.js';
import type { RouteDeps } from '../route-deps.js';
import { errorResponses } from '../schemas/common.js';
import { ApiKeyInfo, CreatedKey, CreateKeyBody, KeyParams } from '../schemas/keys.js';

/** API keys, for admins: the key is in the 201 answer and nowhere else, ever. */
export const keyRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/keys',
    {
      schema: { tags: ['keys'], body: CreateKeyBody, response: { 201: CreatedKey, ...errorResponses } },
    },
    async (req, reply) => {
      const { key, secret } = await ctx.keyWrites.create(req.body);
      return reply.status(201).send({ name: key.name, role: key.role, collections: key.collections, key: secret });
    },
  );

  app.get(
    '/keys',
    {
      schema: { tags: ['keys'], response: { 200: Type.Object({ keys: Type.Array(ApiKeyInfo) }) } },
    },
    async () => ({ keys: ctx.keys.list() }),
  );

  app.delete(
    '/keys/:name',
    {
      schema: { tags: ['keys'], params: KeyParams, response: { 204: Type.Null(), ...errorResponses } },
    },
    async (req, reply) => {
      if (!(await ctx.keyWrites.revoke(req.params.name))) throw new MrlError('KEY_NOT_FOUND', { name: req.params.name });
      return reply.status(204).send(null);
    },
  );
};
