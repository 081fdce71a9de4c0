import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KEYS_RESYNC_MS, KeyMirror } from '../../src/cluster/key-sync.js';
import { openNats, type Nats } from '../../src/cluster/nats.js';
import { ApiKeyStore } from '../../src/store/api-keys.js';
import { closeDatabase, openDatabase, type Db } from '../../src/store/db.js';
import { Procs, restartNats, startNats, until, type NatsCluster } from './harness.js';

/**
 * One node's key mirror against 3 real nats-servers: changes must arrive through the watch and a
 * reconnect must resync, both well before the periodic resync (KEYS_RESYNC_MS) could run.
 */
describe('API key mirror', { timeout: 120_000 }, () => {
  const procs = new Procs();
  let nats: NatsCluster;
  let n: Nats;
  let db: Db;
  let store: ApiKeyStore;
  let mirror: KeyMirror;
  let startedAt = 0;
  const has = (name: string) => store.shared().some((k) => k.name === name);

  before(async () => {
    nats = await startNats(procs);
    n = await openNats(nats.urls, 'key-mirror-test');
    db = openDatabase(join(procs.dir, 'node.db'));
    store = new ApiKeyStore(db);
    mirror = new KeyMirror(n.nc, n.keys, store, 6000, () => undefined);
    startedAt = Date.now();
    await mirror.start();
  });
  after(async () => {
    mirror?.stop();
    await n?.nc.close();
    if (db) closeDatabase(db);
    await procs.stopAll();
  });

  test('a key put into the bucket and deleted from it by another node reaches the table through the watch', async () => {
    const { shared, secret } = store.draft({ name: 'other', role: 'read' });
    await n.keys.create('other', JSON.stringify(shared));
    await until(async () => has('other'), 'the new key in the table', 5000);
    assert.equal(store.verify(secret)?.role, 'read');
    await n.keys.delete('other');
    await until(async () => !has('other'), 'the revocation in the table', 5000);
    assert.equal(store.verify(secret), null);
  });

  test('a reconnect resyncs: a key the table lost comes back once the node reconnects to another NATS server', async () => {
    const made = await mirror.create({ name: 'kept', role: 'write' });
    assert.equal((await n.keys.get('kept'))?.operation, 'PUT');
    store.revoke('kept'); // this table alone changes, as `mrl keys revoke` on the node's data dir does
    assert.equal(store.verify(made.secret), null);
    const mine = nats.urls.findIndex((u) => u.endsWith(n.nc.getServer()));
    assert.ok(mine >= 0, `connected to ${n.nc.getServer()}`);
    await procs.stop(nats.names[mine]);
    await until(async () => store.verify(made.secret) !== null, 'the key back in the table', 40_000);
    assert.ok(Date.now() - startedAt < KEYS_RESYNC_MS, 'restored by the reconnect, not by a periodic resync');
    restartNats(procs, nats, mine);
  });

  test('after its NATS server went away, the watch still delivers changes', async () => {
    const { shared } = store.draft({ name: 'later', role: 'read' });
    await n.keys.create('later', JSON.stringify(shared));
    await until(async () => has('later'), 'the key put after the reconnect', 30_000);
    assert.ok(Date.now() - startedAt < KEYS_RESYNC_MS, 'through the watch, not a periodic resync');
  });
});
