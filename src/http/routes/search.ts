import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { SearchOptions } from '../../core/funnel.js';
import type { Engine, Query, SearchResponse } from '../../engine/engine.js';
import { MrlError, mrlError } from '../../errors.js';
import type { RouteDeps } from '../app.js';
import { errorResponses } from '../schemas/common.js';
import { SearchBody, SearchQuery, SearchReply } from '../schemas/search.js';

export const DEFAULT_COLLECTION = 'default';

interface QueryFields { collection?: string; vector?: number[]; input?: unknown; q?: string; id?: string }

/** One of vector, input (or q) and id; input needs the collection's encoder. */
function toQuery(engine: Engine, collection: string, f: QueryFields): Query {
  const input = f.input ?? f.q;
  const given = [f.vector !== undefined, input !== undefined, f.id !== undefined].filter(Boolean).length;
  if (given !== 1) throw mrlError('VALIDATION', 'give exactly one of vector, q/input and id');
  if (input !== undefined) {
    const enc = engine.runtime(collection).record.encoder;
    if (enc === null) throw new MrlError('NO_ENCODER', { collection });
    throw new MrlError('UNKNOWN_ENCODER', { encoder: enc });
  }
  return f.vector !== undefined ? { vector: f.vector } : { id: f.id };
}

export const searchRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx, metrics }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { engine, config } = ctx;
  const caps = { maxK: config.http.maxK, maxShortlist: config.http.maxShortlist };

  const observe = (collection: string, r: SearchResponse) => {
    for (const s of r.stages) metrics.stageSeconds.observe({ collection, source: s.source, dims: String(s.dims) }, s.ms / 1000);
    return r;
  };

  app.get('/search', {
    schema: { tags: ['search'], querystring: SearchQuery(caps), response: { 200: SearchReply, ...errorResponses } },
  }, async (req) => {
    const { collection = DEFAULT_COLLECTION, q, id, ...rest } = req.query;
    const opts: SearchOptions = { k: rest.k, shortlist: rest.shortlist, rerank: rest.rerank, exact: rest.exact };
    return observe(collection, await engine.search(collection, toQuery(engine, collection, { q, id }), opts));
  });

  app.post('/search', {
    schema: { tags: ['search'], body: SearchBody(caps), response: { 200: SearchReply, ...errorResponses } },
  }, async (req) => {
    const { collection = DEFAULT_COLLECTION, vector, input, id, ...rest } = req.body;
    const opts: SearchOptions = { k: rest.k, shortlist: rest.shortlist, rerank: rest.rerank, funnel: rest.funnel, firstStage: rest.firstStage, exact: rest.exact };
    return observe(collection, await engine.search(collection, toQuery(engine, collection, { vector, input, id }), opts));
  });
};
