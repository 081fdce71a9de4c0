#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { loadConfig } from './config.js';
import { AppContext } from './context.js';
import { parseFunnelSpec, type SearchOptions } from './core/funnel.js';
import { MrlError } from './errors.js';
import type { ItemInput } from './engine/engine.js';
import { ingestRecords } from './io/ndjson-ingest.js';
import { fileRecords } from './io/readers.js';
import { EVAL_OPTIONS, EVAL_USAGE, runEvalCommand } from './eval/cli-eval.js';
import { backupDatabase, restoreDatabase } from './store/backup.js';

const USAGE = `mrl — adaptive retrieval with Matryoshka embeddings

  mrl collections create <name> --dim D [--index-dim 32] [--rerank-dim 512] [--resident-dim R]
                                [--nesting 8,16,...] [--m 16] [--ef-construction 100] [--ef-search 64]
  mrl collections list | show <name> | drop <name>
  mrl ingest <file.ndjson|file.fvecs> --collection <name> [--batch 1000]
  mrl train --data <dir> --out <model dir> [--efficient | --fixed D] [--epochs N] [--seed N] …
                                     train an image encoder with the MRL loss (Fashion-MNIST IDX files)
  mrl train --model text-mrl --out models/text-mrl [--epochs N] [--seed N]
                                     train the MRL adaptor over Universal Sentence Encoder lite
  mrl backup <file>                  online copy of the database (safe while the server runs)
  mrl restore <file> [--force]       into a fresh data dir; indexes rebuild at the next start
  mrl search --collection <name> (--id <id> | --vector '[..]' | --vector-file f.json)
             [--k 10] [--shortlist 200] [--rerank 512] [--funnel paper|16:200,32:100,...] [--exact]

${EVAL_USAGE}

Options: --data-dir <dir> (default $MRL_DATA_DIR or ./data)`;

const OPTIONS = {
  'data-dir': { type: 'string' }, collection: { type: 'string', short: 'c' }, dim: { type: 'string' },
  'index-dim': { type: 'string' }, 'rerank-dim': { type: 'string' }, 'resident-dim': { type: 'string' },
  nesting: { type: 'string' }, m: { type: 'string' }, 'ef-construction': { type: 'string' }, 'ef-search': { type: 'string' },
  batch: { type: 'string' }, id: { type: 'string' }, vector: { type: 'string' }, 'vector-file': { type: 'string' },
  k: { type: 'string' }, shortlist: { type: 'string' }, rerank: { type: 'string' }, funnel: { type: 'string' },
  exact: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...EVAL_OPTIONS,
} as const;

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const print = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);


async function main(argv: string[]): Promise<number> {
  // Training has flags of its own: hand the rest of the line to the trainer.
  if (argv[0] === 'train') {
    const rest = argv.slice(1);
    const at = rest.indexOf('--model');
    if (at >= 0 && rest[at + 1] === 'text-mrl') {
      return (await import('./train/cli-train-text.js')).runTrainText([...rest.slice(0, at), ...rest.slice(at + 2)]);
    }
    return (await import('./train/cli-train.js')).runTrain(rest);
  }
  // The classification cascade loads a model and a data set, no store: its own flags.
  if (argv.includes('eval') && argv.includes('--classify')) {
    const rest = argv.filter((a, i) => a !== 'eval' && a !== '--classify' && a !== '--data-dir' && argv[i - 1] !== '--data-dir');
    return (await import('./eval/cli-classify.js')).runClassifyEval(rest);
  }
  const { values: o, positionals: pos } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  if (o.help || pos.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return pos.length === 0 && !o.help ? 2 : 0;
  }
  const config = loadConfig(process.env, o['data-dir'] ? { dataDir: o['data-dir'] } : {});
  // Backup and restore work on the database file alone: no indexes, no models.
  if (pos[0] === 'backup' || pos[0] === 'restore') {
    if (!pos[1]) throw new UsageError(`${pos[0]} needs a file`);
    const t0 = performance.now();
    const r = pos[0] === 'backup' ? await backupDatabase(config.dataDir, pos[1]) : await restoreDatabase(pos[1], config.dataDir, { force: o.force });
    print({ [pos[0]]: pos[1], dataDir: config.dataDir, ...r, seconds: +((performance.now() - t0) / 1000).toFixed(2) });
    return 0;
  }
  const ctx = await AppContext.fromConfig(config);
  const engine = ctx.engine;
  try {
    const [verb, sub, name] = pos;
    if (verb === 'collections') {
      if (sub === 'list') print(engine.listCollections().map((c) => ({ name: c.name, dim: c.dim, count: engine.runtime(c.name).count })));
      else if (sub === 'show') print(engine.describe(name));
      else if (sub === 'drop') {
        engine.dropCollection(name);
        print({ dropped: name });
      } else if (sub === 'create') {
        print(engine.createCollection({
          name, dim: num(o.dim), indexDim: num(o['index-dim']), rerankDim: num(o['rerank-dim']), residentDim: num(o['resident-dim']),
          nesting: o.nesting?.split(',').map(Number),
          hnsw: { m: num(o.m), efConstruction: num(o['ef-construction']), efSearch: num(o['ef-search']) },
        }));
      } else throw new UsageError(`unknown: collections ${sub ?? ''}`);
    } else if (verb === 'ingest') {
      if (!sub || !o.collection) throw new UsageError('ingest needs a file and --collection');
      const bar = new cliProgress.SingleBar({ format: 'ingest |{bar}| {value} rows | {rate} rows/s', stream: process.stderr, noTTYOutput: false }, cliProgress.Presets.shades_classic);
      bar.start(0, 0, { rate: 0 });
      const t0 = performance.now();
      engine.runtime(o.collection);
      const collection = o.collection;
      const s = await ingestRecords(fileRecords(sub), {
        batch: num(o.batch) ?? 1000,
        check: (it) => engine.checkItem(collection, it as ItemInput),
        commit: async (batch) => (await engine.upsertAsync(collection, batch)).upserted,
        onCommit: (p) => {
          bar.setTotal(p.upserted);
          bar.update(p.upserted, { rate: Math.round(p.upserted / ((performance.now() - t0) / 1000)) });
        },
      });
      bar.stop();
      const seconds = (performance.now() - t0) / 1000;
      for (const b of s.errors.slice(0, 50)) process.stderr.write(`line ${b.line}: ${b.code}: ${b.message}\n`);
      if (s.failed > 50) process.stderr.write(`… and ${s.failed - 50} more bad lines\n`);
      print({ collection, rows: s.upserted, badLines: s.failed, seconds: +seconds.toFixed(2), rowsPerSecond: Math.round(s.upserted / Math.max(seconds, 1e-9)) });
    } else if (verb === 'search') {
      if (!o.collection) throw new UsageError('search needs --collection');
      const dim = engine.runtime(o.collection).record.dim;
      const query = o.id !== undefined ? { id: o.id } : { vector: JSON.parse(o.vector ?? readFileSync(o['vector-file'] ?? '/dev/stdin', 'utf8')) as unknown };
      const opts: SearchOptions = { k: num(o.k), shortlist: num(o.shortlist), rerank: num(o.rerank), exact: o.exact };
      if (o.funnel) opts.funnel = parseFunnelSpec(o.funnel, dim);
      print(await engine.search(o.collection, query, opts));
    } else if (verb === 'eval') {
      await runEvalCommand(ctx, o);
    } else throw new UsageError(`unknown command: ${verb}`);
    return 0;
  } finally {
    await ctx.close();
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    if (err instanceof MrlError) process.stderr.write(`error ${err.code}: ${err.message}\n`);
    else if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    else process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
