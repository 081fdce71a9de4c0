import type { FastifyPluginAsync } from 'fastify';
import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { Engine, ItemInput } from '../../engine/engine.js';
import { MrlError, mrlError } from '../../errors.js';
import type { RouteDeps } from '../app.js';
import { ingestNdjson } from '../ndjson.js';
import { errorResponses } from '../schemas/common.js';
import { IngestBody, IngestQuery, IngestReply } from '../schemas/items.js';

/** Items carry a vector; `input` needs the collection's encoder. */
function checkItem(engine: Engine, collection: string, it: ItemInput & { input?: unknown }): ItemInput {
  if (it.vector === undefined && it.input !== undefined) {
    const enc = engine.runtime(collection).record.encoder;
    if (enc === null) throw new MrlError('NO_ENCODER', { collection });
    throw new MrlError('UNKNOWN_ENCODER', { encoder: enc });
  }
  if (it.vector !== undefined && it.input !== undefined) throw mrlError('VALIDATION', 'give either vector or input, not both');
  if (it.vector === undefined) throw mrlError('VALIDATION', 'an item needs a vector (or an input, for a collection with an encoder)');
  return engine.checkItem(collection, it);
}

export const ingestRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { engine, config } = ctx;
  // NDJSON bodies reach the handler as the raw stream: millions of rows never sit in memory.
  app.addContentTypeParser('application/x-ndjson', (_req, payload, done) => done(null, payload));
  const jsonBody = IngestBody(config.http.maxBatch);

  app.post('/ingest', {
    bodyLimit: config.http.ingestBodyLimit,
    schema: {
      tags: ['ingest'],
      querystring: IngestQuery,
      body: { content: { 'application/json': { schema: jsonBody }, 'application/x-ndjson': { schema: {} } } } as never,
      response: { 200: IngestReply, ...errorResponses },
    },
  }, async (req) => {
    const t0 = performance.now();
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/json') && !type.startsWith('application/x-ndjson')) {
      throw new MrlError('UNSUPPORTED_MEDIA_TYPE', { type });
    }
    if (type.startsWith('application/x-ndjson')) {
      const collection = req.query.collection;
      if (!collection) throw mrlError('VALIDATION', 'NDJSON ingest needs ?collection=');
      const r = await ingestNdjson(engine, collection, req.body as Readable, {
        batch: config.http.ndjsonBatch, maxLineBytes: config.http.bodyLimit * 4, checkItem: (it) => checkItem(engine, collection, it),
      });
      return { collection, ...r, ms: performance.now() - t0 };
    }
    const body = req.body as Static<typeof jsonBody>;
    if (req.query.collection !== undefined && req.query.collection !== body.collection) throw mrlError('VALIDATION', 'collection in the query and the body differ');
    // Vectors are validated (with their item index) by the engine; here only what needs an encoder.
    body.items.forEach((it, i) => {
      if (it.vector === undefined || it.input !== undefined) {
        try {
          checkItem(engine, body.collection, it as ItemInput);
        } catch (err) {
          if (err instanceof MrlError && err.code === 'VALIDATION') throw mrlError('VALIDATION', `items[${i}]: ${err.message}`);
          throw err;
        }
      }
    });
    const items = body.items as ItemInput[];
    const r = await engine.upsertAsync(body.collection, items);
    return { collection: body.collection, upserted: r.upserted, ms: performance.now() - t0 };
  });
};
