import { ConfigError, loadConfig } from './config.js';
import { AppContext } from './context.js';
import { buildApp } from './http/app.js';
import { checkExposure } from './http/auth.js';

/**
 * Thin entry: config → context → app.listen, then load the indexes (/ready is 503 until
 * done). SIGTERM/SIGINT: /ready turns 503, in-flight requests finish, snapshots are written,
 * SQLite closes.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = process.stdout.isTTY
    ? {
        level: config.http.logLevel,
        transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
      }
    : { level: config.http.logLevel };
  // Cluster mode: a new node may start from a peer's backup; collections come from the cluster's metadata.
  const boot = config.cluster ? (await import('./cluster/boot.js')).clusterBoot : null;
  const joined = boot && config.cluster ? await boot.join(config.dataDir, config.cluster) : null;
  const ctx = await AppContext.fromConfig(config, { deferLoad: true, createDefault: !config.cluster });
  let exposureWarning: string | null;
  try {
    exposureWarning = checkExposure(ctx);
  } catch (err) {
    await ctx.close();
    throw err;
  }
  const app = await buildApp(ctx, { logger });
  if (exposureWarning) app.log.warn(exposureWarning);
  const cluster = boot && config.cluster ? await boot.attach(ctx, app, config.cluster, joined) : null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.shuttingDown = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    try {
      await app.close();
      await cluster?.stop();
      await ctx.close();
      app.log.info('snapshots written, store closed');
      process.exitCode = 0;
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exitCode = 1;
    }
  };
  // A request must never take the process down: log stray rejections instead of crashing.
  process.on('unhandledRejection', (err) => app.log.error({ err }, 'unhandled rejection'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  app.addHook('onClose', async () => {
    ctx.shuttingDown = true;
  });
  await app.listen({ port: config.http.port, host: config.http.host });
  if (ctx.kernel.fallbackReason) app.log.warn({ reason: ctx.kernel.fallbackReason }, 'vector kernels fell back to plain JS');
  app.log.info({ dataDir: config.dataDir, kernel: ctx.kernel.name }, 'loading collections');
  const t0 = performance.now();
  await ctx.engine.load();
  // Started now rather than at the first ingest: starting a thread costs the HTTP thread tens of ms.
  ctx.data.writer?.warm();
  app.log.info({ collections: ctx.engine.listCollections().length, ms: Math.round(performance.now() - t0) }, 'ready');
  await cluster?.start();
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`configuration error: ${err.message}\n`);
  else process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
