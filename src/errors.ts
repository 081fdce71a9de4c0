/**
 * One registry of error codes: code -> HTTP status + message template.
 * Store, core and engine throw MrlError; only the HTTP error handler maps codes to statuses.
 */
export const ERRORS = {
  VALIDATION: { status: 400, message: '{detail}' },
  INVALID_VECTOR: { status: 400, message: '{detail}' },
  DIM_MISMATCH: { status: 400, message: "vector has {got} values, collection '{collection}' expects {expected}" },
  INVALID_ID: { status: 400, message: '{detail}' },
  INVALID_COLLECTION: { status: 400, message: '{detail}' },
  INVALID_SEARCH: { status: 400, message: '{detail}' },
  INVALID_FILTER: { status: 400, message: '{detail}' },
  INVALID_QUERY: { status: 400, message: '{detail}' },
  COLLECTION_NOT_FOUND: { status: 404, message: "collection '{collection}' does not exist" },
  COLLECTION_EXISTS: { status: 409, message: "collection '{collection}' already exists" },
  ITEM_NOT_FOUND: { status: 404, message: "item '{id}' not found in collection '{collection}'" },
  NO_ENCODER: { status: 400, message: "collection '{collection}' has no encoder" },
  PAYLOAD_TOO_LARGE: { status: 413, message: '{detail}' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: "content type '{type}' is not accepted here: send application/json or application/x-ndjson",
  },
  NOT_READY: { status: 503, message: "collection '{collection}' is still loading" },
  INVALID_DIMS: { status: 400, message: "dims {dims} is outside 1..{dim} for model '{model}'" },
  UNKNOWN_ENCODER: { status: 400, message: "encoder '{encoder}' is not available on this server" },
  NO_CLASSIFIER: { status: 400, message: "model '{model}' has no classification heads" },
  INVALID_EVAL: { status: 400, message: '{detail}' },
  NO_LABELS: { status: 409, message: 'no query in this evaluation has a label: mAP@10 needs labelled items ({detail})' },
  EVAL_BUSY: { status: 409, message: 'an evaluation is already running ({detail}); wait for it or poll its job' },
  JOB_NOT_FOUND: { status: 404, message: "evaluation job '{id}' not found (jobs are kept in memory until the server restarts)" },
  LABEL_SPACE_EXHAUSTED: { status: 507, message: 'the internal sequence reached 2^32; compact the store' },
  SHARD_UNAVAILABLE: { status: 503, message: "no live replica answered for shard(s) {shards} of collection '{collection}'" },
  CONSISTENCY_TIMEOUT: {
    status: 503,
    message: "no replica of collection '{collection}' applied shard {shard} up to sequence {seq} within {ms} ms",
  },
  CLUSTER_UNAVAILABLE: { status: 503, message: '{detail}' },
  CLUSTER_FORBIDDEN: { status: 403, message: 'node-to-node requests need the cluster key (x-mrl-cluster-key)' },
  SEARCH_UNAVAILABLE: { status: 503, message: 'search unavailable: {detail}; retry' },
  INGEST_UNAVAILABLE: {
    status: 503,
    message: 'ingest stopped: {detail}; the batches committed before stay, retry the lines after them (an upsert again is harmless)',
  },
  STORE_CORRUPT: { status: 500, message: '{detail}' },
  INTERNAL: { status: 500, message: 'internal error' },
  UNAUTHENTICATED: { status: 401, message: '{detail}' },
  FORBIDDEN: { status: 403, message: '{detail}' },
  RATE_LIMITED: { status: 429, message: 'too many requests: {max} per minute{scope}; retry in {retryAfter} s' },
  INGEST_BUSY: {
    status: 503,
    message: '{active} NDJSON ingest streams are already running (the most this server takes at once); retry later',
  },
  INVALID_KEY: { status: 400, message: '{detail}' },
  KEY_EXISTS: { status: 409, message: "an API key named '{name}' already exists" },
  KEY_NOT_FOUND: { status: 404, message: "no API key named '{name}'" },
} as const;

export type ErrorCode = keyof typeof ERRORS;

function render(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => (key in params ? String(params[key]) : `{${key}}`));
}

export class MrlError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly params: Record<string, unknown>;
  constructor(code: ErrorCode, params: Record<string, unknown> = {}) {
    super(render(ERRORS[code].message, params));
    this.name = 'MrlError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.params = params;
  }
}

/** Shorthand for the many "{detail}" errors. */
export function mrlError(code: ErrorCode, detail: string, params: Record<string, unknown> = {}): MrlError {
  return new MrlError(code, { detail, ...params });
}

/** An error as it crosses between threads (postMessage keeps no class): the code and params of an MrlError, else the message. */
export interface WireError {
  code?: string;
  params?: Record<string, unknown>;
  message: string;
}

export function toWire(err: unknown): WireError {
  if (err instanceof MrlError) return { code: err.code, params: err.params, message: err.message };
  return { message: err instanceof Error ? err.message : String(err) };
}

/** The error `toWire` sent: an MrlError again when it was one. */
export function fromWire(e: WireError): Error {
  return e.code ? new MrlError(e.code as ErrorCode, e.params) : new Error(e.message);
}
