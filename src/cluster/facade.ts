import type { AppContext } from '../context.js';
import type { CollectionSpec } from '../engine/collection-spec.js';
import { mrlError } from '../errors.js';
import type { ItemInput, QueryInput } from '../inputs/embed.js';
import type { SearchOptions } from '../search/options.js';
import type { SearchResponse } from '../search/search.js';
import type { CollectionRecord } from '../store/collections.js';

/** Stream sequence per touched shard ("0" → 17): what a client passes back as `consistency.after`. */
export type ShardSeqs = Record<string, number>;
export interface Layout { shards: number; replicas: number }
export type CreateSpec = CollectionSpec & { shards?: unknown; replicas?: unknown };
export interface SearchExtras { consistency?: { after?: ShardSeqs; timeoutMs?: number }; allowPartial?: boolean }
export interface ShardAnswer { node: string; shards: number[]; ms: number; stages: SearchResponse['stages'] }
export type ClusterSearchResponse = SearchResponse & { shards?: ShardAnswer[]; partial?: boolean; missingShards?: number[] };

/** What the write routes call: the local engine on one node, the log in cluster mode. */
export interface Writes {
  createCollection(spec: CreateSpec): Promise<CollectionRecord & Partial<Layout>>;
  dropCollection(name: string): Promise<void>;
  upsert(name: string, items: ItemInput[], opts?: { wait?: boolean }): Promise<{ upserted: number; seqs?: ShardSeqs }>;
  deleteItem(name: string, id: string): Promise<{ deleted: number; seqs?: ShardSeqs }>;
}

/** What the read routes call: the local engine on one node, a scatter-gather over the shards in cluster mode. */
export interface Reads {
  search(name: string, query: QueryInput, opts: SearchOptions, extras?: SearchExtras): Promise<ClusterSearchResponse>;
  getItem(name: string, id: string): Promise<ReturnType<AppContext['engine']['getItem']>>;
  layout(name: string): Layout | undefined;
}

/** One node: exactly what the routes did before the cluster existed. */
export function localWrites(ctx: AppContext): Writes {
  return {
    async createCollection(spec) {
      const { shards, replicas, ...rest } = spec;
      if ((shards !== undefined && shards !== 1) || (replicas !== undefined && replicas !== 1)) {
        throw mrlError('INVALID_COLLECTION', 'shards and replicas above 1 need cluster mode (MRL_NATS_URL)');
      }
      return ctx.createCollection(rest);
    },
    dropCollection: (name) => ctx.engine.dropCollection(name),
    upsert: (name, items) => ctx.upsert(name, items),
    deleteItem: (name, id) => ctx.engine.deleteItems(name, [id]),
  };
}

export function localReads(ctx: AppContext): Reads {
  return {
    search: (name, query, opts) => ctx.search(name, query, opts),
    getItem: async (name, id) => ctx.engine.getItem(name, id),
    layout: () => undefined,
  };
}
