/**
 * `GET /.well-known/jwks.json`: the public keys that verify launch tokens (RFC 7517), so a
 * gateway can check that a launch request came from this deployment. Each key's `kid` is its
 * RFC 7638 thumbprint, the id launch tokens carry in their header.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { VerificationKey } from '@gha-slurm/core/launch-token';

export interface JwksRouteOptions {
  keys: VerificationKey[];
  /** The rate limit shared by the public routes. */
  limit: preHandlerAsyncHookHandler;
}

export async function jwksRoutes(app: FastifyInstance, options: JwksRouteOptions) {
  const body = JSON.stringify({ keys: options.keys.map((key) => key.jwk) });
  app.get('/.well-known/jwks.json', { onRequest: options.limit }, async (_request, reply) =>
    reply
      // Rotation publishes the new key before tokens use it, so a few minutes of caching is safe.
      .headers({ 'cache-control': 'public, max-age=300', 'content-type': 'application/json; charset=utf-8' })
      .send(body),
  );
}
