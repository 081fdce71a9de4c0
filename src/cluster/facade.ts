import type { CollectionSpec } from '../engine/collection-spec.js';
import type { Engine } from '../engine/engine.js';
import type { RunResult } from '../engine/search-run.js';
import { mrlError } from '../errors.js';
import type { ItemInput, QueryInput } from '../inputs/embed.js';
import type { IngestReport } from '../io/ndjson-ingest.js';
import type { SearchOptions } from '../search/options.js';
import type { ApiKey, ApiKeyStore } from '../store/api-keys.js';
import type { CollectionRecord } from '../store/collections.js';

/** Stream sequence per touched shard ("0" → 17): what a client passes back as `consistency.after`. */
export type ShardSeqs = Record<string, number>;
export interface Layout {
  shards: number;
  replicas: number;
}
export type CreateSpec = CollectionSpec & { shards?: unknown; replicas?: unknown };
export interface SearchExtras {
  consistency?: { after?: ShardSeqs; timeoutMs?: number };
  allowPartial?: boolean;
}
export interface ShardAnswer {
  node: string;
  shards: number[];
  ms: number;
  stages: SearchResponse['stages'];
}
/** A search's answer as the routes send it (one node: the engine's; cluster: merged over the shards). */
export type SearchResponse = RunResult & { ms: number };
export type ClusterSearchResponse = SearchResponse & { shards?: ShardAnswer[]; partial?: boolean; missingShards?: number[] };

/** What the write routes call: the local engine on one node, the log in cluster mode. */
export interface Writes {
  createCollection(spec: CreateSpec): Promise<CollectionRecord & Partial<Layout>>;
  dropCollection(name: string): Promise<void>;
  upsert(name: string, items: ItemInput[], opts?: { wait?: boolean }): Promise<{ upserted: number; seqs?: ShardSeqs }>;
  /**
   * A stream of NDJSON lines ingested off the HTTP thread (one node: Engine.ingestFrom); absent,
   * or resolving to null, when the caller ingests the lines itself through `upsert`.
   */
  ingest?(name: string, lines: AsyncIterable<Buffer | string>, opts: { batch: number; maxLineBytes: number }): Promise<IngestReport | null>;
  deleteItem(name: string, id: string): Promise<{ deleted: number; seqs?: ShardSeqs }>;
  patchItem(name: string, id: string, patch: ItemPatchInput): Promise<ReturnType<Engine['getItem']>>;
  /** PATCH /collections/:name: in cluster mode every node's collection takes the new list. */
  setIndexedFields(name: string, fields: unknown): Promise<CollectionRecord>;
  /** After this node retuned a collection (a sweep's `apply`): in cluster mode every node takes its index dims and search defaults. */
  tuned(name: string): Promise<void>;
}

export type ItemPatchInput = { label?: unknown; payload?: unknown; text?: unknown };

/** What the key routes call: this node's table, or in cluster mode the shared bucket and then the table (src/cluster/key-sync.ts). */
export interface KeyWrites {
  create(spec: { name: unknown; role: unknown; collections?: unknown }): Promise<{ key: ApiKey; secret: string }>;
  revoke(name: string): Promise<boolean>;
}

export function localKeyWrites(keys: ApiKeyStore): KeyWrites {
  return { create: async (spec) => keys.create(spec), revoke: async (name) => keys.revoke(name) };
}

/** What the read routes call: the local engine on one node, a scatter-gather over the shards in cluster mode. */
export interface Reads {
  search(name: string, query: QueryInput, opts: SearchOptions, extras?: SearchExtras): Promise<ClusterSearchResponse>;
  getItem(name: string, id: string): Promise<ReturnType<Engine['getItem']>>;
  layout(name: string): Layout | undefined;
}

/** One node: exactly what the routes did before the cluster existed. */
/** What the one-node facades call: the context's own operations (the context satisfies this). */
export interface LocalNode {
  engine: Engine;
  createCollection(spec: CollectionSpec): CollectionRecord;
  upsert(name: string, items: ItemInput[]): Promise<{ upserted: number }>;
  /** NDJSON lines ingested on the ingest thread; null when the caller ingests them through `upsert`. */
  ingestLines(
    name: string,
    lines: AsyncIterable<Buffer | string>,
    opts: { batch: number; maxLineBytes: number },
  ): Promise<IngestReport> | null;
  search(name: string, query: QueryInput, opts: SearchOptions): Promise<SearchResponse>;
}

export function localWrites(ctx: LocalNode): Writes {
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
    ingest: async (name, lines, opts) => ctx.ingestLines(name, lines, opts),
    deleteItem: (name, id) => ctx.engine.deleteItems(name, [id]),
    // After the ingest thread's batches in flight, so that every cache sees the writes in commit order.
    patchItem: async (name, id, patch) => {
      await ctx.engine.writesSettled(name);
      return ctx.engine.patchItem(name, id, patch);
    },
    setIndexedFields: async (name, fields) => {
      await ctx.engine.writesSettled(name);
      return ctx.engine.setIndexedFields(name, fields);
    },
    tuned: async () => undefined,
  };
}

export function localReads(ctx: LocalNode): Reads {
  return {
    search: (name, query, opts) => ctx.search(name, query, opts),
    getItem: async (name, id) => ctx.engine.getItem(name, id),
    layout: () => undefined,
  };
}
