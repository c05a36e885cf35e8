import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { safeLocalPath } from '../http/local-path.ts';
import { optionalParam, queryParams } from '../http/params.ts';
import { isLocale } from './locales.ts';
import { languageCookieName } from './resolve-locale.ts';

/**
 * GET /lang?to=ko&return_to=/login?… — the language switcher on every page. It remembers the
 * choice in a cookie and goes back to the page, without the `ui_locales` of the request behind
 * it: that hint comes first (OpenID Connect Core §3.1.2.1), so it would undo the user's choice.
 * A GET link rather than a form: it works without script, and all a forged one can do is
 * change the language.
 */
export function languageRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/lang', { config: { errorFormat: 'page' as const } }, async (request, reply) => {
    const params = queryParams(request.raw.url);
    const to = optionalParam(params, 'to', 16);
    const returnTo = safeLocalPath(optionalParam(params, 'return_to', 4 * ctx.config.maxParameterLength));
    if (isLocale(to)) {
      reply.setCookie(languageCookieName, to, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: ctx.config.issuer.startsWith('https:'),
        maxAge: 365 * 24 * 3600,
      });
    }
    // Checked again as it goes out: taking `ui_locales` out re-serialises the path (invariant 9).
    return reply.redirect(safeLocalPath(withoutUiLocales(returnTo)), 303);
  });
}

/** `path` without `ui_locales`, in its own query and in the request its `return_to` names. */
export function withoutUiLocales(path: string, depth = 0): string {
  const url = new URL(path, 'http://gatehouse.invalid');
  let changed = url.searchParams.has('ui_locales');
  url.searchParams.delete('ui_locales');
  const nested = url.searchParams.get('return_to');
  if (nested !== null && depth < 2) {
    const inner = withoutUiLocales(safeLocalPath(nested), depth + 1);
    if (inner !== nested) {
      url.searchParams.set('return_to', inner);
      changed = true;
    }
  }
  return changed ? `${url.pathname}${url.search}` : path;
}
