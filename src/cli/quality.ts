import { print, withContext } from './context.js';
import { num, parseFlags, UsageError } from './usage.js';

const OPTIONS = { refresh: { type: 'boolean' }, sample: { type: 'string' }, seed: { type: 'string' } } as const;

/** `mrl quality <collection>`: is it Matryoshka? The stored report (computed when missing), with the audit. */
export async function runQuality(argv: string[]): Promise<number> {
  const { values: o, positionals } = parseFlags(argv, OPTIONS);
  const [collection] = positionals;
  if (!collection) throw new UsageError('quality needs a collection name');
  return withContext(o['data-dir'], async (ctx) => {
    print(await ctx.data.quality.report(collection, { refresh: o.refresh, sample: num(o.sample), seed: num(o.seed) }));
    return 0;
  });
}
