import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line the CLI cannot run: `mrl` prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A UsageError, or node:util's parseArgs refusing an unknown flag or a missing value. */
export function isUsageError(err: unknown): err is Error {
  return err instanceof UsageError || (err as { code?: unknown } | null)?.code?.toString().startsWith('ERR_PARSE_ARGS') === true;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The flags every command that opens the data directory takes. */
const COMMON = { 'data-dir': { type: 'string' } } as const;

/** parseArgs with positionals and the common flags; an unknown flag is a usage error. */
export function parseFlags<O extends Options>(argv: string[], options: O) {
  return parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
}

/** A number flag: undefined when absent, else Number(value) (the engine checks ranges). */
export const num = (v: string | boolean | undefined): number | undefined => (typeof v === 'string' ? Number(v) : undefined);

/** The arguments less `--data-dir`, for the commands that read no data directory but parse strictly. */
export function withoutDataDir(argv: string[]): string[] {
  return argv.filter((a, i) => a !== '--data-dir' && argv[i - 1] !== '--data-dir' && !a.startsWith('--data-dir='));
}
