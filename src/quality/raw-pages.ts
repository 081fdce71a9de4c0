import { unrotate } from '../core/rotation.js';
import type { Engine } from '../engine/engine.js';

/** An item as a client gave it: the vector with any bound rotation undone. */
export interface RawItem {
  id: string;
  vector: Float32Array;
  label: string | null;
  payload: unknown;
  text: string | null;
}

/**
 * One page of a collection's rows after row `after` (in seq order), as given; `keep` picks ids
 * (a cluster copies one shard at a time). `last` is the page's last seq, null past the end.
 */
export function rawPage(
  engine: Engine,
  name: string,
  after: number,
  limit: number,
  keep?: (id: string) => boolean,
): { items: RawItem[]; last: number | null } {
  const rec = engine.runtime(name).record;
  const prior = engine.rotation(rec);
  const page = engine.items.page(rec.id, after, limit);
  const rows = engine.items.getBySeqs(page.map((p) => p.seq));
  const items = page.flatMap(({ seq, vector }) => {
    const row = rows.get(seq);
    if (!row || (keep && !keep(row.id))) return [];
    const raw = prior ? unrotate(vector, prior, rec.dim) : vector;
    return [{ id: row.id, vector: raw, label: row.label, payload: row.payload, text: engine.items.text.textOf(seq) }];
  });
  return { items, last: page.length ? page[page.length - 1].seq : null };
}
