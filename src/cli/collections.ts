import { print, withContext } from './context.js';
import { num, parseFlags, UsageError } from './usage.js';

const OPTIONS = {
  dim: { type: 'string' },
  'index-dim': { type: 'string' },
  'rerank-dim': { type: 'string' },
  'resident-dim': { type: 'string' },
  nesting: { type: 'string' },
  m: { type: 'string' },
  'ef-construction': { type: 'string' },
  'ef-search': { type: 'string' },
  'indexed-fields': { type: 'string' },
} as const;

/** `--indexed-fields year,meta.lang` as a list (empty parts dropped: `''` is none). */
const fieldList = (v: string | undefined): string[] | undefined => v?.split(',').filter((f) => f !== '');

/** `mrl collections create|update|list|show|drop`. */
export async function runCollections(argv: string[]): Promise<number> {
  const {
    values: o,
    positionals: [sub, name],
  } = parseFlags(argv, OPTIONS);
  if (sub !== 'list' && sub !== 'show' && sub !== 'drop' && sub !== 'create' && sub !== 'update')
    throw new UsageError(`unknown: collections ${sub ?? ''}`);
  if (sub !== 'list' && !name) throw new UsageError(`collections ${sub} needs a name`);
  if (sub === 'update' && o['indexed-fields'] === undefined) throw new UsageError('collections update needs --indexed-fields');
  return withContext(o['data-dir'], async (ctx) => {
    const { engine } = ctx;
    if (sub === 'list') print(engine.listCollections().map((c) => ({ name: c.name, dim: c.dim, count: engine.runtime(c.name).count })));
    else if (sub === 'show') print(engine.describe(name));
    else if (sub === 'update') print(engine.setIndexedFields(name, fieldList(o['indexed-fields'])));
    else if (sub === 'drop') {
      await engine.dropCollection(name);
      print({ dropped: name });
    } else {
      print(
        ctx.createCollection({
          name,
          dim: num(o.dim),
          indexDim: num(o['index-dim']),
          rerankDim: num(o['rerank-dim']),
          residentDim: num(o['resident-dim']),
          nesting: o.nesting?.split(',').map(Number),
          hnsw: { m: num(o.m), efConstruction: num(o['ef-construction']), efSearch: num(o['ef-search']) },
          indexedFields: fieldList(o['indexed-fields']),
        }),
      );
    }
    return 0;
  });
}
