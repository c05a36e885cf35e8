import type { WebRoute } from '../http/route-table.ts';
import type { ServerContext } from '../context.ts';
import { stylesheet } from './stylesheet.ts';
import { themeStylesheet } from './theme.ts';

/** The pages' two stylesheets: the fixed design, and the theme rendered from configuration. */
export function assetRoutes(ctx: ServerContext): WebRoute[] {
  const css = (body: string, maxAgeSeconds: number) => ({
    headers: { 'cache-control': `public, max-age=${maxAgeSeconds}` },
    text: { type: 'text/css; charset=utf-8', body },
  });
  const design = css(stylesheet, 3600);
  // Shorter-lived: it changes with the configuration, not with a release.
  const theme = css(themeStylesheet(ctx.config.primaryColor), 300);
  return [
    { lane: 'page', method: 'GET', path: '/assets/gatehouse.css', handle: () => design },
    { lane: 'page', method: 'GET', path: '/assets/theme.css', handle: () => theme },
  ];
}

/**
 * Content-Security-Policy `img-src`: this origin, plus exactly the origin of an https logo
 * (`logoUrl` is validated in config/load.ts).
 */
export function imageSources(logoUrl: string): string[] {
  return logoUrl.startsWith('https:') ? ["'self'", new URL(logoUrl).origin] : ["'self'"];
}
