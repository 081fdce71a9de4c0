import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MrlError } from '../../errors.js';
import type { RouteDeps } from '../route-deps.js';
import { errorResponses } from '../schemas/common.js';
import { Item, ItemParams } from '../schemas/items.js';

export const itemRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const engine = ctx.engine;

  app.get('/collections/:name/items/:id', {
    schema: { tags: ['items'], params: ItemParams, response: { 200: Item, ...errorResponses } },
  }, async (req) => engine.getItem(req.params.name, req.params.id));

  app.delete('/collections/:name/items/:id', {
    schema: { tags: ['items'], params: ItemParams, response: { 200: Type.Object({ deleted: Type.Integer() }), ...errorResponses } },
  }, async (req) => {
    const r = await engine.deleteItems(req.params.name, [req.params.id]);
    if (r.deleted === 0) throw new MrlError('ITEM_NOT_FOUND', { id: req.params.id, collection: req.params.name });
    return { deleted: r.deleted };
  });
};
