#!/usr/bin/env node
import { COMMANDS, findCommand, helpText } from './cli/commands.js';
import { UsageError } from './cli/usage.js';
import { MrlError } from './errors.js';

const isHelp = (a: string) => a === '-h' || a === '--help';

/**
 * `mrl [--data-dir <dir>] <command> [flags]`: the commands are the table in cli/commands.ts.
 * A `--data-dir` before the command is handed to it; `-h`/`--help` anywhere prints its usage.
 */
async function main(argv: string[], at: { command?: string }): Promise<number> {
  const leading: string[] = [];
  let i = 0;
  for (; i < argv.length && argv[i].startsWith('-'); i++) {
    if (argv[i] === '--data-dir') leading.push(argv[i], argv[++i]);
    else if (argv[i].startsWith('--data-dir=') || isHelp(argv[i])) leading.push(argv[i]);
    else break;
  }
  const name = argv[i];
  const rest = [...argv.slice(i + 1), ...leading.filter((a) => !isHelp(a))];
  const wantsHelp = leading.some(isHelp) || rest.some(isHelp);
  if (name === undefined) {
    process.stdout.write(`${await helpText()}\n`);
    return wantsHelp ? 0 : 2;
  }
  const command = findCommand(name);
  if (!command) throw new UsageError(`unknown command: ${name} (one of ${COMMANDS.map((c) => c.name).join(', ')})`);
  at.command = name;
  if (wantsHelp) {
    process.stdout.write(`${await helpText(name)}\n`);
    return 0;
  }
  return command.run(rest);
}

const at: { command?: string } = {};
main(process.argv.slice(2), at).then(
  (code) => (process.exitCode = code),
  async (err: unknown) => {
    if (err instanceof MrlError) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      process.exitCode = 1;
    } else if (err instanceof UsageError) {
      // Usage errors exit 2 and show the usage of the command they concern.
      process.stderr.write(`mrl${at.command ? ` ${at.command}` : ''}: ${err.message}\n\n${await helpText(at.command)}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
