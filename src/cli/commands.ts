import { EVAL_USAGE } from '../eval/cli-eval.js';
import { runBackupOrRestore } from './backup.js';
import { runCollections } from './collections.js';
import { runEval } from './eval.js';
import { runIngest } from './ingest.js';
import { KEYS_USAGE, runKeys } from './keys.js';
import { runQuality } from './quality.js';
import { runSearch } from './search.js';
import { parseFlags, UsageError, withoutDataDir } from './usage.js';

/** One subcommand of `mrl`: what `mrl help` prints for it, and what runs it. */
export interface Command {
  name: string;
  /** The synopsis lines `mrl help` lists. */
  usage: string;
  /** The longer text of `mrl help <name>` and `mrl <name> --help`, when there is more to say than the synopsis. */
  details?: () => Promise<string>;
  /** Runs the command on the arguments after its name; resolves to the exit code. */
  run: (argv: string[]) => Promise<number>;
}

/** Training loads TF.js and its data readers: imported only when `mrl train` runs. */
async function runTrain(args: string[]): Promise<number> {
  const argv = withoutDataDir(args);
  const at = argv.indexOf('--model');
  if (at >= 0 && argv[at + 1] === 'text-mrl') {
    return (await import('../train/cli-train-text.js')).runTrainText([...argv.slice(0, at), ...argv.slice(at + 2)]);
  }
  return (await import('../train/cli-train.js')).runTrain(argv);
}

export const COMMANDS: readonly Command[] = [
  {
    name: 'collections',
    usage: `  mrl collections create <name> --dim D [--index-dim 32] [--rerank-dim 512] [--resident-dim R]
                                [--nesting 8,16,...] [--m 16] [--ef-construction 100] [--ef-search 64]
                                [--indexed-fields year,meta.lang]
  mrl collections update <name> --indexed-fields year,lang   payload fields filters read from an index ('' for none)
  mrl collections list | show <name> | drop <name>`,
    run: runCollections,
  },
  {
    name: 'ingest',
    usage: `  mrl ingest <file.ndjson|file.fvecs> --collection <name> [--batch 1000]
                                     bad lines are reported on stderr as line: CODE: message`,
    run: runIngest,
  },
  {
    name: 'train',
    usage: `  mrl train --data <dir> --out <model dir> [--efficient | --fixed D] [--epochs N] [--seed N] …
                                     train an image encoder with the MRL loss (Fashion-MNIST IDX files)
  mrl train --model text-mrl --out models/text-mrl [--epochs N] [--seed N]
                                     train the MRL adaptor over Universal Sentence Encoder lite`,
    details: async () => {
      const [image, text] = await Promise.all([import('../train/cli-train.js'), import('../train/cli-train-text.js')]);
      return `${image.TRAIN_USAGE}\n\n${text.TRAIN_TEXT_USAGE}`;
    },
    run: runTrain,
  },
  {
    name: 'backup',
    usage: '  mrl backup <file>                  online copy of the database (safe while the server runs)',
    run: (argv) => runBackupOrRestore('backup', argv),
  },
  {
    name: 'restore',
    usage: '  mrl restore <file> [--force]       into a fresh data dir; indexes rebuild at the next start',
    run: (argv) => runBackupOrRestore('restore', argv),
  },
  {
    name: 'search',
    usage: `  mrl search --collection <name> (--id <id> | --vector '[..]' | --vector-file f.json)
             [--k 10] [--shortlist 200] [--rerank 512] [--funnel paper|16:200,32:100,...] [--exact]`,
    run: runSearch,
  },
  {
    name: 'eval',
    usage: EVAL_USAGE,
    details: async () => `${EVAL_USAGE}\n\n${(await import('../eval/cli-classify.js')).CLASSIFY_EVAL_USAGE}`,
    run: runEval,
  },
  {
    name: 'keys',
    usage: KEYS_USAGE,
    run: runKeys,
  },
  {
    name: 'quality',
    usage: `  mrl quality <name> [--refresh] [--sample 500] [--seed 1]
                                     is the collection Matryoshka? (the stored report, computed when missing)`,
    run: runQuality,
  },
  {
    name: 'help',
    usage: "  mrl help [command]                 this text, or one command's flags in full",
    run: async (argv) => {
      const [name] = parseFlags(argv, {}).positionals;
      if (name !== undefined && !findCommand(name)) throw new UsageError(`help: unknown command ${name}`);
      process.stdout.write(`${await helpText(name)}\n`);
      return 0;
    },
  },
];

export function findCommand(name: string | undefined): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

const HEADER = 'mrl — adaptive retrieval with Matryoshka embeddings';
const FOOTER = 'Options: --data-dir <dir> (default $MRL_DATA_DIR or ./data)';

/** `mrl help`: every command's synopsis, from the table; `mrl help <name>`: that command in full. */
export async function helpText(name?: string): Promise<string> {
  const one = findCommand(name);
  if (one) return one.details ? one.details() : `${one.usage}\n\n${FOOTER}`;
  return `${HEADER}\n\n${COMMANDS.map((c) => c.usage).join('\n')}\n\n${FOOTER}`;
}
