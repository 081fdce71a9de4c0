import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MrlError } from '../../errors.js';
import type { RouteDeps } from '../route-deps.js';
import { errorResponses } from '../schemas/common.js';
import { Item, ItemParams, ItemPatchBody, ShardSeqs } from '../schemas/items.js';

export const itemRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/collections/:name/items/:id',
    {
      schema: { tags: ['items'], params: ItemParams, response: { 200: Item, ...errorResponses } },
    },
    async (req) => ctx.reads.getItem(req.params.name, req.params.id),
  );

  app.patch(
    '/collections/:name/items/:id',
    {
      schema: { tags: ['items'], params: ItemParams, body: ItemPatchBody, response: { 200: Item, ...errorResponses } },
    },
    async (req) => ctx.writes.patchItem(req.params.name, req.params.id, req.body),
  );

  app.delete(
    '/collections/:name/items/:id',
    {
      schema: {
        tags: ['items'],
        params: ItemParams,
        response: { 200: Type.Object({ deleted: Type.Integer(), seqs: Type.Optional(ShardSeqs) }), ...errorResponses },
      },
    },
    async (req) => {
      const r = await ctx.writes.deleteItem(req.params.name, req.params.id);
      if (r.deleted === 0) throw new MrlError('ITEM_NOT_FOUND', { id: req.params.id, collection: req.params.name });
      return { deleted: r.deleted, ...('seqs' in r && r.seqs ? { seqs: r.seqs } : {}) };
    },
  );
};
