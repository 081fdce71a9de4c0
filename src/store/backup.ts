import Database from 'better-sqlite3';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mrlError } from '../errors.js';

export const DB_FILE = 'mrl.sqlite';

/**
 * Copies the live database with SQLite's online backup API: consistent while the server keeps
 * writing (it reads a snapshot of the WAL database), from a separate read-only connection.
 */
export async function backupDatabase(dataDir: string, dest: string): Promise<{ bytes: number; pages: number }> {
  const src = join(dataDir, DB_FILE);
  if (!existsSync(src)) throw mrlError('VALIDATION', `no database at ${src}`);
  if (existsSync(dest)) throw mrlError('VALIDATION', `${dest} exists; refusing to overwrite it`);
  mkdirSync(dirname(dest), { recursive: true });
  const db = new Database(src, { readonly: true, fileMustExist: true });
  try {
    const r = await db.backup(dest);
    // A standalone file: no -wal/-shm beside it, so it can be read from a read-only mount.
    const copy = new Database(dest);
    copy.pragma('journal_mode = DELETE');
    copy.close();
    return { pages: r.totalPages, bytes: r.totalPages * (db.pragma('page_size', { simple: true }) as number) };
  } finally {
    db.close();
  }
}

/**
 * Restores a backup into a data dir that has no database (or, with `force`, replaces it).
 * The backup is checked first (SQLite integrity and an mrl-server schema); index snapshots in
 * the target are removed, so the next start rebuilds them from the restored rows.
 */
export async function restoreDatabase(
  backup: string,
  dataDir: string,
  opts: { force?: boolean } = {},
): Promise<{ collections: number; items: number }> {
  if (!existsSync(backup)) throw mrlError('VALIDATION', `no backup at ${backup}`);
  const target = join(dataDir, DB_FILE);
  if (existsSync(target) && !opts.force) throw mrlError('VALIDATION', `${target} exists; restore into a fresh data dir or pass --force`);
  const src = new Database(backup, { readonly: true, fileMustExist: true });
  try {
    if (src.pragma('integrity_check', { simple: true }) !== 'ok') throw mrlError('VALIDATION', `${backup} fails SQLite's integrity check`);
    const hasSchema = src
      .prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('schema_migrations', 'collections', 'items')")
      .pluck()
      .get();
    if (hasSchema !== 3) throw mrlError('VALIDATION', `${backup} is not an mrl-server database`);
    mkdirSync(dataDir, { recursive: true });
    for (const f of [target, `${target}-wal`, `${target}-shm`]) rmSync(f, { force: true });
    rmSync(join(dataDir, 'index'), { recursive: true, force: true });
    await src.backup(target);
    return {
      collections: src.prepare('SELECT count(*) FROM collections').pluck().get() as number,
      items: src.prepare('SELECT count(*) FROM items').pluck().get() as number,
    };
  } finally {
    src.close();
  }
}
