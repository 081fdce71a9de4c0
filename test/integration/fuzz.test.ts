import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import type { Db } from '../../src/store/db.js';
import { registeredRoutes } from '../../src/http/auth.js';
import { rng } from '../helpers.js';
import { bearer, buildAuthApp } from '../fixtures/auth-app.js';

const BODIES = 2400;
const SEED = 20261201;

/** Everything SQLite holds that a request could change (a key's last use aside). */
function digest(db: Db): string {
  const h = createHash('sha256');
  for (const sql of [
    'SELECT * FROM collections ORDER BY id',
    'SELECT * FROM items ORDER BY seq',
    'SELECT * FROM eval_runs ORDER BY id',
    'SELECT name, role, collections, hex(key_hash) AS hash, created_at FROM api_keys ORDER BY id',
  ]) {
    for (const row of db.prepare(sql).raw().iterate())
      h.update(JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));
  }
  return h.digest('hex');
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Base {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  path: string;
  query?: Record<string, string>;
  body?: Json;
  ndjson?: boolean;
}

const vec = (seed: number) => Array.from({ length: 8 }, (_, j) => Math.fround(Math.sin(seed * 7 + j) + 0.1));

/** One valid request per route: the fuzzer starts from these. */
const BASES: Record<string, Base> = {
  'GET /health': { method: 'GET', path: '/health' },
  'GET /ready': { method: 'GET', path: '/ready' },
  'GET /': { method: 'GET', path: '/' },
  'GET /static/:file': { method: 'GET', path: '/static/style.css' },
  'GET /metrics': { method: 'GET', path: '/metrics' },
  'GET /collections': { method: 'GET', path: '/collections' },
  'POST /collections': {
    method: 'POST',
    path: '/collections',
    body: { name: 'made', dim: 8, indexDim: 4, nesting: [4, 8], hnsw: { m: 8 } },
  },
  'GET /collections/:name': { method: 'GET', path: '/collections/fz' },
  'DELETE /collections/:name': { method: 'DELETE', path: '/collections/gone' },
  'GET /collections/:name/items/:id': { method: 'GET', path: '/collections/fz/items/f3' },
  'DELETE /collections/:name/items/:id': { method: 'DELETE', path: '/collections/fz/items/nothere' },
  'PATCH /collections/:name': { method: 'PATCH', path: '/collections/fz', body: { indexedFields: ['t'] } },
  'PATCH /collections/:name/items/:id': {
    method: 'PATCH',
    path: '/collections/fz/items/f3',
    body: { label: 'p', payload: { t: 'y' }, text: 'some words' },
  },
  'POST /ingest': {
    method: 'POST',
    path: '/ingest',
    body: {
      collection: 'fz',
      items: [
        { id: 'n1', vector: vec(1), label: 'a', payload: { t: 'x' } },
        { id: 'n2', vector: vec(2) },
      ],
    },
  },
  'POST /ingest (ndjson)': {
    method: 'POST',
    path: '/ingest',
    query: { collection: 'fz' },
    ndjson: true,
    body: [
      { id: 'd1', vector: vec(3) },
      { id: 'd2', vector: vec(4), label: 'b' },
    ],
  },
  'GET /search': { method: 'GET', path: '/search', query: { collection: 'fz', id: 'f1', k: '3', shortlist: '10', ef: '10' } },
  'POST /search': {
    method: 'POST',
    path: '/search',
    body: {
      collection: 'fz',
      vector: vec(5),
      k: 3,
      shortlist: 10,
      rerank: 8,
      funnel: [
        { dims: 4, keep: 10 },
        { dims: 8, keep: 3 },
      ],
    },
  },
  'GET /models': { method: 'GET', path: '/models' },
  'POST /embed': { method: 'POST', path: '/embed', body: { model: 'none', inputs: ['a'], dims: 4 } },
  'POST /v1/embeddings': {
    method: 'POST',
    path: '/v1/embeddings',
    body: { model: 'none', input: ['a'], dimensions: 4, encoding_format: 'float' },
  },
  'POST /classify': { method: 'POST', path: '/classify', body: { model: 'none', inputs: ['a'], threshold: 0.5 } },
  'GET /eval': { method: 'GET', path: '/eval', query: { collection: 'fz', sample: '8', seed: '1', shortlist: '10' } },
  'POST /eval/sweep': {
    method: 'POST',
    path: '/eval/sweep',
    body: { collection: 'fz', queries: { sample: 8, seed: 1 }, grid: { indexDims: [4], shortlists: [10] }, perDim: false },
  },
  'GET /eval/jobs/:id': { method: 'GET', path: '/eval/jobs/0f0f0f0f-0000-4000-8000-000000000000' },
  'GET /eval/latest': { method: 'GET', path: '/eval/latest', query: { collection: 'fz' } },
  'GET /collections/:name/quality': { method: 'GET', path: '/collections/fz/quality', query: { sample: '8', seed: '1' } },
  'POST /collections/:name/adapt': { method: 'POST', path: '/collections/fz/adapt', body: { target: 'fz-pca', method: 'pca', sample: 20 } },
  'POST /keys': { method: 'POST', path: '/keys', body: { name: 'fuzzed', role: 'read', collections: ['fz'] } },
  'GET /keys': { method: 'GET', path: '/keys' },
  'DELETE /keys/:name': { method: 'DELETE', path: '/keys/nokey' },
};

/** The seeded mutations: each returns a raw request built from a valid one. */
/** A request's URL or payload for an assertion message. */
const shown = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));

function mutator(r: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const odd: Json[] = [
    '',
    'x',
    '1',
    0,
    -1,
    1.5,
    1e308,
    -1e308,
    5e-324,
    2 ** 53 + 1,
    -0,
    1e39,
    true,
    false,
    null,
    [],
    {},
    [null],
    { a: 1 },
    'x'.repeat(5000),
    '\u0000',
    '../../etc',
    '%00',
  ];
  /** A value as a query string carries it: objects and arrays as their JSON. */
  const text = (v: Json): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  const huge = [1e308, -1e308, 5e-324, 2 ** 63, -(2 ** 63), 2 ** 53 + 1, 1e39, -1e39, 4294967296, 1e-45];
  const paths = (v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] => {
    out.push(at);
    if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) paths(v[k], [...at, k], out);
    return out;
  };
  const set = (v: Json, at: (string | number)[], x: Json): Json => {
    if (at.length === 0) return x;
    const c = structuredClone(v) as Record<string | number, Json>;
    let o = c;
    for (const k of at.slice(0, -1)) o = o[k] as Record<string | number, Json>;
    o[at[at.length - 1]] = x;
    return c;
  };
  const deep = (n: number, leaf = '1') => '['.repeat(n) + leaf + ']'.repeat(n);
  const serialise = (b: Base, body: Json | undefined) =>
    b.ndjson && Array.isArray(body) ? body.map((l) => JSON.stringify(l)).join('\n') + '\n' : JSON.stringify(body);

  /** A mutated body: raw bytes or text and a content type. */
  const body = (b: Base): { payload: string | Buffer; type?: string } => {
    const v = b.body ?? {};
    const text = serialise(b, v);
    const type = b.ndjson ? 'application/x-ndjson' : 'application/json';
    const at = pick(paths(v));
    switch (Math.floor(r() * 12)) {
      case 0:
        return { payload: serialise(b, set(v, at, pick(odd))), type };
      case 1:
        return { payload: serialise(b, set(v, at, pick(huge))), type };
      case 2: {
        // deep nesting, as text (a value JSON.stringify would never write)
        const marker = '"@@deep@@"';
        const d = pick([64, 1000, 10_000, 100_000]);
        return { payload: serialise(b, set(v, at, '@@deep@@')).replace(marker, deep(d)), type };
      }
      case 3:
        return { payload: serialise(b, set(v, at, 'é€😀'.repeat(Math.floor(r() * 300_000)))), type };
      case 4: {
        // invalid UTF-8 inside a string
        const s = Buffer.from(serialise(b, set(v, at, 'AAAA')));
        const i = s.indexOf('AAAA');
        if (i >= 0)
          s.set(
            pick([
              [0xff, 0xfe],
              [0xc3, 0x28],
              [0xed, 0xa0, 0x80],
              [0xf8, 0x88, 0x80, 0x80],
            ]),
            i,
          );
        return { payload: s, type };
      }
      case 5: {
        // duplicate keys
        const first = text.indexOf('{');
        return {
          payload:
            first < 0
              ? text
              : `${text.slice(0, first + 1)}"collection":${JSON.stringify(pick(odd))},"name":5,"collection":"fz",${text.slice(first + 1)}`.replace(
                  /,}/g,
                  '}',
                ),
          type,
        };
      }
      case 6: {
        // prototype keys, at the top or inside
        const key = pick(['__proto__', 'constructor', 'prototype']);
        const inject = `"${key}":${pick(['{"admin":true}', '{"prototype":{"polluted":1}}', '1', 'null'])}`;
        const i = text.lastIndexOf('{');
        return { payload: i < 0 ? text : `${text.slice(0, i + 1)}${inject}${text[i + 1] === '}' ? '' : ','}${text.slice(i + 1)}`, type };
      }
      case 7:
        return { payload: text.slice(0, Math.floor(r() * text.length)), type }; // truncated
      case 8:
        return {
          payload: text,
          type: pick([
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/x-ndjson',
            'application/json; charset=latin1',
            'image/png',
            '',
          ]),
        };
      case 9: {
        // a field gone, or an unknown one added
        if (at.length > 0 && r() < 0.5) {
          const parent = structuredClone(v) as Record<string | number, Json>;
          let o = parent;
          for (const k of at.slice(0, -1)) o = o[k] as Record<string | number, Json>;
          if (Array.isArray(o)) o.splice(at[at.length - 1] as number, 1);
          else delete o[at[at.length - 1]];
          return { payload: serialise(b, parent), type };
        }
        return { payload: serialise(b, set(v, [...at.slice(0, -1), 'unexpected'], 1)), type };
      }
      case 10:
        return {
          payload: pick([
            'NaN',
            '[NaN]',
            '{"vector":[Infinity]}',
            '-',
            '{"a":1}}',
            '\u0000',
            '',
            '[]',
            '"x"',
            '1e999',
            '{"collection":"fz","items":[' + '{"id":"z","vector":[1]},'.repeat(3000) + ']}',
          ]),
          type,
        };
      default:
        return { payload: serialise(b, set(v, at, [pick(odd), pick(huge)])), type };
    }
  };

  /** A mutated path or query for the routes that take no body. */
  const url = (b: Base): string => {
    const q = { ...(b.query ?? {}) };
    const segs = b.path.split('/');
    switch (Math.floor(r() * 6)) {
      case 0: {
        const keys = Object.keys(q);
        if (keys.length) q[pick(keys)] = text(pick(odd));
        else q[pick(['collection', 'k', '__proto__'])] = text(pick(odd));
        break;
      }
      case 1:
        for (const k of Object.keys(q)) q[k] = String(pick(huge));
        break;
      case 2:
        if (segs.length > 2)
          segs[segs.length - 1] = pick(['%ff%fe', '%00', 'x'.repeat(5000), '%2e%2e', '..', '%c3%28', encodeURIComponent('😀'.repeat(100))]);
        break;
      case 3:
        q.__proto__x = '1';
        q[String('constructor')] = 'x';
        break;
      case 4:
        return `${b.path}?${new URLSearchParams(q).toString()}&${Object.keys(q)[0] ?? 'k'}=2&${Object.keys(q)[0] ?? 'k'}=%ff`;
      default:
        q[pick(['exact', 'async', 'limit', 'rerank', 'funnel', 'firstStage', 'queries'])] = text(pick(odd));
    }
    const qs = new URLSearchParams(q).toString();
    return `${segs.join('/')}${qs ? `?${qs}` : ''}`;
  };
  return { body, url, pick };
}

test(`fuzz: ${BODIES} requests mutated from valid ones across every route answer 4xx or 2xx, never 5xx; a rejected one leaves the store as it was`, async (t) => {
  const { app, ctx, keys, vectors } = await buildAuthApp(t, { MRL_RATE_LIMIT: '0' });
  ctx.engine.createCollection({ name: 'fz', dim: 8, indexDim: 4, nesting: [4, 8] });
  await ctx.engine.upsert(
    'fz',
    vectors.slice(0, 40).map((v, i) => ({ id: `f${i}`, vector: v.slice(0, 8), label: `l${i % 3}`, payload: { i } })),
  );
  const routes = registeredRoutes(app)
    .filter((x) => x.method !== 'HEAD' && !x.url.startsWith('/docs'))
    .map((x) => `${x.method} ${x.url}`);
  assert.deepEqual(
    routes.filter((k) => !(k in BASES)),
    [],
    'routes the fuzzer has no valid request for',
  );

  // The valid requests are valid: each is accepted or answers its expected coded 4xx.
  const auth = bearer(keys.admin);
  const send = (o: InjectOptions) => app.inject({ ...o, headers: { ...auth, ...o.headers } });
  const r = rng(SEED);
  const m = mutator(r);
  const names = Object.keys(BASES);
  const perRoute = new Map<string, number>();
  let before = digest(ctx.data.db);
  let rejected = 0;
  const outcomes = new Map<string, number>();
  for (let i = 0; i < BODIES; i++) {
    const name = names[i % names.length];
    const b = BASES[name];
    const withBody = b.body !== undefined || (b.method !== 'GET' && r() < 0.3);
    let opts: InjectOptions;
    if (withBody) {
      const { payload, type } = m.body(b);
      const qs = b.query ? `?${new URLSearchParams(b.query).toString()}` : '';
      opts = {
        method: b.method,
        url: `${b.path}${qs}`,
        payload,
        headers: type === undefined || type === '' ? {} : { 'content-type': type },
      };
    } else {
      opts = { method: b.method, url: m.url(b) };
    }
    const res = await send(opts);
    const seen = `${res.statusCode} ${res.statusCode >= 400 ? res.json().error?.code : ''}`;
    outcomes.set(seen, (outcomes.get(seen) ?? 0) + 1);
    const label = `#${i} ${name}: ${opts.method} ${shown(opts.url).slice(0, 120)} ${shown(opts.payload ?? '').slice(0, 160)} → ${res.statusCode} ${res.body.slice(0, 200)}`;
    assert.ok(res.statusCode < 500, label);
    if (res.statusCode >= 400) {
      rejected++;
      assert.ok(res.json().error?.code, label);
      assert.equal(digest(ctx.data.db), before, `the store changed: ${label}`);
    } else {
      if (res.statusCode === 202) {
        const id = res.json().id as string;
        while (ctx.evals.jobs.get(id).state === 'running') await new Promise((ok) => setTimeout(ok, 10));
      }
      before = digest(ctx.data.db);
    }
    perRoute.set(name, (perRoute.get(name) ?? 0) + 1);
  }
  t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])))}`);
  assert.ok(
    [...perRoute.values()].every((n) => n >= Math.floor(BODIES / names.length)),
    JSON.stringify([...perRoute]),
  );
  assert.ok(rejected > BODIES / 2, `only ${rejected} of ${BODIES} were rejected: the mutations are too mild`);
  // Still up, still right.
  assert.equal((await app.inject('/health')).statusCode, 200);
  const s = await send({ url: '/search?collection=fz&id=f1&k=1' });
  assert.equal(s.statusCode, 200);
  assert.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype polluted');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype polluted');
});
