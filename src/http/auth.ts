import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ConfigError } from '../config.js';
import type { ApiKey, AppContext, Role } from '../context.js';
import { MrlError, mrlError } from '../errors.js';
import { ErrorBody } from './schemas/common.js';
import { ingestStreamGate, installRateLimits, isLoopback, rateLimitActive } from './limits.js';
import { accessFor, type RouteAccess } from './route-access.js';

const registered = new WeakMap<object, { method: string; url: string }[]>();
/** Every route the app registered (HEAD included), in order: what the access tests walk. */
export const registeredRoutes = (app: object): { method: string; url: string }[] => registered.get(app) ?? [];

const RANK: Record<Role, number> = { read: 0, write: 1, admin: 2 };

/** Who is calling: a key, or nobody while auth is off (then everything is allowed). */
interface Caller {
  key: ApiKey | null;
  access: RouteAccess;
  role: Role | 'open';
  authOn: boolean;
}
const callers = new WeakMap<FastifyRequest, Caller>();

/** Whether the caller may see a collection (always, with auth off or an unscoped key). */
export function canSee(req: FastifyRequest, collection: string): boolean {
  const scope = callers.get(req)?.key?.collections;
  return !scope || scope.includes(collection);
}

/** OpenAPI: the two ways to send a key, for swagger's `components.securitySchemes`. */
export const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer mrl_… (an API key)' },
  apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'the same key in x-api-key' },
} as const;

function secretOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string' && h !== '') return /^Bearer\s+(\S+)\s*$/i.exec(h)?.[1] ?? '';
  const x = req.headers['x-api-key'];
  return typeof x === 'string' ? x : undefined;
}

/**
 * API keys, roles and collection scopes, and the request budgets. onRequest: identify the key,
 * count the request against its budget (the key's, or the client address's without one), then
 * 401 without a valid key and 403 below the route's role. preValidation (the body is parsed):
 * roles the body asks for, collection scopes (404 as if the collection did not exist), the
 * expensive routes' budget and the cap on NDJSON streams. onResponse: the audit log.
 */
const authPlugin: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { config } = ctx;
  const limits = await installRateLimits(app, config);
  const ingestGate = ingestStreamGate(config.limits.maxIngestStreams);
  const audit = app.log.child({ log: 'audit' });
  const isImageModel = (name: unknown) =>
    typeof name === 'string' && ctx.encoders.list().some((m) => m.name === name && m.input.kind === 'image');

  const routes: { method: string; url: string }[] = [];
  registered.set(app, routes);
  // OpenAPI: every guarded route declares the key schemes and the answers auth can give (in the
  // project's error shape, unless the route declares its own).
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method, url: route.url });
    const access = accessFor(methods[0], route.url, config.auth.metricsPublic);
    if (access.role === 'open' || route.schema?.hide) return;
    const response = (route.schema?.response ?? {}) as Record<string, unknown>;
    route.schema = {
      ...route.schema,
      security: [{ bearer: [] }, { apiKey: [] }],
      response: { 401: ErrorBody, 403: ErrorBody, 429: ErrorBody, ...response },
    };
  });

  app.addHook('onRequest', async (req, reply) => {
    const access = accessFor(req.method, req.routeOptions.url, config.auth.metricsPublic);
    if (access.role === 'open') return;
    // Auth is on as soon as one key exists, or with MRL_AUTH=required; MRL_AUTH=off turns it off.
    // One read of the keys per request (are there any, whose is the secret), so a key made or
    // revoked by another process (the CLI) counts from the next request on.
    const { mode } = config.auth;
    const sent = mode === 'off' ? undefined : secretOf(req);
    const found = mode === 'off' ? { any: false, key: null } : ctx.keys.lookup(sent || undefined);
    const on = mode === 'required' || (mode === 'auto' && found.any);
    const secret = on ? sent : undefined;
    const key = on ? found.key : null;
    callers.set(req, { key, access, role: access.role, authOn: on });
    if (rateLimitActive(config, on)) await limits.general(req, reply, key ? `key:${key.name}` : `ip:${req.ip}`);
    if (!on) return;
    if (!key) {
      reply.header(
        'www-authenticate',
        secret === undefined ? 'Bearer realm="mrl-server"' : 'Bearer realm="mrl-server", error="invalid_token"',
      );
      throw mrlError(
        'UNAUTHENTICATED',
        secret === undefined
          ? 'this route needs an API key: send Authorization: Bearer <key> (or x-api-key: <key>)'
          : 'unknown or revoked API key',
      );
    }
    requireRole(key, access.role);
    if (access.unscoped && key.collections !== null)
      throw mrlError('FORBIDDEN', `key '${key.name}' is limited to some collections; this route needs a key that sees all of them`);
  });

  app.addHook('preValidation', async (req, reply) => {
    const caller = callers.get(req);
    if (!caller) return;
    const { key, access } = caller;
    const escalated = access.escalate?.(req);
    if (escalated && RANK[escalated] > RANK[caller.role as Role]) {
      caller.role = escalated;
      if (key) requireRole(key, escalated);
    }
    if (key?.collections) {
      for (const c of access.collections?.(req) ?? []) {
        if (typeof c === 'string' && !key.collections.includes(c)) throw new MrlError('COLLECTION_NOT_FOUND', { collection: c });
      }
      if (access.job) {
        const id = (req.params as { id?: unknown }).id;
        if (typeof id === 'string' && !key.collections.includes(ctx.evals.jobs.get(id).collection))
          throw new MrlError('JOB_NOT_FOUND', { id });
      }
    }
    if (access.expensive?.(req, isImageModel) && rateLimitActive(config, caller.authOn)) {
      await limits.expensive(req, reply, key ? `key:${key.name}` : `ip:${req.ip}`);
    }
    if (
      req.routeOptions.url === '/ingest' &&
      req.method === 'POST' &&
      String(req.headers['content-type'] ?? '').startsWith('application/x-ndjson')
    ) {
      ingestGate.enter(reply);
    }
  });

  // The count of items an answer reports, for the audit line.
  app.addHook('preSerialization', async (req, _reply, payload) => {
    const caller = callers.get(req);
    const p = payload as { upserted?: unknown; deleted?: unknown } | null;
    if (caller && p && typeof p === 'object')
      auditItems.set(req, typeof p.upserted === 'number' ? p.upserted : typeof p.deleted === 'number' ? p.deleted : undefined);
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    const caller = callers.get(req);
    if (!caller || (caller.role !== 'write' && caller.role !== 'admin')) return;
    const named = caller.access.collections?.(req).find((c) => typeof c === 'string');
    audit.info(
      {
        key: caller.key?.name ?? null,
        role: caller.key?.role ?? null,
        method: req.method,
        route: req.routeOptions.url ?? req.url.split('?')[0],
        collection: named ?? null,
        items: auditItems.get(req) ?? null,
        status: reply.statusCode,
        reqId: req.id,
      },
      'audit',
    );
  });
};
const auditItems = new WeakMap<FastifyRequest, number | undefined>();

function requireRole(key: ApiKey, role: Role | 'open'): void {
  if (role !== 'open' && RANK[key.role] < RANK[role])
    throw mrlError('FORBIDDEN', `key '${key.name}' has role ${key.role}; this needs ${role}`);
}

// Hooks and decorators apply to the whole app, not only to routes inside this plugin (what fastify-plugin does).
(authPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export { authPlugin };

/**
 * Whether the server may listen where it is asked to: with no key and auth not explicitly off,
 * only on loopback. Throws ConfigError to refuse; returns a warning to log, or null.
 */
export function checkExposure(ctx: AppContext): string | null {
  const { host } = ctx.config.http;
  if (isLoopback(host)) return ctx.config.auth.mode === 'off' ? 'MRL_AUTH=off: no API keys are checked' : null;
  if (ctx.config.auth.mode === 'off') return `MRL_AUTH=off: anyone who can reach ${host} can read, write and drop every collection`;
  if (ctx.keys.count() > 0) return null;
  throw new ConfigError(
    `refusing to listen on ${host} with no API key: anyone who can reach it could drop every collection. ` +
      'Set MRL_ADMIN_KEY (an admin key, at least 20 characters), create a key with `mrl keys create`, ' +
      'listen on 127.0.0.1, or set MRL_AUTH=off to serve without keys',
  );
}
