import type { FastifyInstance } from 'fastify';
import type { ClusterConfig } from '../config.js';
import type { AppContext } from '../context.js';
import { Cluster } from './cluster.js';
import { joinFromPeer } from './join.js';
import { clusterRoutes } from './routes.js';

/** Loaded by the server only in cluster mode (one node never loads the NATS client). */
export const clusterBoot = {
  /** Before the data dir opens: a new node may start from a peer's backup. */
  join: (dataDir: string, c: ClusterConfig) => joinFromPeer(dataDir, c),
  /** Before listening: the node-to-node routes, and facades that answer 503 until `start()`. */
  async attach(ctx: AppContext, app: FastifyInstance, c: ClusterConfig, joined: { items: number } | null): Promise<Cluster> {
    const cluster = new Cluster(ctx, c, app.log, joined);
    await app.register(clusterRoutes, { cluster });
    return cluster;
  },
};
