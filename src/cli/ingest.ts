import cliProgress from 'cli-progress';
import type { ItemInput } from '../inputs/embed.js';
import { ingestRecords } from '../io/ndjson-ingest.js';
import { fileRecords } from '../io/readers.js';
import { print, withContext } from './context.js';
import { num, parseFlags, UsageError } from './usage.js';

const SHOWN_ERRORS = 50;

/** `mrl ingest <file> --collection <name>`: the HTTP NDJSON path, fed from a file. */
export async function runIngest(argv: string[]): Promise<number> {
  const {
    values: o,
    positionals: [file],
  } = parseFlags(argv, { collection: { type: 'string', short: 'c' }, batch: { type: 'string' } });
  const collection = o.collection;
  if (!file || !collection) throw new UsageError('ingest needs a file and --collection');
  return withContext(o['data-dir'], async (ctx) => {
    ctx.engine.runtime(collection); // COLLECTION_NOT_FOUND before the file is read
    const bar = new cliProgress.SingleBar(
      { format: 'ingest |{bar}| {value} rows | {rate} rows/s', stream: process.stderr, noTTYOutput: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(0, 0, { rate: 0 });
    const t0 = performance.now();
    const batch = num(o.batch) ?? 1000;
    const progress = (p: { upserted: number }) => {
      bar.setTotal(p.upserted);
      bar.update(p.upserted, { rate: Math.round(p.upserted / ((performance.now() - t0) / 1000)) });
    };
    // The file is read, parsed and committed on the ingest thread when there is one; nothing
    // searches this process meanwhile, so the index may fall behind as far as it will (the
    // command ends once it has caught up).
    const r =
      (await ctx.ingestLines(collection, { file }, { batch, pendingCap: Infinity, onCommit: progress })) ??
      (await ingestRecords(fileRecords(file), {
        batch,
        check: (it) => ctx.checkItem(collection, it as ItemInput),
        commit: async (items) => (await ctx.upsert(collection, items)).upserted,
        onCommit: progress,
      }));
    bar.stop();
    const seconds = (performance.now() - t0) / 1000;
    for (const e of r.errors.slice(0, SHOWN_ERRORS)) process.stderr.write(`line ${e.line}: ${e.code}: ${e.message}\n`);
    if (r.failed > SHOWN_ERRORS) process.stderr.write(`… and ${r.failed - SHOWN_ERRORS} more bad lines\n`);
    print({
      collection,
      rows: r.upserted,
      badLines: r.failed,
      seconds: +seconds.toFixed(2),
      rowsPerSecond: Math.round(r.upserted / Math.max(seconds, 1e-9)),
    });
    return 0;
  });
}
