import { readFileSync } from 'node:fs';
import { parseFunnelSpec } from '../search/funnel-spec.js';
import type { SearchOptions } from '../search/options.js';
import { print, withContext } from './context.js';
import { num, parseFlags, UsageError } from './usage.js';

const OPTIONS = {
  collection: { type: 'string', short: 'c' },
  id: { type: 'string' },
  vector: { type: 'string' },
  'vector-file': { type: 'string' },
  k: { type: 'string' },
  shortlist: { type: 'string' },
  rerank: { type: 'string' },
  funnel: { type: 'string' },
  exact: { type: 'boolean' },
} as const;

/** `mrl search --collection <name> (--id | --vector | --vector-file)`. */
export async function runSearch(argv: string[]): Promise<number> {
  const { values: o } = parseFlags(argv, OPTIONS);
  const collection = o.collection;
  if (!collection) throw new UsageError('search needs --collection');
  return withContext(o['data-dir'], async (ctx) => {
    const dim = ctx.engine.runtime(collection).record.dim;
    const query =
      o.id !== undefined
        ? { id: o.id }
        : { vector: JSON.parse(o.vector ?? readFileSync(o['vector-file'] ?? '/dev/stdin', 'utf8')) as unknown };
    const opts: SearchOptions = { k: num(o.k), shortlist: num(o.shortlist), rerank: num(o.rerank), exact: o.exact };
    if (o.funnel) opts.funnel = parseFunnelSpec(o.funnel, dim);
    print(await ctx.search(collection, query, opts));
    return 0;
  });
}
