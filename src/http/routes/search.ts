import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { SearchOptions } from '../../search/options.js';
import type { SearchResponse } from '../../search/search.js';
import type { QueryInput } from '../../inputs/embed.js';
import type { RouteDeps } from '../route-deps.js';
import { DEFAULT_COLLECTION } from '../../context.js';
import { filterParam } from '../../search/filter/param.js';
import { mrlError } from '../../errors.js';
import { errorResponses } from '../schemas/common.js';
import { SearchBody, SearchQuery, SearchReply } from '../schemas/search.js';

interface QueryFields {
  collection?: string;
  vector?: number[];
  input?: unknown;
  q?: string;
  id?: string;
}

/** One of vector, input (q in a query string) and id; the engine checks that exactly one is given. */
function toQuery(f: QueryFields): QueryInput {
  return { vector: f.vector, input: f.input ?? f.q, id: f.id };
}

export const searchRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx, metrics }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { config } = ctx;
  const caps = { maxK: config.http.maxK, maxShortlist: config.http.maxShortlist };

  const observe = (collection: string, r: SearchResponse) => {
    for (const s of r.stages) metrics.stageSeconds.observe({ collection, source: s.source, dims: String(s.dims) }, s.ms / 1000);
    return r;
  };

  app.get(
    '/search',
    {
      schema: { tags: ['search'], querystring: SearchQuery(caps), response: { 200: SearchReply, ...errorResponses } },
    },
    async (req) => {
      const { collection = DEFAULT_COLLECTION, q, id, ...rest } = req.query;
      if (rest.hybrid && (q === undefined || rest.text !== undefined))
        throw mrlError('VALIDATION', 'hybrid=true uses q as the keyword query too: give q and no text');
      const text = rest.hybrid ? q : rest.text;
      const opts: SearchOptions = {
        k: rest.k,
        shortlist: rest.shortlist,
        rerank: rest.rerank,
        ef: rest.ef,
        exact: rest.exact,
        filter: filterParam(rest.filter),
        text,
        refine: rest.refine,
        recall: rest.recall,
      };
      return observe(collection, await ctx.reads.search(collection, toQuery({ q, id }), opts));
    },
  );

  app.post(
    '/search',
    {
      schema: { tags: ['search'], body: SearchBody(caps), response: { 200: SearchReply, ...errorResponses } },
    },
    async (req) => {
      const { collection = DEFAULT_COLLECTION, vector, input, id, consistency, allowPartial, ...rest } = req.body;
      const opts: SearchOptions = {
        k: rest.k,
        shortlist: rest.shortlist,
        rerank: rest.rerank,
        ef: rest.ef,
        funnel: rest.funnel,
        firstStage: rest.firstStage,
        exact: rest.exact,
        filter: rest.filter,
        text: rest.text,
        textSyntax: rest.textSyntax,
        fusion: rest.fusion,
        candidates: rest.candidates,
        refine: rest.refine,
        recall: rest.recall,
        adaptive: rest.adaptive,
      };
      return observe(collection, await ctx.reads.search(collection, toQuery({ vector, input, id }), opts, { consistency, allowPartial }));
    },
  );
};
