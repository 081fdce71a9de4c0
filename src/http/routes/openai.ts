import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RouteDeps } from '../route-deps.js';
import { EmbeddingsBody, EmbeddingsReply, openAiErrorResponses } from '../schemas/openai.js';

/** Float32 little-endian bytes, base64: what OpenAI's `encoding_format: "base64"` returns. */
function toBase64(v: number[]): string {
  const f = Float32Array.from(v);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
}

/**
 * POST /v1/embeddings, compatible with OpenAI's embeddings API (its clients, LangChain and
 * LlamaIndex speak it): the same encoders and truncation as POST /embed. Errors on this route
 * are rewritten into OpenAI's shape `{ error: { message, type, param, code } }`, `code` being ours.
 */
export const openAiRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { encoders, config } = ctx;

  // The project's error handler answers { error: { code, message } }; reshaped before it is
  // serialised, so what is sent is what the route's error schemas (and OpenAPI) say.
  app.addHook('preSerialization', async (_req, reply, payload: unknown) => {
    const error = reply.statusCode >= 400 ? (payload as { error?: { code?: unknown; message?: unknown } } | null)?.error : undefined;
    if (typeof error?.code !== 'string' || typeof error.message !== 'string') return payload;
    const type = reply.statusCode >= 500 ? 'server_error' : 'invalid_request_error';
    return { error: { message: error.message, type, param: null, code: error.code } };
  });

  app.post(
    '/v1/embeddings',
    {
      schema: {
        tags: ['models'],
        body: EmbeddingsBody(config.http.maxEmbedBatch),
        response: { 200: EmbeddingsReply, ...openAiErrorResponses },
      },
    },
    async (req) => {
      const { model, input, dimensions, encoding_format: format = 'float' } = req.body;
      const inputs = typeof input === 'string' ? [input] : input;
      const { embeddings } = await encoders.embedAtDims(model, inputs, dimensions);
      const tokens = await encoders.countTokens(model, inputs);
      return {
        object: 'list' as const,
        data: embeddings.map((e, index) => ({ object: 'embedding' as const, index, embedding: format === 'base64' ? toBase64(e) : e })),
        model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    },
  );
};
