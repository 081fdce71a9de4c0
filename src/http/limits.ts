import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Config } from '../config.js';
import { MrlError } from '../errors.js';

/** Requests per minute when MRL_RATE_LIMIT is not set and limiting is on. */
export const DEFAULT_RATE_LIMIT = 6000;
const WINDOW_MS = 60_000;
/** Seconds a client is told to wait when every NDJSON ingest slot is taken. */
const INGEST_RETRY_AFTER_S = 5;

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost)$/i;
export const isLoopback = (host: string): boolean => LOOPBACK.test(host.replace(/^\[|\]$/g, ''));

export interface Limiter {
  (req: FastifyRequest, reply: FastifyReply, bucket: string): Promise<void>;
}

/**
 * The two request budgets (@fastify/rate-limit's local store, one window of a minute): all
 * requests, and the expensive ones (evaluations, sweeps, exact search, image embedding). The
 * caller names the bucket (a key's name, or the client's address), so the limit applies per
 * key and per address; the caller decides whether limiting applies (rateLimitActive).
 */
export async function installRateLimits(app: FastifyInstance, config: Config): Promise<{ general: Limiter; expensive: Limiter }> {
  await app.register(rateLimit, { global: false, timeWindow: WINDOW_MS });
  const make = (max: number, scope: string): Limiter => {
    const check = app.createRateLimit({
      max,
      timeWindow: WINDOW_MS,
      keyGenerator: (req) => (req as FastifyRequest & { rateBucket: string }).rateBucket,
    });
    return async (req, reply, bucket) => {
      (req as FastifyRequest & { rateBucket: string }).rateBucket = `${scope}:${bucket}`;
      const r = await check(req);
      if (r.isAllowed || !r.isExceeded) return;
      reply.header('retry-after', String(r.ttlInSeconds));
      throw new MrlError('RATE_LIMITED', { max, scope: scope === 'expensive' ? ' for expensive routes' : '', retryAfter: r.ttlInSeconds });
    };
  };
  return {
    general: make(config.limits.rateLimit || DEFAULT_RATE_LIMIT, 'all'),
    expensive: make(config.limits.rateLimitExpensive, 'expensive'),
  };
}

/** Whether rate limiting applies: MRL_RATE_LIMIT=0 turns it off; unset, it is off only on loopback with auth off. */
export function rateLimitActive(config: Config, authOn: boolean): boolean {
  if (config.limits.rateLimit !== null) return config.limits.rateLimit > 0;
  return authOn || !isLoopback(config.http.host);
}

/** A cap on concurrent NDJSON ingest streams: each holds a connection and a writer for as long as the client sends. */
export function ingestStreamGate(max: number) {
  let active = 0;
  return {
    get active() {
      return active;
    },
    /** Takes a slot until the response ends (or the connection drops), or answers 503 INGEST_BUSY. */
    enter(reply: FastifyReply): void {
      if (active >= max) {
        reply.header('retry-after', String(INGEST_RETRY_AFTER_S));
        throw new MrlError('INGEST_BUSY', { active });
      }
      active++;
      let held = true;
      const release = () => {
        if (held) active--;
        held = false;
      };
      reply.raw.once('finish', release);
      reply.raw.once('close', release);
    },
  };
}

/**
 * Server timeouts, so that a slow or silent client cannot hold a connection forever: the whole
 * request (headers and body) must arrive within requestTimeout, the headers within
 * headersTimeout, and an idle keep-alive connection is closed after keepAliveTimeout.
 */
export function serverTimeouts(config: Config) {
  return {
    requestTimeout: config.limits.requestTimeoutMs,
    keepAliveTimeout: config.limits.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (30 s by default).
    http: { connectionsCheckingInterval: Math.min(5000, config.limits.headersTimeoutMs) },
  };
}

export function applyHeadersTimeout(app: FastifyInstance, config: Config): void {
  app.server.headersTimeout = config.limits.headersTimeoutMs;
}
