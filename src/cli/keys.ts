import { join } from 'node:path';
import { mrlError } from '../errors.js';
import { ApiKeyStore } from '../store/api-keys.js';
import { DB_FILE } from '../store/backup.js';
import { closeDatabase, openDatabase } from '../store/db.js';
import { cliConfig, print } from './context.js';
import { parseFlags, UsageError } from './usage.js';

export const KEYS_USAGE = `  mrl keys create --name <name> --role read|write|admin [--collections a,b]
                                     prints a new API key once (only its SHA-256 is stored)
  mrl keys list                      names, roles, scopes, last use (never the keys)
  mrl keys revoke <name>             the key stops working on the next request`;

const OPTIONS = { role: { type: 'string' }, collections: { type: 'string' }, name: { type: 'string' } } as const;

/** `mrl keys create|list|revoke` on the database alone (no indexes, no models): safe while the server runs. */
export async function runKeys(argv: string[]): Promise<number> {
  const {
    values: o,
    positionals: [sub, name],
  } = parseFlags(argv, OPTIONS);
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new UsageError(`unknown: keys ${sub ?? ''} (create, list or revoke)`);
  if (sub === 'revoke' && !name) throw new UsageError('keys revoke needs a key name');
  const db = openDatabase(join(cliConfig(o['data-dir']).dataDir, DB_FILE));
  try {
    const keys = new ApiKeyStore(db);
    if (sub === 'create') {
      const collections = o.collections
        ?.split(',')
        .map((c) => c.trim())
        .filter((c) => c !== '');
      const { key, secret } = keys.create({ name: o.name ?? name, role: o.role, collections });
      print({ ...key, key: secret, note: 'the key is shown this once: keep it now' });
    } else if (sub === 'list') print({ keys: keys.list() });
    else if (keys.revoke(name)) print({ revoked: name });
    else throw mrlError('INVALID_KEY', `no API key named '${name}'`);
    return 0;
  } finally {
    closeDatabase(db);
  }
}
