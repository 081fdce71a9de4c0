import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RouteDeps } from '../route-deps.js';

/** Liveness, readiness (every index loaded, not shutting down) and Prometheus metrics. */
export const healthRoutes: FastifyPluginAsync<RouteDeps> = async (app, { ctx, metrics }) => {
  app.get(
    '/health',
    {
      schema: {
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            kernel: Type.String(),
            kernelFallback: Type.Union([Type.String(), Type.Null()]),
            kernelBatch: Type.Union([
              Type.Object({
                windowUs: Type.Number(),
                maxBatch: Type.Number(),
                launches: Type.Number(),
                queries: Type.Number(),
                meanBatchSize: Type.Number(),
              }),
              Type.Null(),
            ]),
            kernelResident: Type.Union([
              Type.Object({
                segments: Type.Number(),
                bytes: Type.Number(),
                pending: Type.Number(),
                builds: Type.Number(),
                runs: Type.Number(),
                failures: Type.Number(),
                lastError: Type.Union([Type.String(), Type.Null()]),
              }),
              Type.Null(),
            ]),
            tfBackend: Type.Union([Type.String(), Type.Null()]),
            tfTried: Type.Array(Type.Object({ backend: Type.String(), error: Type.String() })),
            models: Type.Array(Type.String()),
            uptimeSeconds: Type.Number(),
            encoders: Type.Array(
              Type.Object({
                name: Type.String(),
                backend: Type.Union([Type.Literal('onnxruntime'), Type.Literal('tfjs')]),
                loaded: Type.Boolean(),
                fallbackReason: Type.Union([Type.String(), Type.Null()]),
                batch: Type.Union([
                  Type.Object({
                    windowUs: Type.Number(),
                    maxBatch: Type.Number(),
                    launches: Type.Number(),
                    calls: Type.Number(),
                    inputs: Type.Number(),
                  }),
                  Type.Null(),
                ]),
              }),
            ),
            embedCache: Type.Object({ capacity: Type.Number(), size: Type.Number(), hits: Type.Number(), misses: Type.Number() }),
          }),
        },
      },
    },
    async () => ({
      status: 'ok' as const,
      kernel: ctx.kernel.name,
      kernelFallback: ctx.kernel.fallbackReason ?? null,
      kernelBatch: ctx.kernel.batch?.stats() ?? null,
      kernelResident: ctx.kernel.resident?.stats() ?? null,
      tfBackend: ctx.tf?.backend ?? null,
      tfTried: ctx.tf?.tried ?? [],
      models: ctx.encoders.names(),
      uptimeSeconds: process.uptime(),
      encoders: ctx.encoders.status(),
      embedCache: {
        capacity: ctx.encoders.cache.capacity,
        size: ctx.encoders.cache.size,
        hits: ctx.encoders.cache.hits,
        misses: ctx.encoders.cache.misses,
      },
    }),
  );

  app.get(
    '/ready',
    {
      schema: {
        response: { 200: Type.Object({ ready: Type.Boolean() }), 503: Type.Object({ ready: Type.Boolean(), reason: Type.String() }) },
      },
    },
    async (_req, reply) => {
      if (ctx.shuttingDown) return reply.status(503).send({ ready: false, reason: 'shutting down' });
      if (!ctx.engine.ready) return reply.status(503).send({ ready: false, reason: 'loading indexes' });
      return { ready: true };
    },
  );

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
