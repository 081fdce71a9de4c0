import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { closeDatabase, openDatabase } from '../../src/store/db.js';
import { migrate, readMigrations } from '../../src/store/migrator.js';
import { tempDir } from '../helpers.js';

test('every open sets WAL and synchronous=FULL, including a reopen', (t) => {
  const file = join(tempDir(t), 'a.sqlite');
  for (let i = 0; i < 2; i++) {
    const db = openDatabase(file);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2); // FULL
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    closeDatabase(db);
    closeDatabase(db); // twice is harmless
  }
});

test('migrations apply in order, each once, each in a transaction', (t) => {
  const dir = tempDir(t);
  const mig = join(dir, 'migrations');
  mkdirSync(mig);
  writeFileSync(join(mig, '001_a.sql'), 'CREATE TABLE a (x INTEGER);');
  writeFileSync(join(mig, '002_b.sql'), 'INSERT INTO a VALUES (1);');
  const db = new Database(join(dir, 'm.sqlite'));
  t.after(() => db.close());
  assert.deepEqual(migrate(db, readMigrations(mig)), [1, 2]);
  assert.deepEqual(migrate(db, readMigrations(mig)), []);
  assert.equal(db.prepare('SELECT count(*) FROM a').pluck().get(), 1);
  // A failing migration leaves nothing behind.
  writeFileSync(join(mig, '003_c.sql'), 'INSERT INTO a VALUES (2); INSERT INTO nowhere VALUES (1);');
  assert.throws(() => migrate(db, readMigrations(mig)), /no such table/);
  assert.equal(db.prepare('SELECT count(*) FROM a').pluck().get(), 1);
  assert.equal(db.prepare('SELECT max(version) FROM schema_migrations').pluck().get(), 2);
});

test('a gap in migration numbers is refused', (t) => {
  const mig = tempDir(t);
  writeFileSync(join(mig, '001_a.sql'), 'SELECT 1;');
  writeFileSync(join(mig, '003_c.sql'), 'SELECT 1;');
  assert.throws(() => readMigrations(mig), /without gaps/);
});

test('a database from a newer server is refused', (t) => {
  const file = join(tempDir(t), 'n.sqlite');
  closeDatabase(openDatabase(file));
  const raw = new Database(file);
  raw.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 'x')").run();
  raw.close();
  assert.throws(
    () => openDatabase(file),
    (e: unknown) => (e as { code?: string }).code === 'STORE_CORRUPT',
  );
});
