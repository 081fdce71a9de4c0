import type { Catalog } from './catalog.js';
import { streamOf, type Nats } from './nats.js';
import type { Registry } from './registry.js';
import { serves } from './shard.js';

/**
 * Bounds the log: each shard's stream is purged up to the lowest sequence that every registered
 * replica of it (live or stopped) has applied and committed to its SQLite, which then is the
 * snapshot of everything before. A node that joins later starts from a peer's backup
 * (MRL_JOIN_FROM). A replica gone for good holds the log until its registry entry is deleted.
 */
export async function compactOnce(n: Nats, catalog: Catalog, registry: Registry): Promise<number> {
  let purged = 0;
  let failed: Error | undefined;
  for (const [name, meta] of catalog.metas) {
    for (let s = 0; s < meta.shards; s++) {
      const holders = registry.all().filter((node) => serves(node.serve, name, s));
      if (holders.length === 0) continue;
      // a broken replica (-1) or one that has not reported yet (0) holds the log as it is
      const low = Math.min(...holders.map((node) => node.applied[name]?.[String(s)] ?? 0));
      if (low <= 0) continue;
      try {
        const info = await n.jsm.streams.info(streamOf(name, s));
        if (info.state.first_seq > low) continue;
        const r = await n.jsm.streams.purge(streamOf(name, s), { seq: low + 1 });
        purged += r.purged;
      } catch (err) {
        // one stream without a leader yet (a NATS server just came back) waits for the next round
        failed = err instanceof Error ? err : new Error(JSON.stringify(err));
      }
    }
  }
  if (failed && purged === 0) throw failed;
  return purged;
}
