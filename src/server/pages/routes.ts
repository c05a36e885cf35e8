import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { stylesheet } from './stylesheet.ts';
import { themeStylesheet } from './theme.ts';

/** The pages' two stylesheets: the fixed design, and the theme rendered from configuration. */
export function assetRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const theme = themeStylesheet(ctx.config.primaryColor);
  app.get('/assets/gatehouse.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(stylesheet),
  );
  // Shorter-lived: it changes with the configuration, not with a release.
  app.get('/assets/theme.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(theme),
  );
}

/**
 * Content-Security-Policy `img-src`: this origin, plus exactly the origin of an https logo
 * (`logoUrl` is validated in config/load.ts).
 */
export function imageSources(logoUrl: string): string[] {
  return logoUrl.startsWith('https:') ? ["'self'", new URL(logoUrl).origin] : ["'self'"];
}
