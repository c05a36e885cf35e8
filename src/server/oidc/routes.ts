import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { providerMetadata } from './discovery.ts';

export function oidcRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const metadata = providerMetadata(ctx.config, ctx.scopes);
  // Discovery 1.0 §4 and RFC 8414 §3: the same metadata under both well-known names.
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    app.get(path, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(metadata));
  }
  // RFC 7517: the public keys. Short caching, so a rotation reaches verifiers quickly.
  app.get('/jwks', async (_request, reply) =>
    reply.type('application/jwk-set+json').header('cache-control', 'public, max-age=60').send(await ctx.keys.publicJwks()),
  );
}
