import { EVAL_OPTIONS, runEvalCommand } from '../eval/cli-eval.js';
import { withContext } from './context.js';
import { parseFlags, UsageError, withoutDataDir } from './usage.js';

const OPTIONS = {
  collection: { type: 'string', short: 'c' },
  shortlist: { type: 'string' },
  rerank: { type: 'string' },
  funnel: { type: 'string' },
  exact: { type: 'boolean' },
  ...EVAL_OPTIONS,
} as const;

/** `mrl eval` and `mrl eval --sweep` open the store; `mrl eval --classify` loads a model and a data set only. */
export async function runEval(argv: string[]): Promise<number> {
  if (argv.includes('--classify')) {
    return (await import('../eval/cli-classify.js')).runClassifyEval(withoutDataDir(argv));
  }
  const { values: o, positionals } = parseFlags(argv, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`eval takes no arguments, got '${positionals[0]}'`);
  await withContext(o['data-dir'], (ctx) => runEvalCommand(ctx, o));
  return 0;
}
