import type { FastifyRequest } from 'fastify';
import { DEFAULT_COLLECTION } from '../context.js';
import type { Role } from '../context.js';

/** What one route requires of the caller's key (src/http/auth.ts enforces it). */
export interface RouteAccess {
  /** 'open': no key needed. Otherwise the lowest role that may call it (read < write < admin). */
  role: 'open' | Role;
  /** The collections the request names; a key scoped to others answers 404 COLLECTION_NOT_FOUND. Sees the parsed, unvalidated request. */
  collections?: (req: FastifyRequest) => unknown[];
  /** Only keys that see every collection (the answer would list or change what a scoped key must not see). */
  unscoped?: boolean;
  /** A higher role that the body asks for (a sweep with `apply` changes the collection's defaults). */
  escalate?: (req: FastifyRequest) => Role | undefined;
  /** The lower budget of MRL_RATE_LIMIT_EXPENSIVE applies (decided on the parsed body). */
  expensive?: (req: FastifyRequest, imageModel: (name: unknown) => boolean) => boolean;
  /** The route names an evaluation job: a scoped key sees only its collections' jobs. */
  job?: boolean;
}

const obj = (v: unknown): Record<string, unknown> | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(Symbol.asyncIterator in v) ? (v as Record<string, unknown>) : null;
const fromParams = (req: FastifyRequest) => [obj(req.params)?.name];
const fromQuery = (req: FastifyRequest) => [obj(req.query)?.collection ?? DEFAULT_COLLECTION];
/** The body's collection (the default one when absent); nothing when the body is not an object (validation answers). */
const fromBody = (req: FastifyRequest) => {
  const b = obj(req.body);
  return b ? [b.collection ?? DEFAULT_COLLECTION] : [];
};
const trueish = (v: unknown) => v === true || v === 'true' || v === '1';

/**
 * Every route's access, keyed by "METHOD url" as the route was registered (HEAD follows GET).
 * A route missing here needs an admin key that sees every collection: add new routes here.
 */
export const ROUTE_ACCESS: Record<string, RouteAccess> = {
  'GET /health': { role: 'open' },
  'GET /ready': { role: 'open' },
  'GET /': { role: 'open' },
  'GET /static/:file': { role: 'open' },
  // Node-to-node routes of cluster mode (src/cluster/routes.ts): no API key, the cluster key (x-mrl-cluster-key) instead.
  'POST /cluster/search': { role: 'open' },
  'GET /cluster/item': { role: 'open' },
  'GET /cluster/status': { role: 'open' },
  'GET /cluster/backup': { role: 'open' },
  'POST /cluster/compact': { role: 'open' },
  'POST /cluster/page': { role: 'open' },
  // Its labels name every collection. MRL_METRICS_PUBLIC=true opens it.
  'GET /metrics': { role: 'read', unscoped: true },

  'GET /collections': { role: 'read' }, // lists only the key's own collections
  'GET /collections/:name': { role: 'read', collections: fromParams },
  'POST /collections': { role: 'admin', collections: (req) => (obj(req.body) ? [obj(req.body)!.name] : []) },
  'PATCH /collections/:name': { role: 'admin', collections: fromParams }, // indexedFields
  'DELETE /collections/:name': { role: 'admin', collections: fromParams },
  'GET /collections/:name/items/:id': { role: 'read', collections: fromParams },
  'PATCH /collections/:name/items/:id': { role: 'write', collections: fromParams },
  'DELETE /collections/:name/items/:id': { role: 'write', collections: fromParams },
  'POST /ingest': {
    role: 'write',
    collections: (req) => [obj(req.query)?.collection, obj(req.body)?.collection].filter((c) => c !== undefined),
  },

  'GET /search': { role: 'read', collections: fromQuery, expensive: (req) => trueish(obj(req.query)?.exact) },
  'POST /search': {
    role: 'read',
    collections: fromBody,
    expensive: (req) => obj(req.body)?.exact === true || obj(req.body)?.firstStage === 'exact',
  },

  'GET /models': { role: 'read' },
  'POST /embed': { role: 'read', expensive: (req, image) => image(obj(req.body)?.model) },
  // OpenAI's embeddings API over the same encoders: the same access as POST /embed.
  'POST /v1/embeddings': { role: 'read', expensive: (req, image) => image(obj(req.body)?.model) },
  'POST /classify': { role: 'read', expensive: (req, image) => image(obj(req.body)?.model) },

  // Running an evaluation records it as the collection's latest result: a write.
  'GET /eval': {
    role: 'write',
    collections: (req) => [...fromQuery(req), obj(req.query)?.queries].filter((c) => c !== undefined),
    expensive: () => true,
  },
  'POST /eval/sweep': {
    role: 'write',
    collections: (req) => [...fromBody(req), obj(obj(req.body)?.queries)?.collection].filter((c) => c !== undefined),
    expensive: () => true,
    escalate: (req) => (obj(req.body)?.apply === true ? 'admin' : undefined),
  },
  'GET /eval/jobs/:id': { role: 'read', job: true },
  'GET /eval/latest': { role: 'read', collections: fromQuery },

  // The quality guard: reading a stored report is cheap; recomputing one (or the first) scans a sample exactly.
  'GET /collections/:name/quality': {
    role: 'read',
    collections: fromParams,
    expensive: (req) => ['refresh', 'sample', 'seed'].some((k) => obj(req.query)?.[k] !== undefined),
  },
  // Creates a collection (the target) from another's items: as creating one does.
  'POST /collections/:name/adapt': {
    role: 'admin',
    collections: (req) => [...fromParams(req), obj(req.body)?.target].filter((c) => c !== undefined),
    expensive: () => true,
  },

  'POST /keys': { role: 'admin', unscoped: true },
  'GET /keys': { role: 'admin', unscoped: true },
  'DELETE /keys/:name': { role: 'admin', unscoped: true },
};

/** Default-deny: what a route missing from the table requires. */
export const UNLISTED: RouteAccess = { role: 'admin', unscoped: true };
/** A URL no route matches: any valid key, then 404. */
export const NO_ROUTE: RouteAccess = { role: 'read' };
/** The OpenAPI document and its viewer. */
export const DOCS: RouteAccess = { role: 'open' };

export function accessFor(method: string, url: string | undefined, metricsPublic: boolean): RouteAccess {
  if (url === undefined) return NO_ROUTE;
  if (url === '/docs' || url.startsWith('/docs/')) return DOCS;
  const m = method === 'HEAD' ? 'GET' : method;
  if (metricsPublic && m === 'GET' && url === '/metrics') return { role: 'open' };
  return ROUTE_ACCESS[`${m} ${url}`] ?? UNLISTED;
}
