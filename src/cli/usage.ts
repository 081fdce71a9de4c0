import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';

/** A command line the CLI cannot run: `mrl` prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** node:util's parseArgs, with its refusals (an unknown flag, a missing value) as UsageErrors. */
export function parseArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof nodeParseArgs<T>> {
  try {
    return nodeParseArgs(config);
  } catch (err) {
    if ((err as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')) throw new UsageError((err as Error).message);
    throw err;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The flags every command that opens the data directory takes. */
const COMMON = { 'data-dir': { type: 'string' } } as const;

/** parseArgs with positionals and the common flags; an unknown flag is a usage error. */
export function parseFlags<O extends Options>(argv: string[], options: O) {
  return parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
}

/** parseArgs for a command that takes only its own flags (no positionals, no common flags): their values. */
export function parseOptions<O extends Options>(argv: string[], options: O) {
  return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
}

/** A number flag: undefined when absent, else Number(value) (the engine checks ranges). */
export const num = (v: string | boolean | undefined): number | undefined => (typeof v === 'string' ? Number(v) : undefined);

/** The arguments less `--data-dir`, for the commands that read no data directory but parse strictly. */
export function withoutDataDir(argv: string[]): string[] {
  return argv.filter((a, i) => a !== '--data-dir' && argv[i - 1] !== '--data-dir' && !a.startsWith('--data-dir='));
}
