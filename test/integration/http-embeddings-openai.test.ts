import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { buildTestApp, KEEP_IDLE_CONNECTIONS } from '../helpers.js';
import { brownSentences, cosine, sharedModelsWithOnnx } from '../onnx-models.js';

/** POST /v1/embeddings through the official `openai` client, pointed at the real server. */
test('the openai client embeds through /v1/embeddings: float and base64, dimensions as /embed dims, errors in its shape', async (t) => {
  const { app } = await buildTestApp(t, { MRL_MODELS_DIR: sharedModelsWithOnnx(), ...KEEP_IDLE_CONNECTIONS });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'any', maxRetries: 0 });
  const texts = brownSentences(3);
  const embed = async (inputs: string[], dims?: number) =>
    (await app.inject({ method: 'POST', url: '/embed', payload: { model: 'text-mrl', inputs, dims } })).json().embeddings as number[][];

  const float = await client.embeddings.create({ model: 'text-mrl', input: texts, encoding_format: 'float' });
  assert.equal(float.object, 'list');
  assert.equal(float.model, 'text-mrl');
  assert.deepEqual(
    float.data.map((d) => [d.object, d.index]),
    [
      ['embedding', 0],
      ['embedding', 1],
      ['embedding', 2],
    ],
  );
  const full = await embed(texts);
  float.data.forEach((d, i) => assert.deepEqual(d.embedding, full[i]));
  assert.ok(float.usage.prompt_tokens > 3);
  assert.equal(float.usage.total_tokens, float.usage.prompt_tokens);

  // dimensions: truncate then renormalise, exactly /embed's dims.
  const d64 = await client.embeddings.create({ model: 'text-mrl', input: texts[0], dimensions: 64, encoding_format: 'float' });
  assert.equal(d64.data.length, 1);
  assert.deepEqual(d64.data[0].embedding, (await embed([texts[0]], 64))[0]);

  // base64 asked for explicitly: the client hands back the string: little-endian float32 bytes.
  const b64 = await client.embeddings.create({ model: 'text-mrl', input: texts, dimensions: 128, encoding_format: 'base64' });
  const at128 = await embed(texts, 128);
  b64.data.forEach((d, i) => {
    assert.equal(typeof d.embedding, 'string');
    const bytes = Buffer.from(d.embedding as unknown as string, 'base64');
    const v = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    assert.equal(v.length, 128);
    v.forEach((x, j) => assert.equal(x, Math.fround(at128[i][j])));
  });
  // No format given: the client asks for base64 and decodes it itself.
  const dflt = await client.embeddings.create({ model: 'text-mrl', input: texts[1] });
  assert.ok(cosine(dflt.data[0].embedding, full[1]) > 0.999999);

  // Errors: OpenAI's shape, our code.
  const err = async (body: Parameters<typeof client.embeddings.create>[0], status: number, code: string) => {
    await assert.rejects(client.embeddings.create(body), (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError, String(e));
      assert.equal(e.status, status);
      assert.equal(e.code, code);
      assert.equal(e.type, 'invalid_request_error');
      assert.ok(typeof (e.error as { message: string }).message === 'string' && (e.error as { message: string }).message.length > 0);
      return true;
    });
  };
  await err({ model: 'nope', input: 'x', encoding_format: 'float' }, 400, 'UNKNOWN_ENCODER');
  await err({ model: 'text-mrl', input: 'x', dimensions: 513, encoding_format: 'float' }, 400, 'INVALID_DIMS');
  await err({ model: 'text-mrl', input: '   ', encoding_format: 'float' }, 400, 'VALIDATION');
  await err({ model: 'text-mrl', input: [1, 2, 3], encoding_format: 'float' }, 400, 'VALIDATION');
  const raw = await fetch(`http://127.0.0.1:${port}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":',
  });
  assert.deepEqual(Object.keys((await raw.json()).error).sort(), ['code', 'message', 'param', 'type']);
  // Other routes keep the project's own error shape.
  const other = await app.inject({ method: 'POST', url: '/embed', payload: { model: 'nope', inputs: ['x'] } });
  assert.deepEqual(Object.keys(other.json().error).sort(), ['code', 'message']);
});
