import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, defaultSearchThreads, loadConfig } from '../../src/config.js';

test('loadConfig: environment values are range-checked', () => {
  assert.equal(loadConfig({ PORT: '9000' }).http.port, 9000);
  assert.throws(() => loadConfig({ PORT: '70000' }), ConfigError);
  assert.throws(() => loadConfig({ PORT: '70000' }), /PORT must be an integer in 0\.\.65535 \(got '70000'\)/);
  assert.throws(() => loadConfig({ MRL_THREADS: 'many' }), ConfigError);
  assert.throws(() => loadConfig({ MRL_KERNEL: 'cuda' }), /MRL_KERNEL must be one of auto, onnx, js, gpu/);
  assert.throws(
    () => loadConfig({ MRL_DEFAULT_K: '50', MRL_DEFAULT_SHORTLIST: '20' }),
    /MRL_DEFAULT_SHORTLIST must be at least MRL_DEFAULT_K/,
  );
});

test('loadConfig: overrides pass the same checks as the environment', () => {
  assert.throws(() => loadConfig({}, { threads: 0 }), ConfigError);
  assert.throws(() => loadConfig({}, { threads: 1.5 }), /MRL_THREADS must be an integer in 1\.\.256/);
  assert.throws(() => loadConfig({}, { http: { port: -1 } }), /PORT must be an integer/);
  assert.throws(() => loadConfig({}, { kernel: 'cuda' as never }), /MRL_KERNEL/);
  assert.throws(() => loadConfig({}, { dataDir: '' }), /MRL_DATA_DIR must be a non-empty string/);
  // Cross-checks see the merged values: a shortlist override below the environment's k fails.
  assert.throws(
    () => loadConfig({ MRL_DEFAULT_K: '30' }, { defaults: { shortlist: 20 } }),
    /MRL_DEFAULT_SHORTLIST must be at least MRL_DEFAULT_K/,
  );
});

test("loadConfig: a nested override keeps the group's other fields, and the result is frozen", () => {
  const cfg = loadConfig({ MRL_BODY_LIMIT: '4096' }, { http: { port: 0 }, dataDir: '/tmp/x' });
  assert.equal(cfg.http.port, 0);
  assert.equal(cfg.http.bodyLimit, 4096);
  assert.equal(cfg.http.host, '127.0.0.1');
  assert.equal(cfg.dataDir, '/tmp/x');
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.http));
});

test('loadConfig: the auth and limits sections go through the same checks, overrides included', () => {
  assert.throws(() => loadConfig({ MRL_AUTH: 'maybe' }), /MRL_AUTH must be one of auto, required, off/);
  assert.throws(() => loadConfig({}, { auth: { mode: 'open' as never } }), /MRL_AUTH/);
  assert.throws(() => loadConfig({ MRL_ADMIN_KEY: 'short' }), /MRL_ADMIN_KEY must be 20 to 256/);
  assert.throws(() => loadConfig({}, { auth: { adminKey: 'has a space in it, twenty+' } }), /MRL_ADMIN_KEY/);
  assert.throws(() => loadConfig({ MRL_METRICS_PUBLIC: 'yes' }), /MRL_METRICS_PUBLIC must be true or false/);
  assert.throws(() => loadConfig({ MRL_RATE_LIMIT: '-1' }), /MRL_RATE_LIMIT must be an integer/);
  assert.throws(() => loadConfig({}, { limits: { maxIngestStreams: 0 } }), /MRL_MAX_INGEST_STREAMS/);
  // The cross-check sees the merged values: an override of one side against the environment's other.
  assert.throws(
    () => loadConfig({ MRL_REQUEST_TIMEOUT_MS: '10000' }, { limits: { headersTimeoutMs: 20_000 } }),
    /MRL_HEADERS_TIMEOUT_MS must not exceed MRL_REQUEST_TIMEOUT_MS/,
  );
  const cfg = loadConfig({ MRL_AUTH: 'required', MRL_RATE_LIMIT: '100' }, { limits: { maxIngestStreams: 2 } });
  assert.equal(cfg.auth.mode, 'required');
  assert.equal(cfg.limits.rateLimit, 100);
  assert.equal(cfg.limits.maxIngestStreams, 2);
  assert.equal(cfg.limits.rateLimitExpensive, 60, 'the group keeps its other fields');
  assert.equal(loadConfig({}).limits.rateLimit, null);
  assert.ok(Object.isFrozen(cfg.auth) && Object.isFrozen(cfg.limits));
});

test('loadConfig: the encoder section (MRL_ENCODER_BACKEND, MRL_EMBED_*) is read, merged and checked like the rest', () => {
  const dflt = loadConfig({});
  assert.equal(dflt.embed.backend, 'auto');
  assert.equal(dflt.embed.cacheSize, 1024);
  assert.throws(() => loadConfig({ MRL_ENCODER_BACKEND: 'cuda' }), /MRL_ENCODER_BACKEND must be one of auto, onnx, tfjs/);
  assert.throws(() => loadConfig({ MRL_EMBED_THREADS: '0' }), /MRL_EMBED_THREADS must be an integer in 1\.\.64/);
  assert.throws(() => loadConfig({}, { embed: { batchMax: 5000 } }), /MRL_EMBED_BATCH_MAX/);
  assert.throws(() => loadConfig({ MRL_EMBED_CACHE: '-1' }), /MRL_EMBED_CACHE/);
  const cfg = loadConfig({ MRL_ENCODER_BACKEND: 'tfjs', MRL_EMBED_CACHE: '0' }, { embed: { batchWindowUs: 500 } });
  assert.deepEqual([cfg.embed.backend, cfg.embed.cacheSize, cfg.embed.batchWindowUs, cfg.embed.batchMax], ['tfjs', 0, 500, 64]);
  assert.ok(Object.isFrozen(cfg.embed));
});

test('search workers: one per core from 4 cores, none below (measured slower on 2); MRL_SEARCH_THREADS overrides', () => {
  assert.equal(defaultSearchThreads(2), 0);
  assert.equal(defaultSearchThreads(3), 0);
  assert.equal(defaultSearchThreads(4), 4);
  assert.equal(defaultSearchThreads(16), 16);
  assert.equal(loadConfig({ MRL_SEARCH_THREADS: '2' }).searchThreads, 2);
  assert.equal(loadConfig({ MRL_SEARCH_THREADS: '0' }).searchThreads, 0);
});
