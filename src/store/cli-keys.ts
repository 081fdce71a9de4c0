import { join } from 'node:path';
import { mrlError } from '../errors.js';
import { ApiKeyStore } from './api-keys.js';
import { DB_FILE } from './backup.js';
import { closeDatabase, openDatabase } from './db.js';

export const KEYS_USAGE = `  mrl keys create --name <name> --role read|write|admin [--collections a,b]
                                     prints a new API key once (only its SHA-256 is stored)
  mrl keys list                      names, roles, scopes, last use (never the keys)
  mrl keys revoke <name>             the key stops working on the next request`;

export const KEYS_OPTIONS = { role: { type: 'string' }, collections: { type: 'string' }, name: { type: 'string' } } as const;

/** `mrl keys …` on the database alone (no indexes, no models): safe while the server runs. */
export function runKeysCommand(dataDir: string, args: string[], o: { role?: string; collections?: string; name?: string }): unknown {
  const db = openDatabase(join(dataDir, DB_FILE));
  try {
    const keys = new ApiKeyStore(db);
    const [sub, name] = args;
    if (sub === 'create') {
      const collections = o.collections?.split(',').map((c) => c.trim()).filter((c) => c !== '');
      const { key, secret } = keys.create({ name: o.name ?? name, role: o.role, collections });
      return { ...key, key: secret, note: 'the key is shown this once: keep it now' };
    }
    if (sub === 'list') return { keys: keys.list() };
    if (sub === 'revoke') {
      if (!name) throw mrlError('INVALID_KEY', 'keys revoke needs a key name');
      if (!keys.revoke(name)) throw mrlError('INVALID_KEY', `no API key named '${name}'`);
      return { revoked: name };
    }
    throw mrlError('INVALID_KEY', `unknown: keys ${sub ?? ''} (create, list or revoke)`);
  } finally {
    closeDatabase(db);
  }
}
