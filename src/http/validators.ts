import Ajv from 'ajv';
import type { FastifyInstance } from 'fastify';

/**
 * Two validators: query strings and params are strings on the wire, so they are coerced
 * ("10" → 10); bodies are JSON and are NOT coerced, so a vector element "1", true or null is
 * refused instead of silently becoming a number.
 */
export function installValidators(app: FastifyInstance): void {
  const common = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false } as const;
  const coercing = new Ajv.default({ ...common, coerceTypes: 'array' });
  const strict = new Ajv.default({ ...common, coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict.compile(schema) : coercing.compile(schema)));
}
