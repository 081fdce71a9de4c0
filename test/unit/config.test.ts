import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.js';

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
