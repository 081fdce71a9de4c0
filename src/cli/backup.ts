import { backupDatabase, restoreDatabase } from '../store/backup.js';
import { cliConfig, print } from './context.js';
import { parseFlags, UsageError } from './usage.js';

/** `mrl backup <file>` and `mrl restore <file> [--force]`: the database file alone, no indexes, no models. */
export async function runBackupOrRestore(verb: 'backup' | 'restore', argv: string[]): Promise<number> {
  const {
    values: o,
    positionals: [file],
  } = parseFlags(argv, { force: { type: 'boolean' } });
  if (!file) throw new UsageError(`${verb} needs a file`);
  const config = cliConfig(o['data-dir']);
  const t0 = performance.now();
  const r =
    verb === 'backup' ? await backupDatabase(config.dataDir, file) : await restoreDatabase(file, config.dataDir, { force: o.force });
  print({ [verb]: file, dataDir: config.dataDir, ...r, seconds: +((performance.now() - t0) / 1000).toFixed(2) });
  return 0;
}
