import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../context.js';
import { frameworkErrors, installErrorHandler } from './error-handler.js';
import { createMetrics } from './metrics.js';
import { installValidators } from './validators.js';
import { collectionRoutes } from './routes/collections.js';
import { healthRoutes } from './routes/health.js';
import { ingestRoutes } from './routes/ingest.js';
import { itemRoutes } from './routes/items.js';
import { searchRoutes } from './routes/search.js';
import { modelRoutes } from './routes/models.js';
import { evalRoutes } from './routes/eval.js';
import { classifyRoutes } from './routes/classify.js';
import { webRoutes } from './routes/web.js';
import { openAiRoutes } from './routes/openai.js';
import { keyRoutes } from './routes/keys.js';
import { authPlugin, SECURITY_SCHEMES } from './auth.js';
import { docsCsp, installSecurityHeaders, requestId } from './headers.js';
import { applyHeadersTimeout, serverTimeouts } from './limits.js';
import { qualityRoutes } from './routes/quality.js';
import { ErrorBody } from './schemas/common.js';

export interface AppOptions {
  logger?: boolean | object;
}

/** The service as a Fastify instance over an opened context; server.ts only starts it. */
export async function buildApp(ctx: AppContext, opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: ctx.config.http.bodyLimit,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false } },
    genReqId: requestId,
    frameworkErrors,
    ...serverTimeouts(ctx.config),
  }).withTypeProvider<TypeBoxTypeProvider>();
  applyHeadersTimeout(app, ctx.config);
  installValidators(app);
  installErrorHandler(app);
  app.addSchema(ErrorBody);
  const metrics = createMetrics(ctx.engine, ctx.encoders, ctx.data.quality);
  ctx.data.quality.log = { warn: (msg) => app.log.warn(msg) };
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    metrics.requestSeconds.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  await installSecurityHeaders(app);
  await app.register(authPlugin, { ctx });
  await app.register(swagger, {
    openapi: {
      info: { title: 'mrl-server', description: 'Adaptive retrieval with Matryoshka embeddings', version: '0.1.0' },
      components: { securitySchemes: SECURITY_SCHEMES },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', transformStaticCSP: docsCsp });
  const deps = { ctx, metrics };
  const routes = [
    healthRoutes,
    collectionRoutes,
    itemRoutes,
    ingestRoutes,
    searchRoutes,
    modelRoutes,
    openAiRoutes,
    classifyRoutes,
    evalRoutes,
    qualityRoutes,
    webRoutes,
    keyRoutes,
  ];
  for (const plugin of routes) await app.register(plugin, deps);
  return app;
}
