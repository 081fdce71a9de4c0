import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { MrlError } from '../../src/errors.js';
import { ApiKeyStore } from '../../src/store/api-keys.js';
import { closeDatabase, openDatabase } from '../../src/store/db.js';
import { defer, tempDir } from '../helpers.js';

test('shared keys: a draft writes nothing, put stores it by name (its hash, never the secret), shared lists what a cluster shares', (t) => {
  const db = openDatabase(join(tempDir(t), 'mrl.sqlite'));
  defer(t, () => closeDatabase(db));
  const keys = new ApiKeyStore(db);
  const { shared, secret } = keys.draft({ name: 'reader', role: 'read', collections: ['docs'] });
  assert.equal(keys.count(), 0, 'a draft is written nowhere');
  assert.equal(shared.hash, createHash('sha256').update(secret).digest('hex'));
  assert.ok(!JSON.stringify(shared).includes(secret));
  keys.put(shared);
  assert.equal(keys.verify(secret)?.name, 'reader');
  assert.deepEqual(keys.shared(), [shared]);
  // the same name again: replaced in place (a role change made on another node)
  keys.put({ ...shared, role: 'write' });
  assert.equal(keys.verify(secret)?.role, 'write');
  assert.equal(keys.count(), 1);
  // another name with the same hash is the same secret: the older row goes
  keys.put({ ...shared, name: 'renamed' });
  assert.deepEqual(
    keys.list().map((k) => k.name),
    ['renamed'],
  );
  assert.throws(
    () => keys.draft({ name: 'renamed', role: 'read' }),
    (e: unknown) => e instanceof MrlError && e.code === 'KEY_EXISTS',
  );
  assert.throws(
    () => keys.put({ ...shared, hash: 'abcd' }),
    (e: unknown) => e instanceof MrlError && e.code === 'INVALID_KEY',
  );
  assert.equal(keys.revoke('renamed'), true);
  assert.equal(keys.verify(secret), null);
});
