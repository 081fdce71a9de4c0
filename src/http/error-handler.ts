import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ERRORS, MrlError, type ErrorCode } from '../errors.js';

function body(code: string, message: string) {
  return { error: { code, message } };
}

/** Fastify's own error codes that are the client's fault, mapped onto ours. */
const FASTIFY_CODES: Record<string, { code: ErrorCode; status: number }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', status: 413 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'VALIDATION', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'VALIDATION', status: 400 },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'VALIDATION', status: 400 },
};

/**
 * The one error handler: coded errors keep their status; validation and parser errors are 4xx;
 * anything else is logged with the request's context and answered 500 without internals.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof MrlError) {
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      return reply
        .status(err.status)
        .send(body(err.code, err.status >= 500 && err.code === 'INTERNAL' ? ERRORS.INTERNAL.message : err.message));
    }
    if (err.validation) {
      return reply
        .status(400)
        .send(body('VALIDATION', `${err.validationContext ?? 'request'}${err.message.replace(/^(body|querystring|params|headers)/, '')}`));
    }
    const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (mapped) return reply.status(mapped.status).send(body(mapped.code, err.message));
    if (err instanceof SyntaxError || (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)) {
      return reply.status(err.statusCode && err.statusCode < 500 ? err.statusCode : 400).send(body('VALIDATION', err.message));
    }
    req.log.error({ err }, 'request failed');
    return reply.status(500).send(body('INTERNAL', ERRORS.INTERNAL.message));
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send(body('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));
}

/** Errors fastify meets before routing (a URL that does not decode, a parameter over its length): coded like the rest. */
export function frameworkErrors(err: FastifyError, _req: unknown, reply: FastifyReply): void {
  const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
  void reply.status(status).send(body('VALIDATION', err.message));
}
