/**
 * The web app (`web/dist`, built by Vite): its files as they are, and `index.html` for every
 * other GET that is not an API path, so the app's own routes survive a reload. Hashed assets
 * are cached for good, `index.html` never. Without a build, `/` says how to make one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '@gha-slurm/core/http/errors';

export interface SpaOptions {
  distDir: string;
}

/** Paths that belong to the API and the tools; the web app must not use them for its routes. */
export const RESERVED_PREFIXES = ['/api', '/admin', '/docs', '/repositories', '/healthz', '/readyz', '/metrics'];

const NOT_BUILT = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>gha-slurm: web app not built</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}code{background:#eee;padding:0 .25rem}</style>
</head>
<body>
<h1>The web app is not built</h1>
<p>repo-api is running, but it has no web app to serve: the folder <code>web/dist</code> does not exist.</p>
<p>Build it from the repository root with <code>npm run build -w web</code>, then restart repo-api
(or set <code>WEB_DIST_DIR</code> to a folder that holds a build).</p>
<p>Meanwhile the API answers at <a href="/docs">/docs</a>, and the queue dashboard is at <a href="/admin/queues">/admin/queues</a>.</p>
</body>
</html>
`;

function isReserved(path: string): boolean {
  return RESERVED_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

export async function spaRoutes(app: FastifyInstance, options: SpaOptions) {
  const built = existsSync(join(options.distDir, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root: options.distDir,
      // Files are listed once at start: a new build is served after a restart.
      wildcard: false,
      index: false,
      cacheControl: false,
      setHeaders(reply, filePath) {
        const immutable = /[\\/]assets[\\/]/.test(filePath);
        reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }

  const serveApp = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    const lastSegment = path.split('/').pop() ?? '';
    if (isReserved(path) || /\.[A-Za-z0-9]+$/.test(lastSegment)) {
      return reply.code(404).send(errorBody(404, 'NOT_FOUND', `no route ${request.method} ${path}`));
    }
    if (!built) return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT);
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  };
  app.get('/', { schema: { hide: true } }, serveApp);
  app.get('/*', { schema: { hide: true } }, serveApp);
}
