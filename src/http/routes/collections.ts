import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RouteDeps } from '../route-deps.js';
import { canSee } from '../auth.js';
import { errorResponses } from '../schemas/common.js';
import { Collection, CollectionDetail, CreateCollectionBody, NameParams, UpdateCollectionBody } from '../schemas/collections.js';

export const collectionRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const engine = ctx.engine;
  const withCount = <T extends { name: string; id: number }>(c: T) => ({
    ...c,
    count: engine.isLoaded(c.name) ? engine.runtime(c.name).count : 0,
    quality: ctx.data.quality.verdict(c.id),
    ...ctx.reads.layout(c.name),
  });

  app.post(
    '/collections',
    {
      schema: { tags: ['collections'], body: CreateCollectionBody, response: { 201: Collection, ...errorResponses } },
    },
    async (req, reply) => reply.status(201).send(withCount(await ctx.writes.createCollection(req.body))),
  );

  app.get(
    '/collections',
    {
      schema: { tags: ['collections'], response: { 200: Type.Object({ collections: Type.Array(Collection) }) } },
    },
    async (req) => ({
      collections: engine
        .listCollections()
        .filter((c) => canSee(req, c.name))
        .map(withCount),
    }),
  );

  app.get(
    '/collections/:name',
    {
      schema: { tags: ['collections'], params: NameParams, response: { 200: CollectionDetail, ...errorResponses } },
    },
    async (req) => ({ ...(await engine.describeWithWorkers(req.params.name)), ...ctx.reads.layout(req.params.name) }),
  );

  app.patch(
    '/collections/:name',
    {
      schema: { tags: ['collections'], params: NameParams, body: UpdateCollectionBody, response: { 200: Collection, ...errorResponses } },
    },
    async (req) => withCount(await ctx.writes.setIndexedFields(req.params.name, req.body.indexedFields)),
  );

  app.delete(
    '/collections/:name',
    {
      schema: { tags: ['collections'], params: NameParams, response: { 200: Type.Object({ dropped: Type.String() }), ...errorResponses } },
    },
    async (req) => {
      await ctx.writes.dropCollection(req.params.name);
      return { dropped: req.params.name };
    },
  );
};
