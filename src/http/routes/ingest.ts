import type { FastifyPluginAsync } from 'fastify';
import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { ItemInput } from '../../inputs/embed.js';
import { MrlError, mrlError } from '../../errors.js';
import { ingestRecords, ndjsonRecords } from '../../io/ndjson-ingest.js';
import type { RouteDeps } from '../route-deps.js';
import { errorResponses } from '../schemas/common.js';
import { IngestBody, IngestQuery, IngestReply } from '../schemas/items.js';

export const ingestRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { config } = ctx;
  // NDJSON bodies reach the handler as the raw stream: millions of rows never sit in memory.
  app.addContentTypeParser('application/x-ndjson', (_req, payload, done) => done(null, payload));
  const jsonBody = IngestBody(config.http.maxBatch);

  app.post(
    '/ingest',
    {
      bodyLimit: config.http.ingestBodyLimit,
      schema: {
        tags: ['ingest'],
        querystring: IngestQuery,
        body: { content: { 'application/json': { schema: jsonBody }, 'application/x-ndjson': { schema: {} } } } as never,
        response: { 200: IngestReply, ...errorResponses },
      },
    },
    async (req) => {
      const t0 = performance.now();
      const type = req.headers['content-type'] ?? '';
      if (!type.startsWith('application/json') && !type.startsWith('application/x-ndjson')) {
        throw new MrlError('UNSUPPORTED_MEDIA_TYPE', { type });
      }
      if (type.startsWith('application/x-ndjson')) {
        const collection = req.query.collection;
        if (!collection) throw mrlError('VALIDATION', 'NDJSON ingest needs ?collection=');
        ctx.engine.runtime(collection); // COLLECTION_NOT_FOUND before the body is read
        const wait = req.query.wait === true;
        const maxLineBytes = config.http.bodyLimit * 4;
        const body = req.body as Readable;
        // On one node the lines are parsed and committed on the ingest thread, off this one.
        const r =
          (await ctx.writes.ingest?.(collection, body, { batch: config.http.ndjsonBatch, maxLineBytes })) ??
          (await ingestRecords(ndjsonRecords(body, { maxLineBytes }), {
            batch: config.http.ndjsonBatch,
            check: (it) => ctx.checkItem(collection, it as ItemInput),
            commit: async (batch) => (await ctx.writes.upsert(collection, batch, { wait })).upserted,
          }));
        return { collection, ...r, ms: performance.now() - t0 };
      }
      const body = req.body as Static<typeof jsonBody>;
      if (req.query.collection !== undefined && req.query.collection !== body.collection)
        throw mrlError('VALIDATION', 'collection in the query and the body differ');
      const r = await ctx.writes.upsert(body.collection, body.items, { wait: body.wait === true || req.query.wait === true });
      return { collection: body.collection, upserted: r.upserted, ...(r.seqs ? { seqs: r.seqs } : {}), ms: performance.now() - t0 };
    },
  );
};
