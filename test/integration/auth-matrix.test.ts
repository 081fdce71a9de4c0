import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { registeredRoutes } from '../../src/http/auth.js';
import { bearer, buildAuthApp } from '../fixtures/auth-app.js';

type Role = 'read' | 'write' | 'admin';
type Who = 'none' | 'unknown' | Role | 'scoped';
const WHO: Who[] = ['none', 'unknown', 'read', 'write', 'admin', 'scoped'];
const RANK = { read: 0, write: 1, admin: 2 } as const;

/**
 * One sample request per route, written here and not derived from the server's table: the role
 * it needs, the status an allowed caller gets, and what the key scoped to `other` (an admin
 * there) gets: 'hidden' (404 as if the collection did not exist), 'allowed', or 'forbidden'.
 * `n` makes each call unique where a call consumes something (a collection to drop, …).
 */
interface Case {
  role: 'open' | Role;
  ok: number;
  okCode?: string;
  scoped: 'hidden' | 'allowed' | 'forbidden';
  hiddenCode?: string;
  req: (n: number) => InjectOptions;
}

const json = (method: InjectOptions['method'], url: string, payload: unknown) => ({
  method,
  url,
  payload: payload as InjectOptions['payload'],
});
let jobId = '';

const CASES: Record<string, Case> = {
  'GET /health': { role: 'open', ok: 200, scoped: 'allowed', req: () => ({ url: '/health' }) },
  'GET /ready': { role: 'open', ok: 200, scoped: 'allowed', req: () => ({ url: '/ready' }) },
  'GET /': { role: 'open', ok: 200, scoped: 'allowed', req: () => ({ url: '/' }) },
  'GET /static/:file': { role: 'open', ok: 200, scoped: 'allowed', req: () => ({ url: '/static/app.js' }) },
  'GET /metrics': { role: 'read', ok: 200, scoped: 'forbidden', req: () => ({ url: '/metrics' }) },
  'GET /collections': { role: 'read', ok: 200, scoped: 'allowed', req: () => ({ url: '/collections' }) },
  'POST /collections': { role: 'admin', ok: 201, scoped: 'hidden', req: (n) => json('POST', '/collections', { name: `new${n}`, dim: 8 }) },
  'GET /collections/:name': { role: 'read', ok: 200, scoped: 'hidden', req: () => ({ url: '/collections/docs' }) },
  'DELETE /collections/:name': {
    role: 'admin',
    ok: 200,
    scoped: 'hidden',
    req: (n) => ({ method: 'DELETE', url: `/collections/tmp${n}` }),
  },
  'GET /collections/:name/items/:id': { role: 'read', ok: 200, scoped: 'hidden', req: () => ({ url: '/collections/docs/items/v1' }) },
  'DELETE /collections/:name/items/:id': {
    role: 'write',
    ok: 200,
    scoped: 'hidden',
    req: (n) => ({ method: 'DELETE', url: `/collections/docs/items/del${n}` }),
  },
  'PATCH /collections/:name': {
    role: 'admin',
    ok: 200,
    scoped: 'hidden',
    req: () => json('PATCH', '/collections/docs', { indexedFields: ['n'] }),
  },
  'PATCH /collections/:name/items/:id': {
    role: 'write',
    ok: 200,
    scoped: 'hidden',
    req: () => json('PATCH', '/collections/docs/items/v1', { label: 'patched' }),
  },
  'POST /ingest': {
    role: 'write',
    ok: 200,
    scoped: 'hidden',
    req: (n) =>
      json('POST', '/ingest', { collection: 'docs', items: [{ id: `ing${n}`, vector: Array.from({ length: 16 }, (_, j) => j + 1) }] }),
  },
  'GET /search': { role: 'read', ok: 200, scoped: 'hidden', req: () => ({ url: '/search?collection=docs&id=v1&k=3' }) },
  'POST /search': { role: 'read', ok: 200, scoped: 'hidden', req: () => json('POST', '/search', { collection: 'docs', id: 'v2', k: 3 }) },
  'GET /models': { role: 'read', ok: 200, scoped: 'allowed', req: () => ({ url: '/models' }) },
  'POST /embed': {
    role: 'read',
    ok: 400,
    okCode: 'UNKNOWN_ENCODER',
    scoped: 'allowed',
    req: () => json('POST', '/embed', { model: 'none-here', inputs: ['x'] }),
  },
  'POST /v1/embeddings': {
    role: 'read',
    ok: 400,
    okCode: 'UNKNOWN_ENCODER',
    scoped: 'allowed',
    req: () => json('POST', '/v1/embeddings', { model: 'none-here', input: 'x' }),
  },
  'POST /classify': {
    role: 'read',
    ok: 400,
    okCode: 'UNKNOWN_ENCODER',
    scoped: 'allowed',
    req: () => json('POST', '/classify', { model: 'none-here', inputs: ['x'] }),
  },
  'GET /eval': { role: 'write', ok: 200, scoped: 'hidden', req: () => ({ url: '/eval?collection=docs&sample=12&seed=1' }) },
  'POST /eval/sweep': {
    role: 'write',
    ok: 200,
    scoped: 'hidden',
    req: () =>
      json('POST', '/eval/sweep', {
        collection: 'docs',
        queries: { sample: 12, seed: 1 },
        grid: { indexDims: [8], shortlists: [20] },
        perDim: false,
      }),
  },
  'GET /eval/jobs/:id': {
    role: 'read',
    ok: 200,
    scoped: 'hidden',
    hiddenCode: 'JOB_NOT_FOUND',
    req: () => ({ url: `/eval/jobs/${jobId}` }),
  },
  'GET /eval/latest': { role: 'read', ok: 200, scoped: 'hidden', req: () => ({ url: '/eval/latest?collection=docs' }) },
  'GET /collections/:name/quality': {
    role: 'read',
    ok: 200,
    scoped: 'hidden',
    req: () => ({ url: '/collections/docs/quality?sample=12' }),
  },
  'POST /collections/:name/adapt': {
    role: 'admin',
    ok: 201,
    scoped: 'hidden',
    req: (n) => json('POST', '/collections/docs/adapt', { target: `pca${n}`, sample: 40 }),
  },
  'POST /keys': { role: 'admin', ok: 201, scoped: 'forbidden', req: (n) => json('POST', '/keys', { name: `made${n}`, role: 'read' }) },
  'GET /keys': { role: 'admin', ok: 200, scoped: 'forbidden', req: () => ({ url: '/keys' }) },
  'DELETE /keys/:name': { role: 'admin', ok: 204, scoped: 'forbidden', req: (n) => ({ method: 'DELETE', url: `/keys/gone${n}` }) },
};

function expected(c: Case, who: Who): { status: number; code?: string } {
  if (c.role === 'open') return { status: c.ok, code: c.okCode };
  if (who === 'none' || who === 'unknown') return { status: 401, code: 'UNAUTHENTICATED' };
  if (who === 'scoped') {
    if (c.scoped === 'hidden') return { status: 404, code: c.hiddenCode ?? 'COLLECTION_NOT_FOUND' };
    if (c.scoped === 'forbidden') return { status: 403, code: 'FORBIDDEN' };
    return { status: c.ok, code: c.okCode };
  }
  return RANK[who] >= RANK[c.role] ? { status: c.ok, code: c.okCode } : { status: 403, code: 'FORBIDDEN' };
}

test('every registered route × {no key, unknown key, read, write, admin, key scoped to another collection}', async (t) => {
  const { app, ctx, keys, vectors } = await buildAuthApp(t);
  const secret: Record<Who, string | undefined> = {
    none: undefined,
    unknown: `mrl_${'x'.repeat(43)}`,
    read: keys.read,
    write: keys.write,
    admin: keys.admin,
    scoped: keys.scoped,
  };
  const job = ctx.evals.startJob('eval', { collection: 'docs', queries: { sample: 12, seed: 2 } });
  jobId = job.id;
  while (ctx.evals.jobs.get(jobId).state === 'running') await new Promise((r) => setTimeout(r, 20));

  // The route list comes from the app: a new route without a case here fails this test.
  const routes = registeredRoutes(app).filter((r) => r.method !== 'HEAD' && r.url !== '/docs' && !r.url.startsWith('/docs/'));
  const keysOf = routes.map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(
    keysOf.filter((k) => !(k in CASES)),
    [],
    'routes with no case in the access matrix',
  );
  assert.deepEqual(
    Object.keys(CASES).filter((k) => !keysOf.includes(k)),
    [],
    'cases for routes the app does not have',
  );

  let n = 0;
  let checked = 0;
  for (const route of keysOf) {
    const c = CASES[route];
    for (const who of WHO) {
      n++;
      // What the call consumes, made fresh for each caller.
      ctx.engine.createCollection({ name: `tmp${n}`, dim: 8 });
      await ctx.engine.upsert('docs', [{ id: `del${n}`, vector: vectors[n % vectors.length] }]);
      ctx.keys.create({ name: `gone${n}`, role: 'read' });
      const opts = c.req(n);
      const res = await app.inject({ ...opts, headers: { ...opts.headers, ...bearer(secret[who]) } });
      const want = expected(c, who);
      const label = `${route} as ${who}: ${res.body.slice(0, 200)}`;
      assert.equal(res.statusCode, want.status, label);
      if (want.code) assert.equal(res.json().error.code, want.code, label);
      if (want.status === 401) {
        assert.match(
          String(res.headers['www-authenticate']),
          who === 'unknown' ? /^Bearer realm="mrl-server", error="invalid_token"$/ : /^Bearer realm="mrl-server"$/,
          label,
        );
      }
      checked++;
    }
  }
  assert.equal(checked, keysOf.length * WHO.length);

  // HEAD follows GET; the docs are open; a URL no route matches needs a key, then is a coded 404.
  assert.equal((await app.inject({ method: 'HEAD', url: '/collections' })).statusCode, 401);
  assert.equal((await app.inject({ method: 'HEAD', url: '/health' })).statusCode, 200);
  for (const url of ['/docs', '/docs/json']) assert.equal((await app.inject(url)).statusCode, 200, url);
  assert.equal((await app.inject('/nowhere')).statusCode, 401);
  const lost = await app.inject({ url: '/nowhere', headers: bearer(keys.read) });
  assert.equal(lost.statusCode, 404);
  assert.equal(lost.json().error.code, 'NOT_FOUND');
});

test('a scoped key lists only its collections and cannot reach another through a body, a query or a job', async (t) => {
  const { app, keys } = await buildAuthApp(t);
  const as = (k: string, o: InjectOptions) => app.inject({ ...o, headers: { ...o.headers, ...bearer(k) } });
  const names = (await as(keys.scoped, { url: '/collections' })).json().collections.map((c: { name: string }) => c.name);
  assert.deepEqual(names, ['other']);
  const all = (await as(keys.read, { url: '/collections' }))
    .json()
    .collections.map((c: { name: string }) => c.name)
    .sort();
  assert.ok(all.includes('docs') && all.includes('other'));
  assert.equal((await as(keys.scoped, { url: '/search?collection=other&id=o1&k=2' })).statusCode, 200);
  // The default collection is another collection too, when none is named.
  const dflt = await as(keys.scoped, { method: 'POST', url: '/search', payload: { id: 'o1' } });
  assert.equal(dflt.statusCode, 404);
  assert.equal(dflt.json().error.code, 'COLLECTION_NOT_FOUND');
  // Queries drawn from another collection, and an ingest whose query and body disagree.
  const ev = await as(keys.scoped, { url: '/eval?collection=other&queries=docs&limit=3' });
  assert.equal(ev.statusCode, 404);
  assert.match(ev.json().error.message, /'docs'/);
  const ing = await as(keys.scoped, {
    method: 'POST',
    url: '/ingest?collection=other',
    payload: { collection: 'docs', items: [{ id: 'x', vector: Array(16).fill(1) }] },
  });
  assert.equal(ing.statusCode, 404);
  const nd = await as(keys.scoped, {
    method: 'POST',
    url: '/ingest?collection=docs',
    headers: { 'content-type': 'application/x-ndjson' },
    payload: '{"id":"x","vector":[1]}\n',
  });
  assert.equal(nd.statusCode, 404);
  // A missing collection and a hidden one answer alike.
  const missing = await as(keys.read, { url: '/collections/nope' });
  const hidden = await as(keys.scoped, { url: '/collections/docs' });
  assert.equal(missing.statusCode, hidden.statusCode);
  assert.equal(missing.json().error.code, hidden.json().error.code);
  // A sweep that applies its result needs admin; without apply, write is enough.
  const sweep = { collection: 'docs', queries: { sample: 12, seed: 1 }, grid: { indexDims: [8], shortlists: [20] }, perDim: false };
  const applied = await as(keys.write, { method: 'POST', url: '/eval/sweep', payload: { ...sweep, apply: true } });
  assert.equal(applied.statusCode, 403);
  assert.equal(applied.json().error.code, 'FORBIDDEN');
  assert.equal((await as(keys.write, { method: 'POST', url: '/eval/sweep', payload: sweep })).statusCode, 200);
  assert.equal((await as(keys.admin, { method: 'POST', url: '/eval/sweep', payload: { ...sweep, apply: true } })).statusCode, 200);
});
