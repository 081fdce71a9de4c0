import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';

/** A client's x-request-id is kept when it is a plain token; otherwise (or absent) a new one is made. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export function requestId(req: IncomingMessage): string {
  const h = req.headers['x-request-id'];
  return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
}

/**
 * Security headers (@fastify/helmet). The Content-Security-Policy allows scripts and styles
 * from this origin only: the web page has no inline script or style. The API docs (Swagger UI)
 * set inline styles from their scripts, so their pages alone also allow inline styles.
 */
export async function installSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'object-src': ["'none'"],
        'frame-ancestors': ["'none'"],
        'upgrade-insecure-requests': null,
      },
    },
    // The server speaks plain HTTP (TLS, where wanted, ends in front of it): no HSTS from here.
    strictTransportSecurity: false,
  });
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
}

/** For @fastify/swagger-ui's transformStaticCSP: the docs' pages also allow inline styles. */
export const docsCsp = (header: string): string => header.replace(/style-src 'self'/, "style-src 'self' 'unsafe-inline'");
