import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RouteDeps } from '../route-deps.js';
import { projectRoot } from '../../paths.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * A flat file name with a known extension: no separators, no leading dot, so the joined path
 * can only name a file directly inside public/ (no traversal, no dotfiles, no subfolders).
 */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*\.[a-z]+$/;

/** The web page: public/index.html at `/`, its scripts and styles at `/static/<file>`. Hidden from the OpenAPI document. */
export const webRoutes: FastifyPluginAsync<RouteDeps> = async (base) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const dir = join(projectRoot(), 'public');

  const send = async (name: string, reply: FastifyReply) => {
    const type = TYPES[extname(name)];
    if (!SAFE_NAME.test(name) || !type) return reply.callNotFound();
    let body: Buffer;
    try {
      body = await readFile(join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reply.callNotFound();
      throw err;
    }
    // Small files read per request: no-cache so an edited page is picked up on reload.
    return reply.type(type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(body);
  };

  app.get('/', { schema: { hide: true } }, (_req, reply) => send('index.html', reply));
  app.get(
    '/static/:file',
    {
      schema: { hide: true, params: Type.Object({ file: Type.String() }) },
    },
    (req, reply) => send(req.params.file, reply),
  );
};
