import type { ServerContext } from '../context.ts';
import { safeLocalPath } from '../http/local-path.ts';
import { optionalParam } from '../http/params.ts';
import { redirectReply, type RouteReply, type RouteRequest, type WebRoute } from '../http/route-table.ts';
import { isLocale } from './locales.ts';
import { languageCookieName } from './resolve-locale.ts';

/**
 * GET /lang?to=ko&return_to=/login?… — the language switcher on every page. It remembers the
 * choice in a cookie and goes back to the page, without the `ui_locales` of the request behind
 * it: that hint comes first (OpenID Connect Core §3.1.2.1), so it would undo the user's choice.
 * A GET link rather than a form: it works without script, and all a forged one can do is
 * change the language.
 */
export function languageRoutes(ctx: ServerContext): WebRoute[] {
  function switchLanguage(request: RouteRequest): RouteReply {
    const to = optionalParam(request.query, 'to', 16);
    const returnTo = safeLocalPath(optionalParam(request.query, 'return_to', 4 * ctx.config.maxParameterLength));
    // Checked again as it goes out: taking `ui_locales` out re-serialises the path (invariant 9).
    const reply = redirectReply(safeLocalPath(withoutUiLocales(returnTo)));
    if (!isLocale(to)) return reply;
    const options = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: ctx.config.issuer.startsWith('https:'), maxAge: 365 * 24 * 3600 };
    return { ...reply, cookies: [{ name: languageCookieName, value: to, options }] };
  }

  return [{ lane: 'page', method: 'GET', path: '/lang', handle: switchLanguage }];
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
