import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config.js';
import { checkExposure } from '../../src/http/auth.js';
import { AppContext } from '../../src/context.js';
import { buildApp } from '../../src/http/app.js';
import { ApiKeyStore } from '../../src/store/api-keys.js';
import { closeDatabase, openDatabase } from '../../src/store/db.js';
import { buildTestApp, defer, tempDir } from '../helpers.js';
import { ADMIN_KEY, bearer, buildAuthApp } from '../fixtures/auth-app.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../src/cli.ts');
const SERVER = join(import.meta.dirname, '../../src/server.ts');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

test('no key is stored in plaintext: only SHA-256 hashes reach the data directory, WAL included', async (t) => {
  const { app, keys, dataDir } = await buildAuthApp(t);
  const made = await app.inject({
    method: 'POST',
    url: '/keys',
    headers: bearer(keys.admin),
    payload: { name: 'ci', role: 'write', collections: ['docs'] },
  });
  assert.equal(made.statusCode, 201);
  const created = made.json();
  assert.match(created.key, /^mrl_[A-Za-z0-9_-]{43}$/); // 32 random bytes
  assert.deepEqual({ ...created, key: undefined }, { name: 'ci', role: 'write', collections: ['docs'], key: undefined });
  assert.equal((await app.inject({ url: '/collections/docs', headers: bearer(created.key) })).statusCode, 200);
  const listed = (await app.inject({ url: '/keys', headers: bearer(keys.admin) })).json().keys;
  assert.deepEqual(
    listed.map((k: { name: string }) => k.name),
    ['bootstrap', 'ci', 'reader', 'tenant', 'writer'],
  );
  assert.ok(!JSON.stringify(listed).includes('mrl_') && !JSON.stringify(listed).includes(ADMIN_KEY));
  assert.ok(listed.find((k: { name: string }) => k.name === 'ci').lastUsedAt, 'last use recorded');

  const files = filesUnder(dataDir);
  assert.ok(
    files.some((f) => f.endsWith('-wal')),
    files.join(' '),
  );
  const bytes = files.map((f) => readFileSync(f));
  const found = (needle: Buffer) => bytes.some((b) => b.includes(needle));
  for (const secret of [created.key, keys.read, keys.write, keys.scoped, ADMIN_KEY]) {
    assert.ok(found(createHash('sha256').update(secret).digest()), 'the hash is there (the files were read)');
    assert.ok(!found(Buffer.from(secret)), 'a key in plaintext');
    assert.ok(!found(Buffer.from(secret.replace(/^mrl_/, ''))), 'a key without its prefix');
  }
});

test('a revoked key stops working on the next request, over HTTP and from another process', async (t) => {
  const { app, ctx, keys, dataDir } = await buildAuthApp(t);
  const get = (k: string) => app.inject({ url: '/collections', headers: bearer(k) });
  assert.equal((await get(keys.read)).statusCode, 200);
  const del = await app.inject({ method: 'DELETE', url: '/keys/reader', headers: bearer(keys.admin) });
  assert.equal(del.statusCode, 204);
  assert.equal((await get(keys.read)).statusCode, 401);
  const again = await app.inject({ method: 'DELETE', url: '/keys/reader', headers: bearer(keys.admin) });
  assert.equal(again.statusCode, 404);
  assert.equal(again.json().error.code, 'KEY_NOT_FOUND');

  // Another connection to the same database (what `mrl keys revoke` is) revokes a key in use.
  assert.equal((await get(keys.write)).statusCode, 200);
  const other = openDatabase(join(dataDir, 'mrl.sqlite'));
  defer(t, () => closeDatabase(other));
  assert.equal(new ApiKeyStore(other).revoke('writer'), true);
  assert.equal((await get(keys.write)).statusCode, 401);
  const dup = await app.inject({ method: 'POST', url: '/keys', headers: bearer(keys.admin), payload: { name: 'tenant', role: 'read' } });
  assert.equal(dup.statusCode, 409);
  assert.equal(dup.json().error.code, 'KEY_EXISTS');
  assert.equal(ctx.keys.count(), 2);
});

test('the first key, made by another process, turns auth on at the next request; revoking the last turns it off', async (t) => {
  const { app, dataDir } = await buildTestApp(t, { MRL_MODELS_DIR: tempDir(t) });
  assert.equal((await app.inject('/collections')).statusCode, 200);
  const other = openDatabase(join(dataDir, 'mrl.sqlite'));
  defer(t, () => closeDatabase(other));
  const { secret } = new ApiKeyStore(other).create({ name: 'first', role: 'read' });
  const without = await app.inject('/collections');
  assert.equal(without.statusCode, 401);
  assert.equal(without.json().error.code, 'UNAUTHENTICATED');
  assert.equal((await app.inject({ url: '/collections', headers: bearer(secret) })).statusCode, 200);
  assert.equal((await app.inject({ url: '/collections', headers: bearer('mrl_not-a-key') })).statusCode, 401);
  assert.equal(new ApiKeyStore(other).revoke('first'), true);
  assert.equal((await app.inject('/collections')).statusCode, 200);
});

test('mrl keys create|list|revoke: the CLI key works on a running app at once, and stops at once', async (t) => {
  const { app, dataDir } = await buildAuthApp(t);
  const mrl = (...args: string[]) => run(process.execPath, ['--import', 'tsx', CLI, '--data-dir', dataDir, 'keys', ...args]);
  const made = JSON.parse((await mrl('create', '--name', 'ops', '--role', 'read', '--collections', 'docs,other')).stdout);
  assert.equal(made.role, 'read');
  assert.deepEqual(made.collections, ['docs', 'other']);
  assert.match(made.key, /^mrl_/);
  assert.equal((await app.inject({ url: '/collections/docs', headers: bearer(made.key) })).statusCode, 200);
  const list = (await mrl('list')).stdout;
  assert.match(list, /"ops"/);
  assert.ok(!list.includes(made.key) && !list.includes('mrl_'));
  await mrl('revoke', 'ops');
  assert.equal((await app.inject({ url: '/collections/docs', headers: bearer(made.key) })).statusCode, 401);
  await assert.rejects(
    mrl('create', '--name', 'bad', '--role', 'root'),
    (e: { stderr: string; code: number }) => e.code === 1 && /INVALID_KEY/.test(e.stderr),
  );
});

test('MRL_ADMIN_KEY bootstraps an admin key named bootstrap; a new value replaces it; the key also works as x-api-key', async (t) => {
  const dataDir = tempDir(t);
  const models = tempDir(t);
  {
    const { app } = await buildTestApp(t, { MRL_ADMIN_KEY: ADMIN_KEY, MRL_MODELS_DIR: models }, dataDir);
    const r = await app.inject({ url: '/keys', headers: { 'x-api-key': ADMIN_KEY } });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(
      r.json().keys.map((k: { name: string; role: string; collections: unknown }) => [k.name, k.role, k.collections]),
      [['bootstrap', 'admin', null]],
    );
    await app.close();
  }
  const next = 'another-admin-key-for-tests-42';
  const { app, ctx } = await buildTestApp(t, { MRL_ADMIN_KEY: next, MRL_MODELS_DIR: models }, dataDir);
  assert.equal((await app.inject({ url: '/keys', headers: bearer(ADMIN_KEY) })).statusCode, 401);
  assert.equal((await app.inject({ url: '/keys', headers: bearer(next) })).statusCode, 200);
  assert.equal(ctx.keys.count(), 1);
  assert.throws(() => loadConfig({ MRL_ADMIN_KEY: 'short' }), /MRL_ADMIN_KEY/);
});

test('auth is off with no key on loopback, on with MRL_AUTH=required; MRL_METRICS_PUBLIC opens /metrics', async (t) => {
  const open = await buildTestApp(t, { MRL_MODELS_DIR: tempDir(t) });
  assert.equal((await open.app.inject('/collections')).statusCode, 200);
  const required = await buildTestApp(t, { MRL_AUTH: 'required', MRL_MODELS_DIR: tempDir(t) });
  const r = await required.app.inject('/collections');
  assert.equal(r.statusCode, 401);
  assert.equal(r.json().error.code, 'UNAUTHENTICATED');
  assert.equal((await required.app.inject('/health')).statusCode, 200);
  assert.equal((await required.app.inject('/metrics')).statusCode, 401);
  const pub = await buildTestApp(t, { MRL_AUTH: 'required', MRL_METRICS_PUBLIC: 'true', MRL_MODELS_DIR: tempDir(t) });
  assert.equal((await pub.app.inject('/metrics')).statusCode, 200);
  // MRL_AUTH=off: no key is checked even when keys exist; beyond loopback it is allowed, with a warning.
  const off = await buildTestApp(t, { MRL_AUTH: 'off', MRL_ADMIN_KEY: ADMIN_KEY, MRL_MODELS_DIR: tempDir(t), HOST: '0.0.0.0' });
  assert.equal((await off.app.inject({ method: 'DELETE', url: '/collections/default' })).statusCode, 404);
  assert.match(String(checkExposure(off.ctx)), /MRL_AUTH=off: anyone who can reach 0\.0\.0\.0/);
  // Beyond loopback: refused with no key, allowed once one exists; loopback is always allowed.
  const wide = await buildTestApp(t, { MRL_MODELS_DIR: tempDir(t), HOST: '::' });
  assert.throws(
    () => checkExposure(wide.ctx),
    (e: Error) => e instanceof ConfigError && /refusing to listen on ::/.test(e.message),
  );
  wide.ctx.keys.create({ name: 'k', role: 'read' });
  assert.equal(checkExposure(wide.ctx), null);
  assert.equal(checkExposure(open.ctx), null);
});

test('the server refuses to listen on 0.0.0.0 with no key, and says what to do', async (t) => {
  const proc = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: {
      ...process.env,
      MRL_DATA_DIR: tempDir(t),
      MRL_MODELS_DIR: tempDir(t),
      HOST: '0.0.0.0',
      PORT: '0',
      MRL_KERNEL: 'js',
      MRL_AUTH: '',
      MRL_ADMIN_KEY: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  defer(t, () => {
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, 'SIGKILL');
  });
  let stderr = '';
  let stdout = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const [code] = await once(proc, 'exit');
  assert.equal(code, 1);
  assert.match(stderr, /refusing to listen on 0\.0\.0\.0 with no API key/);
  assert.match(stderr, /MRL_ADMIN_KEY/);
  assert.match(stderr, /MRL_AUTH=off/);
  assert.doesNotMatch(stdout, /Server listening/);
});

test('rate limits: 429 RATE_LIMITED with Retry-After per key and per address; a lower budget for expensive routes', async (t) => {
  const { app, keys } = await buildAuthApp(t, { MRL_RATE_LIMIT: '3', MRL_RATE_LIMIT_EXPENSIVE: '1' });
  const get = (k?: string) => app.inject({ url: '/collections/other', headers: bearer(k) });
  for (let i = 0; i < 3; i++) assert.equal((await get(keys.read)).statusCode, 200);
  const limited = await get(keys.read);
  assert.equal(limited.statusCode, 429);
  assert.equal(limited.json().error.code, 'RATE_LIMITED');
  const wait = Number(limited.headers['retry-after']);
  assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= 60, String(limited.headers['retry-after']));
  assert.equal((await get(keys.write)).statusCode, 200, 'another key has its own budget');
  // Without a key the client's address is counted, before the 401: guessing keys is limited too.
  for (let i = 0; i < 3; i++) assert.equal((await get(`mrl_guess${i}`)).statusCode, 401);
  assert.equal((await get('mrl_guess')).statusCode, 429);
  assert.equal((await app.inject('/health')).statusCode, 200, 'probes are not limited');

  const exact = { method: 'POST' as const, url: '/search', payload: { collection: 'docs', id: 'v1', k: 2, exact: true } };
  assert.equal((await app.inject({ ...exact, headers: bearer(keys.admin) })).statusCode, 200);
  const second = await app.inject({ ...exact, headers: bearer(keys.admin) });
  assert.equal(second.statusCode, 429);
  assert.match(second.json().error.message, /expensive/);
  assert.ok(Number(second.headers['retry-after']) >= 1);
  assert.equal((await app.inject({ ...exact, payload: { ...exact.payload, exact: false }, headers: bearer(keys.admin) })).statusCode, 200);
});

test('NDJSON ingest streams beyond MRL_MAX_INGEST_STREAMS answer 503 INGEST_BUSY with Retry-After; the slot frees when the stream ends', async (t) => {
  const { app, keys } = await buildAuthApp(t, { MRL_MAX_INGEST_STREAMS: '1' });
  const line = (id: string) => `${JSON.stringify({ id, vector: Array.from({ length: 16 }, (_, j) => j + 1) })}\n`;
  const ndjson = (payload: unknown) =>
    app.inject({
      method: 'POST',
      url: '/ingest?collection=docs',
      headers: { ...bearer(keys.write), 'content-type': 'application/x-ndjson' },
      payload: payload as string,
    });
  const body = new PassThrough();
  const first = ndjson(body);
  body.write(line('s1'));
  await new Promise((r) => setTimeout(r, 100));
  const busy = await ndjson(line('s2'));
  assert.equal(busy.statusCode, 503);
  assert.equal(busy.json().error.code, 'INGEST_BUSY');
  assert.ok(Number(busy.headers['retry-after']) >= 1);
  body.end(line('s3'));
  const done = await first;
  assert.equal(done.statusCode, 200, done.body);
  assert.equal(done.json().upserted, 2);
  assert.equal((await ndjson(line('s4'))).statusCode, 200);
  // JSON batches are not streams: never refused for it.
  body.destroy();
});

test('x-request-id is echoed (or made), security headers and a CSP without inline code, bearer scheme and auth errors in OpenAPI', async (t) => {
  const { app, keys } = await buildAuthApp(t);
  const mine = await app.inject({ url: '/health', headers: { 'x-request-id': 'trace-42.a' } });
  assert.equal(mine.headers['x-request-id'], 'trace-42.a');
  const made = await app.inject({ url: '/collections', headers: { 'x-request-id': 'not a token\u0001' } });
  assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(made.statusCode, 401);
  const page = await app.inject('/');
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal(page.headers['x-frame-options'], 'SAMEORIGIN');
  // The same headers on refused requests (a bad key's, an unknown route's) and an API answer; only the docs allow inline styles.
  const missing = await app.inject('/no-such-route');
  for (const r of [made, missing, mine]) {
    assert.equal(r.headers['content-security-policy'], csp);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['strict-transport-security'], undefined);
  }
  const docs = await app.inject('/docs');
  assert.equal(docs.statusCode, 200, docs.body.slice(0, 200));
  assert.match(String(docs.headers['content-security-policy']), /style-src 'self' 'unsafe-inline'/);
  // The web page relies on no inline script, style or handler.
  for (const f of ['index.html', 'app.js', 'plot.js']) {
    const text = (await app.inject(f === 'index.html' ? '/' : `/static/${f}`)).body;
    assert.doesNotMatch(text, /<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|setAttribute\(\s*['"]style/i, f);
  }

  const doc = (await app.inject('/docs/json')).json();
  assert.deepEqual(doc.components.securitySchemes.bearer, {
    type: 'http',
    scheme: 'bearer',
    description: doc.components.securitySchemes.bearer.description,
  });
  const search = doc.paths['/search'].post;
  assert.deepEqual(search.security, [{ bearer: [] }, { apiKey: [] }]);
  for (const s of ['401', '403', '429']) assert.ok(search.responses[s], s);
  assert.equal(doc.paths['/health'].get.security, undefined);
  assert.ok(doc.paths['/keys'].post && doc.paths['/keys/{name}'].delete);
  assert.equal((await app.inject({ url: '/keys', headers: bearer(keys.admin) })).statusCode, 200);
});

test('server timeouts are set (Node and fastify would otherwise let a slow client hold a request for ever), and configurable', async (t) => {
  const dflt = await buildTestApp(t, { MRL_MODELS_DIR: tempDir(t) });
  assert.deepEqual(
    [dflt.app.server.requestTimeout, dflt.app.server.headersTimeout, dflt.app.server.keepAliveTimeout],
    [300_000, 30_000, 5_000],
  );
  const set = await buildTestApp(t, {
    MRL_MODELS_DIR: tempDir(t),
    MRL_REQUEST_TIMEOUT_MS: '60000',
    MRL_HEADERS_TIMEOUT_MS: '10000',
    MRL_KEEP_ALIVE_TIMEOUT_MS: '2000',
  });
  assert.deepEqual(
    [set.app.server.requestTimeout, set.app.server.headersTimeout, set.app.server.keepAliveTimeout],
    [60_000, 10_000, 2_000],
  );
  assert.throws(() => loadConfig({ MRL_REQUEST_TIMEOUT_MS: '5000', MRL_HEADERS_TIMEOUT_MS: '10000' }), /MRL_HEADERS_TIMEOUT_MS/);

  // A client that never finishes its headers is answered 408 and cut off.
  const slow = await buildTestApp(t, { MRL_MODELS_DIR: tempDir(t), MRL_HEADERS_TIMEOUT_MS: '1000' });
  const url = new URL(await slow.app.listen({ port: 0, host: '127.0.0.1' }));
  const socket = connect(Number(url.port), '127.0.0.1');
  defer(t, () => socket.destroy());
  const t0 = performance.now();
  let got = '';
  socket.on('data', (d: Buffer) => (got += d.toString()));
  socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
  await once(socket, 'close');
  const waited = performance.now() - t0;
  assert.match(got, /^HTTP\/1\.1 408/);
  assert.ok(waited >= 900 && waited < 4000, `closed after ${waited} ms`);
});

test('the audit log has a line for every write and admin operation, with key name, route, collection, items and status, never the key', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const dataDir = tempDir(t);
  const config = loadConfig({
    MRL_DATA_DIR: dataDir,
    MRL_THREADS: '2',
    MRL_DEFAULT_ENCODER: '',
    MRL_MODELS_DIR: tempDir(t),
    MRL_ADMIN_KEY: ADMIN_KEY,
  });
  const ctx = await AppContext.fromConfig(config, { createDefault: true });
  const app = await buildApp(ctx, { logger: { level: 'info', stream } });
  defer(t, async () => {
    await app.close();
    await ctx.close();
  });
  const writer = ctx.keys.create({ name: 'writer', role: 'write' }).secret;
  const admin = { authorization: `Bearer ${ADMIN_KEY}` };
  assert.equal(
    (await app.inject({ method: 'POST', url: '/collections', headers: admin, payload: { name: 'docs', dim: 4 } })).statusCode,
    201,
  );
  const items = [1, 2, 3].map((i) => ({ id: `i${i}`, vector: [i, 1, 0, 0] }));
  assert.equal(
    (await app.inject({ method: 'POST', url: '/ingest', headers: bearer(writer), payload: { collection: 'docs', items } })).statusCode,
    200,
  );
  assert.equal((await app.inject({ method: 'DELETE', url: '/collections/docs/items/i2', headers: bearer(writer) })).statusCode, 200);
  assert.equal((await app.inject({ method: 'DELETE', url: '/collections/docs', headers: bearer(writer) })).statusCode, 403);
  const made = (await app.inject({ method: 'POST', url: '/keys', headers: admin, payload: { name: 'ci', role: 'read' } })).json();
  assert.equal((await app.inject({ url: '/collections/docs', headers: bearer(made.key) })).statusCode, 200);

  const audit = lines.map((l) => JSON.parse(l)).filter((l) => l.log === 'audit');
  const pick = (a: Record<string, unknown>) => [a.key, a.method, a.route, a.collection, a.items, a.status];
  assert.deepEqual(audit.map(pick), [
    ['bootstrap', 'POST', '/collections', 'docs', null, 201],
    ['writer', 'POST', '/ingest', 'docs', 3, 200],
    ['writer', 'DELETE', '/collections/:name/items/:id', 'docs', 1, 200],
    ['writer', 'DELETE', '/collections/:name', 'docs', null, 403],
    ['bootstrap', 'POST', '/keys', null, null, 201],
  ]);
  const all = lines.join('\n');
  for (const secret of [ADMIN_KEY, writer, made.key]) assert.ok(!all.includes(secret), 'a key in the logs');
});
