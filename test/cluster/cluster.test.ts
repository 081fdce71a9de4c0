import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { mrlLikeVectors } from '../helpers.js';
import { createKernel } from '../../src/compute/create-kernel.js';
import { DataContext } from '../../src/data-context.js';
import { shardOf } from '../../src/cluster/shard.js';
import { createHash } from 'node:crypto';
import { connect } from 'nats';
import { KEYS_RESYNC_MS } from '../../src/cluster/key-sync.js';
import {
  api,
  apiAs,
  KEY,
  maxSeqs,
  Procs,
  restartNats,
  startNats,
  startNode,
  status,
  until,
  waitApplied,
  WRITE_TIMEOUT_MS,
  type NatsCluster,
  type Node,
} from './harness.js';

/**
 * A real cluster on loopback: 3 nats-server processes (JetStream, R3) and 3 mrl-server
 * processes, each serving two of three shards (every shard has two replicas):
 * n1 0,1 · n2 1,2 · n3 2,0. Tests run in order and share it.
 */
const DIM = 32;
const SERVE = { n1: '0,1', n2: '1,2', n3: '2,0' } as const;
const served = (spec: string) => spec.split(',').map(Number);
const items = (n: number, seed: number, prefix: string) => {
  const { vectors, labels } = mrlLikeVectors(n, DIM, seed);
  return vectors.map((vector, i) => ({ id: `${prefix}${i}`, vector, label: labels[i] }));
};

/** The id of the exact nearest item, once the answering replicas applied `after`. */
async function nearest(node: Node, collection: string, vector: number[], after: Record<string, number>): Promise<string> {
  const r = await api(node, 'POST', '/search', { collection, vector, k: 1, exact: true, consistency: { after } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results[0].id as string;
}

describe('cluster', { timeout: 300_000 }, () => {
  const procs = new Procs();
  let nats: NatsCluster;
  const nodes: Record<string, Node> = {};
  const docsSeqs: Record<string, number> = {};
  const docs = items(2000, 7, 'd');

  before(async () => {
    nats = await startNats(procs);
    const started = await Promise.all((['n1', 'n2', 'n3'] as const).map((n) => startNode(procs, nats, n, SERVE[n])));
    for (const n of started) nodes[n.name] = n;
  });
  after(async () => {
    await procs.stopAll();
  });

  test('node-to-node routes need the cluster key; the API needs an API key', async () => {
    assert.equal((await fetch(`${nodes.n1.url}/collections`)).status, 401);
    const r = await fetch(`${nodes.n1.url}/cluster/status`);
    assert.equal(r.status, 403);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'CLUSTER_FORBIDDEN');
    assert.equal((await status(nodes.n1)).started, true);
  });

  test('an ingest through any node is searchable through every node', async () => {
    const c = await api(nodes.n1, 'POST', '/collections', { name: 'docs', dim: DIM, shards: 3, replicas: 3 });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.shards, 3);
    const twice = await api(nodes.n2, 'POST', '/collections', { name: 'docs', dim: DIM, shards: 3 });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'COLLECTION_EXISTS');
    assert.equal((await api(nodes.n3, 'POST', '/collections', { name: 'a.b', dim: DIM })).body.error.code, 'INVALID_COLLECTION');
    // each third of the items through another node
    for (let i = 0; i < 3; i++) {
      const via = nodes[`n${i + 1}`];
      const part = docs.slice(i * 700, (i + 1) * 700);
      const r = await api(via, 'POST', '/ingest', { collection: 'docs', items: part, wait: true });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.upserted, part.length);
      maxSeqs(docsSeqs, r.body.seqs);
    }
    assert.deepEqual(Object.keys(docsSeqs).sort(), ['0', '1', '2']);
    for (const n of Object.values(nodes)) {
      for (const probe of [docs[5], docs[1000], docs[1999]]) {
        const r = await api(n, 'POST', '/search', {
          collection: 'docs',
          vector: probe.vector,
          k: 3,
          exact: true,
          consistency: { after: docsSeqs },
        });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.results[0].id, probe.id, `${n.name} finds ${probe.id}`);
        const covered = (r.body.shards as { shards: number[] }[]).flatMap((s) => s.shards).sort();
        assert.deepEqual(covered, [0, 1, 2]);
      }
      const item = await api(n, 'GET', `/collections/docs/items/${docs[42].id}`);
      assert.equal(item.status, 200);
      assert.equal(item.body.id, docs[42].id);
    }
    // every node holds exactly its shards
    for (const n of Object.values(nodes)) {
      const mine = docs.filter((d) => served(SERVE[n.name as keyof typeof SERVE]).includes(shardOf(d.id, 3))).length;
      assert.equal((await api(n, 'GET', '/collections/docs')).body.count, mine, n.name);
    }
  });

  test("answers of a 3-shard cluster equal a single node's on the same data", async (t) => {
    const kernel = await createKernel({ backend: 'js', threads: 1 });
    const single = await DataContext.open({ dataDir: procs.dir + '/single', kernel });
    t.after(async () => {
      await single.close();
      await kernel.close();
    });
    single.engine.createCollection({ name: 'docs', dim: DIM });
    await single.engine.upsert('docs', docs);
    const queries = items(8, 99, 'q');
    for (const [i, q] of queries.entries()) {
      const opts = { k: 10, exact: true };
      const want = await single.engine.search('docs', { vector: q.vector }, opts);
      const via = nodes[`n${(i % 3) + 1}`];
      const got = await api(via, 'POST', '/search', { collection: 'docs', vector: q.vector, ...opts });
      assert.equal(got.status, 200);
      assert.deepEqual(
        got.body.results.map((h: { id: string }) => h.id),
        want.results.map((h) => h.id),
      );
      got.body.results.forEach((h: { score: number }, j: number) => assert.ok(Math.abs(h.score - want.results[j].score) < 1e-5));
    }
    // a query by id leaves the item out, as on one node
    const want = await single.engine.search('docs', { id: docs[3].id }, { k: 5, exact: true });
    const got = await api(nodes.n2, 'POST', '/search', { collection: 'docs', id: docs[3].id, k: 5, exact: true });
    assert.deepEqual(
      got.body.results.map((h: { id: string }) => h.id),
      want.results.map((h) => h.id),
    );
  });

  test('read-your-writes waits are bounded; a shard with no live replica is 503 or a flagged partial answer', async () => {
    const far = { 0: docsSeqs['0'] + 1_000_000 };
    const r = await api(nodes.n1, 'POST', '/search', {
      collection: 'docs',
      vector: docs[0].vector,
      consistency: { after: far, timeoutMs: 300 },
    });
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, 'CONSISTENCY_TIMEOUT');
    // shard 3 of a 4-shard collection is served by no node
    assert.equal((await api(nodes.n2, 'POST', '/collections', { name: 'wide', dim: DIM, shards: 4 })).status, 201);
    const w = await api(nodes.n2, 'POST', '/ingest', { collection: 'wide', items: docs.slice(0, 200), wait: true });
    assert.equal(w.status, 200);
    const none = await api(nodes.n3, 'POST', '/search', { collection: 'wide', vector: docs[0].vector });
    assert.equal(none.status, 503);
    assert.equal(none.body.error.code, 'SHARD_UNAVAILABLE');
    const part = await api(nodes.n3, 'POST', '/search', {
      collection: 'wide',
      vector: docs[0].vector,
      k: 5,
      allowPartial: true,
      consistency: { after: w.body.seqs },
    });
    assert.equal(part.status, 200, JSON.stringify(part.body));
    assert.equal(part.body.partial, true);
    assert.deepEqual(part.body.missingShards, [3]);
    assert.equal(part.body.results.length, 5);
  });

  test('a delete, a patch and a drop go through the log to every node; a name dropped can be created again', async () => {
    const id = docs[10].id; // one of the 200 in 'wide'
    const del = await api(nodes.n1, 'DELETE', `/collections/wide/items/${id}`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.equal(del.body.deleted, 1);
    // every replica first: a node that does not hold the item's shard reads it from a peer
    for (const n of Object.values(nodes)) await waitApplied(n, 'wide', del.body.seqs);
    for (const n of Object.values(nodes))
      assert.equal((await api(n, 'GET', `/collections/wide/items/${id}`)).body.error?.code, 'ITEM_NOT_FOUND', n.name);
    assert.equal((await api(nodes.n2, 'DELETE', `/collections/wide/items/${id}`)).status, 404);
    const other = docs[11].id;
    const patched = await api(nodes.n2, 'PATCH', `/collections/wide/items/${other}`, { label: 'patched', payload: { n: 1 } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.label, 'patched');
    for (const n of Object.values(nodes)) {
      await until(
        async () => (await api(n, 'GET', `/collections/wide/items/${other}`)).body.label === 'patched',
        `${n.name} sees the patch`,
      );
      assert.deepEqual((await api(n, 'GET', `/collections/wide/items/${other}`)).body.payload, { n: 1 });
    }
    assert.equal((await api(nodes.n1, 'PATCH', `/collections/wide/items/${id}`, { label: 'x' })).status, 404);
    assert.equal((await api(nodes.n3, 'DELETE', '/collections/wide')).status, 200);
    for (const n of Object.values(nodes))
      await until(async () => (await api(n, 'GET', '/collections/wide')).status === 404, `${n.name} dropped wide`);
    const again = await api(nodes.n2, 'POST', '/collections', { name: 'wide', dim: DIM, shards: 2 });
    assert.equal(again.status, 201);
    for (const n of Object.values(nodes)) {
      await until(async () => (await api(n, 'GET', '/collections/wide')).body.shards === 2, `${n.name} has the new wide`);
      assert.equal((await api(n, 'GET', '/collections/wide')).body.count, 0);
    }
  });

  test('API keys are cluster-wide: made on one node they authorise on every node; revoked on another, every node refuses them', async () => {
    const made = await api(nodes.n1, 'POST', '/keys', { name: 'reader', role: 'read' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const secret = made.body.key as string;
    /** Waits until every node answers the key with `code` (through the watch: far sooner than a periodic resync); returns how long that took. */
    const everyNode = async (code: number, what: string) => {
      const t0 = Date.now();
      for (const n of Object.values(nodes))
        await until(async () => (await apiAs(secret, n, 'GET', '/collections')).status === code, `${n.name} ${what}`, KEYS_RESYNC_MS / 6);
      return Date.now() - t0;
    };
    const spread = await everyNode(200, 'takes the new key');
    assert.equal((await apiAs(secret, nodes.n3, 'POST', '/collections', { name: 'nope', dim: DIM })).status, 403, 'the role travels too');
    assert.equal((await api(nodes.n2, 'POST', '/keys', { name: 'reader', role: 'admin' })).body.error.code, 'KEY_EXISTS');
    const listed = await api(nodes.n3, 'GET', '/keys');
    assert.deepEqual(
      listed.body.keys.filter((k: { name: string }) => k.name === 'reader').map((k: { role: string }) => k.role),
      ['read'],
    );
    // the bucket holds the key's SHA-256, never the key
    const nc = await connect({ servers: nats.urls });
    try {
      const e = await (await nc.jetstream().views.kv('mrl_keys')).get('reader');
      const stored = Buffer.from(e!.value).toString('utf8');
      assert.ok(!stored.includes(secret) && !stored.includes(secret.slice(4)), 'no secret in the bucket');
      assert.equal(JSON.parse(stored).hash, createHash('sha256').update(secret).digest('hex'));
    } finally {
      await nc.close();
    }
    assert.equal((await api(nodes.n2, 'DELETE', '/keys/reader')).status, 204);
    const revoked = await everyNode(401, 'refuses the revoked key');
    process.stdout.write(`# key spread to 3 nodes in ${spread} ms, revocation in ${revoked} ms\n`);
    assert.equal((await api(nodes.n1, 'DELETE', '/keys/reader')).status, 404);
  });

  test('search defaults applied by a sweep on one node and indexed fields changed on another are used by every node', async () => {
    const sw = await api(nodes.n1, 'POST', '/eval/sweep', {
      collection: 'docs',
      queries: { sample: 40, seed: 3 },
      grid: { indexDims: [8], shortlists: [150], rerankDims: [32], funnels: [] },
      targetRecall: 0.3,
      cost: 'flops',
      perDim: false,
      apply: true,
    });
    assert.equal(sw.status, 200, JSON.stringify(sw.body));
    assert.equal(sw.body.applied, true);
    for (const n of Object.values(nodes))
      await until(async () => (await api(n, 'GET', '/collections/docs')).body.indexDim === 8, `${n.name} takes the sweep's index dims`);
    for (const n of Object.values(nodes)) {
      assert.equal((await api(n, 'GET', '/collections/docs')).body.searchDefaults.shortlist, 150, n.name);
      // a search with no options plans from them on every replica it reaches
      const r = await api(n, 'POST', '/search', { collection: 'docs', vector: docs[9].vector, k: 3 });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      for (const s of r.body.shards as { node: string; stages: { dims: number; candidates: number }[] }[])
        assert.deepEqual([s.stages[0].dims, s.stages[0].candidates], [8, 150], `${s.node} searched through ${n.name}`);
    }
    const patched = await api(nodes.n2, 'PATCH', '/collections/docs', { indexedFields: ['year'] });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    for (const n of Object.values(nodes)) {
      await until(
        async () => JSON.stringify((await api(n, 'GET', '/collections/docs')).body.indexedFields) === '["year"]',
        `${n.name} takes the indexed fields`,
      );
      // every node validates writes against them
      const bad = await api(n, 'POST', '/ingest', {
        collection: 'docs',
        items: [{ id: 'yr', vector: docs[0].vector, payload: { year: [1] } }],
      });
      assert.equal(bad.status, 400, `${n.name}: ${JSON.stringify(bad.body)}`);
      assert.match(bad.body.error.message, /indexed field/);
    }
    assert.equal((await api(nodes.n1, 'GET', '/collections/docs')).body.indexDim, 8, 'the second change kept the first');
  });

  test('an adapt-bound collection answers the same through every node', async () => {
    const a = await api(nodes.n1, 'POST', '/collections/docs/adapt', { target: 'docs_pca' });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.equal(a.body.copied, docs.length, 'every shard was copied, also those n1 does not serve');
    for (const n of Object.values(nodes)) {
      const mine = docs.filter((d) => served(SERVE[n.name as keyof typeof SERVE]).includes(shardOf(d.id, 3))).length;
      await until(async () => (await api(n, 'GET', '/collections/docs_pca')).body.count === mine, `${n.name} applied docs_pca`, 60_000);
    }
    // the rotation keeps full-D cosine: the exact answers of the rotated copy are the source's, through every node
    for (const q of items(4, 77, 'q')) {
      const want = await api(nodes.n2, 'POST', '/search', { collection: 'docs', vector: q.vector, k: 5, exact: true });
      for (const n of Object.values(nodes)) {
        const got = await api(n, 'POST', '/search', { collection: 'docs_pca', vector: q.vector, k: 5, exact: true });
        assert.equal(got.status, 200, JSON.stringify(got.body));
        assert.deepEqual(
          got.body.results.map((h: { id: string }) => h.id),
          want.body.results.map((h: { id: string }) => h.id),
          n.name,
        );
        got.body.results.forEach((h: { score: number }, j: number) => assert.ok(Math.abs(h.score - want.body.results[j].score) < 1e-4));
      }
    }
    // an item of a shard n2 does not serve, read through n2, comes back as it was given
    const far = docs.find((d) => shardOf(d.id, 3) === 0)!;
    const item = await api(nodes.n2, 'GET', `/collections/docs_pca/items/${far.id}`);
    assert.equal(item.status, 200);
    (item.body.vector as number[]).forEach((x, i) => assert.ok(Math.abs(x - far.vector[i]) < 1e-4));
  });

  test('SIGKILL of a node during a 20k-item ingest loses no acknowledged item; it catches up on restart', async () => {
    assert.equal((await api(nodes.n1, 'POST', '/collections', { name: 'bulk', dim: DIM, shards: 3 })).status, 201);
    const bulk = items(20_000, 11, 'b');
    const seqs: Record<string, number> = {};
    const acked: string[] = [];
    const BATCH = 500;
    let retried = 0;
    for (let i = 0; i < bulk.length; i += BATCH) {
      if (i === 5 * BATCH) await procs.stop('n3', 'SIGKILL');
      if (i === 6 * BATCH) {
        // reads keep working while n3 is gone (its shards are retried on their other replica)
        for (const q of bulk.slice(0, 5)) {
          const r = await api(nodes.n1, 'POST', '/search', { collection: 'bulk', vector: q.vector, k: 1, exact: true });
          assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.equal(r.body.results[0].id, q.id);
          retried += r.body.shards.length;
        }
      }
      const via = i % (2 * BATCH) === 0 ? nodes.n1 : nodes.n2;
      const r = await api(via, 'POST', '/ingest', { collection: 'bulk', items: bulk.slice(i, i + BATCH) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      acked.push(...bulk.slice(i, i + BATCH).map((b) => b.id));
      maxSeqs(seqs, r.body.seqs);
    }
    assert.ok(retried > 0);
    nodes.n3 = await startNode(procs, nats, 'n3', SERVE.n3, {}, nodes.n3);
    for (const n of Object.values(nodes)) await waitApplied(n, 'bulk', seqs);
    for (const n of Object.values(nodes)) {
      const mine = acked.filter((id) => served(SERVE[n.name as keyof typeof SERVE]).includes(shardOf(id, 3))).length;
      assert.equal((await api(n, 'GET', '/collections/bulk')).body.count, mine, `${n.name} holds every acknowledged item of its shards`);
    }
    for (const q of [bulk[100], bulk[2600], bulk[19_999]]) assert.equal(await nearest(nodes.n3, 'bulk', q.vector, seqs), q.id);
  });

  test('stopping one NATS server keeps writes and reads going', async () => {
    await procs.stop(nats.names[1]);
    const more = items(300, 21, 'm').map((it, i) => ({ ...it, text: `keyword${i} shared` }));
    const seqs: Record<string, number> = {};
    for (const [i, n] of Object.values(nodes).entries()) {
      // acknowledged = stored on a quorum of the two NATS servers left
      const r = await api(n, 'POST', '/ingest', { collection: 'docs', items: more.slice(i * 100, (i + 1) * 100) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      maxSeqs(seqs, r.body.seqs);
    }
    maxSeqs(docsSeqs, seqs);
    for (const n of Object.values(nodes)) {
      // replicas whose consumer was on the stopped server start another: allow them the time of a failover
      const r = await api(n, 'POST', '/search', {
        collection: 'docs',
        vector: more[250].vector,
        k: 1,
        exact: true,
        consistency: { after: seqs, timeoutMs: 30_000 },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.results[0].id, more[250].id);
      // keyword text travels in the log too: a keyword search through the shards finds it
      const kw = await api(n, 'POST', '/search', { collection: 'docs', text: 'keyword250', k: 3 });
      assert.equal(kw.status, 200, JSON.stringify(kw.body));
      assert.equal(kw.body.mode, 'keyword');
      assert.deepEqual(
        kw.body.results.map((h: { id: string }) => h.id),
        [more[250].id],
      );
    }
    docs.push(...more);
  });

  test('2 of 3 NATS servers stopped: writes fail with a coded 503 within their bound, reads answer from local state; writes resume after a restart', async () => {
    await procs.stop(nats.names[2]); // nats2 is still down: nats1 alone has no quorum
    const lost = items(30, 41, 'lost');
    const timings: Record<string, number> = {};
    const timed = async <T>(what: string, p: Promise<T>): Promise<T> => {
      const t0 = Date.now();
      const r = await p;
      timings[what] = Date.now() - t0;
      return r;
    };
    // a write through each node, and a key, at once
    const [writes, key, coll] = await Promise.all([
      Promise.all(
        Object.values(nodes).map((n, i) =>
          timed(n.name, api(n, 'POST', '/ingest', { collection: 'docs', items: lost.slice(i * 10, (i + 1) * 10) })),
        ),
      ),
      timed('key', api(nodes.n2, 'POST', '/keys', { name: 'during-outage', role: 'read' })),
      timed('collection', api(nodes.n3, 'POST', '/collections', { name: 'during_outage', dim: DIM })),
    ]);
    for (const r of [...writes, key, coll]) {
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'CLUSTER_UNAVAILABLE');
    }
    for (const ms of Object.values(timings))
      assert.ok(ms < WRITE_TIMEOUT_MS + 3000, `answered within the bound: ${JSON.stringify(timings)}`);
    // reads, past the registry's liveness window: every node answers from what it applied
    // (peers stay candidates while nobody can heartbeat)
    for (const n of Object.values(nodes)) {
      const r = await api(n, 'POST', '/search', { collection: 'docs', vector: docs[1500].vector, k: 1, exact: true });
      assert.equal(r.status, 200, `${n.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.results[0].id, docs[1500].id);
      assert.equal((await api(n, 'GET', `/collections/docs/items/${docs[77].id}`)).status, 200);
    }
    restartNats(procs, nats, 1);
    restartNats(procs, nats, 2);
    const t2 = Date.now();
    const back = items(30, 43, 'back');
    const seqs: Record<string, number> = {};
    for (const [i, n] of Object.values(nodes).entries()) {
      let r = await api(n, 'POST', '/ingest', { collection: 'docs', items: back.slice(i * 10, (i + 1) * 10) });
      while (r.status === 503 && Date.now() - t2 < 90_000)
        r = await api(n, 'POST', '/ingest', { collection: 'docs', items: back.slice(i * 10, (i + 1) * 10) });
      assert.equal(r.status, 200, `${n.name}: ${JSON.stringify(r.body)}`);
      maxSeqs(seqs, r.body.seqs);
      timings[`resumed-${n.name}`] = Date.now() - t2;
    }
    maxSeqs(docsSeqs, seqs);
    docs.push(...back);
    for (const n of Object.values(nodes)) assert.equal(await nearest(n, 'docs', back[25].vector, seqs), back[25].id);
    // a refused write was never acknowledged; whether the log kept it anyway is what this measures
    await Promise.all(Object.values(nodes).map((n) => waitApplied(n, 'docs', seqs)));
    const kept = [];
    for (const it of lost) if ((await api(nodes.n1, 'GET', `/collections/docs/items/${it.id}`)).status === 200) kept.push(it);
    docs.push(...kept);
    process.stdout.write(`# no quorum: ${JSON.stringify(timings)} ms; refused items kept by the log: ${kept.length} of ${lost.length}\n`);
  });

  test('a node added later catches up from a backup plus the stream', async () => {
    for (const n of Object.values(nodes)) await waitApplied(n, 'docs', docsSeqs);
    await new Promise((r) => setTimeout(r, 1500)); // heartbeats carry the applied sequences
    const purged = await fetch(`${nodes.n1.url}/cluster/compact`, { method: 'POST', headers: { 'x-mrl-cluster-key': KEY } });
    assert.ok(((await purged.json()) as { purged: number }).purged > 0, 'the log was purged up to what every replica applied');
    // written after the backup point: the new node gets these from the stream
    const late = items(150, 31, 'late');
    const w = await api(nodes.n2, 'POST', '/ingest', { collection: 'docs', items: late });
    assert.equal(w.status, 200);
    maxSeqs(docsSeqs, w.body.seqs);
    docs.push(...late);
    nodes.n4 = await startNode(procs, nats, 'n4', '0,1', { MRL_JOIN_FROM: nodes.n1.url });
    const s = await status(nodes.n4);
    assert.ok(s.joined && s.joined.items > 0, "n4 started from n1's backup");
    await waitApplied(nodes.n4, 'docs', docsSeqs);
    const mine = docs.filter((d) => [0, 1].includes(shardOf(d.id, 3))).length;
    assert.equal((await api(nodes.n4, 'GET', '/collections/docs')).body.count, mine);
    assert.equal(s.shards.filter((x) => x.broken).length, 0);
    assert.equal(await nearest(nodes.n4, 'docs', late[77].vector, docsSeqs), late[77].id);
  });
});
