import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { bearer, buildAuthApp } from '../fixtures/auth-app.js';

/**
 * Access control's refusals on POST /v1/embeddings come in OpenAI's error shape, so that the
 * clients of that API (the official one here, against the real server) read them as such.
 */
test('401 and 429 on /v1/embeddings: OpenAI error shape with our code, read by the openai client', async (t) => {
  const { app, keys } = await buildAuthApp(t, { MRL_RATE_LIMIT: '3' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const client = (apiKey: string) => new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey, maxRetries: 0 });
  const body = { model: 'none-here', input: 'x', encoding_format: 'float' as const };
  const rejects = async (
    c: OpenAI,
    status: number,
    code: string,
    kind: abstract new (...args: never[]) => InstanceType<typeof OpenAI.APIError>,
  ) => {
    await assert.rejects(c.embeddings.create(body), (e: unknown) => {
      assert.ok(e instanceof kind && e instanceof OpenAI.APIError, String(e));
      assert.equal(e.status, status);
      assert.equal(e.code, code);
      assert.equal(e.type, 'invalid_request_error');
      assert.equal(e.param, null);
      assert.ok((e.error as { message: string }).message.length > 0);
      return true;
    });
  };

  // No key at all (the raw answer: exactly OpenAI's four fields, and the challenge header).
  const none = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: body });
  assert.equal(none.statusCode, 401);
  assert.deepEqual(Object.keys(none.json().error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(none.json().error.code, 'UNAUTHENTICATED');
  assert.match(String(none.headers['www-authenticate']), /^Bearer realm="mrl-server"$/);
  // A wrong key, through the client: its AuthenticationError.
  await rejects(client('mrl_not-a-key'), 401, 'UNAUTHENTICATED', OpenAI.AuthenticationError);

  // A valid read key passes auth (the unknown model is the handler's 400, in the same shape) …
  const reader = client(keys.read);
  await rejects(reader, 400, 'UNKNOWN_ENCODER', OpenAI.BadRequestError);
  await rejects(reader, 400, 'UNKNOWN_ENCODER', OpenAI.BadRequestError);
  await rejects(reader, 400, 'UNKNOWN_ENCODER', OpenAI.BadRequestError);
  // … until its budget of 3 a minute is spent: RateLimitError, with Retry-After.
  await rejects(reader, 429, 'RATE_LIMITED', OpenAI.RateLimitError);
  const limited = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: body, headers: bearer(keys.read) });
  assert.equal(limited.statusCode, 429);
  assert.deepEqual(Object.keys(limited.json().error).sort(), ['code', 'message', 'param', 'type']);
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  // Other routes keep the project's own error shape for the same refusals.
  const other = await app.inject({ method: 'POST', url: '/embed', payload: { model: 'none-here', inputs: ['x'] } });
  assert.equal(other.statusCode, 401);
  assert.deepEqual(Object.keys(other.json().error).sort(), ['code', 'message']);
});

test("OpenAPI documents /v1/embeddings' errors in OpenAI's shape (what it sends), auth's included; other routes keep the project's", async (t) => {
  const { app } = await buildAuthApp(t);
  const doc = (await app.inject('/docs/json')).json();
  const errorOf = (path: string, status: string) => {
    const schema = doc.paths[path].post.responses[status]?.content['application/json'].schema;
    assert.ok(schema, `${path} documents ${status}`);
    return schema.properties.error as { required: string[]; properties: Record<string, { type?: string; nullable?: boolean }> };
  };
  for (const status of ['400', '401', '403', '404', '413', '415', '429', '500', '503']) {
    const error = errorOf('/v1/embeddings', status);
    assert.deepEqual([...error.required].sort(), ['code', 'message', 'param', 'type'], status);
    assert.equal(error.properties.message.type, 'string');
    assert.equal(error.properties.code.type, 'string');
    assert.equal(error.properties.param.nullable, true);
  }
  for (const status of ['400', '401']) assert.deepEqual([...errorOf('/embed', status).required].sort(), ['code', 'message'], status);
});
