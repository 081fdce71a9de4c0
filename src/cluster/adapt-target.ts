import type { ClusterConfig } from '../config.js';
import type { AppContext } from '../context.js';
import type { CollectionSpec } from '../engine/collection-spec.js';
import { MrlError } from '../errors.js';
import type { AdaptTarget } from '../quality/adapt.js';
import { rawPage, type RawItem } from '../quality/raw-pages.js';
import type { StoredRotation } from '../store/quality.js';
import type { Catalog } from './catalog.js';
import { vectorFromB64, vectorToB64 } from './codec.js';
import { checkClusterName, type Publisher } from './publisher.js';
import type { Registry } from './registry.js';
import { callNode } from './remote.js';
import { shardOf } from './shard.js';

const COPY_PAGE = 500;

/** A page of one shard's items as a peer sends it (POST /cluster/page): vectors as given, in base64. */
export interface WirePage {
  items: (Omit<RawItem, 'vector'> & { v: string })[];
  last: number | null;
}

/** One page of `shard`'s items that this node holds, after row `after`, for a peer. */
export function shardPage(ctx: AppContext, name: string, shard: number, shards: number, after: number): WirePage {
  const p = rawPage(ctx.engine, name, after, COPY_PAGE, (id) => shardOf(id, shards) === shard);
  return { items: p.items.map(({ vector, ...rest }) => ({ ...rest, v: vectorToB64(vector) })), last: p.last };
}

/**
 * `adapt` in cluster mode: the rotation (fitted on this node's rows, a sample of the source) is
 * stored with the new collection's metadata, so every node binds it before it applies or takes
 * any item of it; then every shard of the source is read (here when this node serves it, else
 * from a live replica) and written through the log like any ingest.
 */
export class ClusterAdaptTarget implements AdaptTarget {
  constructor(
    private readonly ctx: AppContext,
    private readonly catalog: Catalog,
    private readonly registry: Registry,
    private readonly publisher: Publisher,
    private readonly c: ClusterConfig,
  ) {}

  async create(source: string, spec: CollectionSpec & { name: string; dim: number }, rotation: StoredRotation): Promise<void> {
    const { shards, replicas } = this.catalog.meta(source);
    checkClusterName(spec.name);
    await this.catalog.create(spec, shards, replicas, rotation);
  }

  async copy(source: string, target: string): Promise<number> {
    const { shards } = this.catalog.meta(source);
    let copied = 0;
    for (let s = 0; s < shards; s++) {
      for (let after = 0; ;) {
        const page = await this.page(source, s, shards, after);
        if (page.last === null) break;
        after = page.last;
        if (page.items.length) copied += (await this.publisher.upsert(target, page.items, { wait: true })).upserted;
      }
    }
    return copied;
  }

  drop(target: string): Promise<void> {
    return this.catalog.drop(target);
  }

  private async page(name: string, shard: number, shards: number, after: number): Promise<{ items: RawItem[]; last: number | null }> {
    const own = this.catalog.applier(name, shard);
    if (own && !own.broken) return rawPage(this.ctx.engine, name, after, COPY_PAGE, (id) => shardOf(id, shards) === shard);
    let last: unknown;
    for (const peer of this.registry.replicas(name, shard)) {
      try {
        const p = await callNode<WirePage>(peer.url, '/cluster/page', this.c.key, this.c.requestTimeoutMs * 5, {
          collection: name,
          shard,
          shards,
          after,
        });
        return { items: p.items.map(({ v, ...rest }) => ({ ...rest, vector: vectorFromB64(v) })), last: p.last };
      } catch (err) {
        last = err;
      }
    }
    throw new MrlError('SHARD_UNAVAILABLE', { collection: name, shards: `${shard}${last ? ` (${(last as Error).message})` : ''}` });
  }
}
