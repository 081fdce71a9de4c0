import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { MrlError } from '../errors.js';
import type { SearchOptions } from '../search/options.js';
import { backupDatabase } from '../store/backup.js';
import { shardPage } from './adapt-target.js';
import type { Cluster } from './cluster.js';
import { CLUSTER_KEY_HEADER } from './remote.js';

/**
 * Node-to-node routes under /cluster/, answered only with the cluster key: a search over this
 * node's own shards, an item of a shard it serves, a backup of its database (a joining node
 * starts from it), and this node's view of the cluster.
 */
export const clusterRoutes: FastifyPluginAsync<{ cluster: Cluster }> = async (app, { cluster }) => {
  const key = Buffer.from(cluster.config.key);
  app.addHook('onRequest', async (req) => {
    const got = Buffer.from(String(req.headers[CLUSTER_KEY_HEADER] ?? ''));
    if (got.length !== key.length || !timingSafeEqual(got, key)) throw new MrlError('CLUSTER_FORBIDDEN');
  });

  app.post('/cluster/search', { schema: { hide: true } }, async (req) => {
    const b = req.body as { collection: string; vector: number[]; opts: SearchOptions; after?: Record<string, number>; timeoutMs?: number };
    return cluster.reads.answerLocal(b.collection, b.vector, b.opts ?? {}, b.after ?? {}, b.timeoutMs);
  });

  app.get('/cluster/item', { schema: { hide: true } }, async (req) => {
    const q = req.query as { collection: string; id: string };
    return cluster.ctx.engine.getItem(q.collection, q.id);
  });

  app.post('/cluster/page', { schema: { hide: true } }, async (req) => {
    const b = req.body as { collection: string; shard: number; shards: number; after: number };
    return shardPage(cluster.ctx, b.collection, b.shard, b.shards, b.after);
  });

  app.get('/cluster/status', { schema: { hide: true } }, async () => cluster.status());

  app.post('/cluster/compact', { schema: { hide: true } }, async () => ({ purged: await cluster.compact() }));

  app.get('/cluster/backup', { schema: { hide: true } }, async (_req, reply) => {
    const dir = mkdtempSync(join(tmpdir(), 'mrl-backup-'));
    const file = join(dir, 'backup.sqlite');
    await backupDatabase(cluster.ctx.config.dataDir, file);
    const stream = createReadStream(file);
    stream.on('close', () => rmSync(dir, { recursive: true, force: true }));
    return reply.type('application/octet-stream').send(stream);
  });
};
