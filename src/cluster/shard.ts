/** Which shard an id belongs to: FNV-1a (32 bit) of its UTF-8 bytes, mod the shard count. Stable across nodes and versions. */
export function shardOf(id: string, shards: number): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(id, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

/**
 * Whether a node with MRL_SERVE_SHARDS `spec` serves `shard` of `collection`: 'all'; '0,2'
 * (those shards of every collection); 'docs:0,1;logs:2' (a collection not named: none of it).
 */
export function serves(spec: string, collection: string, shard: number): boolean {
  if (spec === 'all') return true;
  if (!spec.includes(':')) return spec.split(',').map(Number).includes(shard);
  for (const part of spec.split(';')) {
    const [name, list] = part.split(':');
    if (name === collection) return list.split(',').map(Number).includes(shard);
  }
  return false;
}

/** The shards of a collection a spec serves. */
export function servedShards(spec: string, collection: string, shards: number): number[] {
  return Array.from({ length: shards }, (_, s) => s).filter((s) => serves(spec, collection, s));
}
