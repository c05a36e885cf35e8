import type { GatehouseConfig } from '../config/defaults.ts';
import type { Locale } from '../i18n/locales.ts';
import { languageCookieName, resolveLocale } from '../i18n/resolve-locale.ts';

/** What every page needs besides its own content: the language, the branding, its own address. */
export interface PageContext {
  locale: Locale;
  productName: string;
  /** A same-origin path or an https URL (validated in config/load.ts); empty for none. */
  logoUrl: string;
  /** Where the language switcher brings the browser back to: this page, when it was a GET. */
  path: string;
}

export const defaultPageContext: PageContext = { locale: 'en', productName: 'Gatehouse', logoUrl: '', path: '/' };

/** The parts of a request that decide how a page looks (a Fastify request has them). */
export interface PageRequest {
  method: string;
  url: string;
  body?: unknown;
  cookies?: Record<string, string | undefined>;
  headers: Record<string, string | string[] | undefined>;
}

type LookConfig = Pick<GatehouseConfig, 'defaultLocale' | 'productName' | 'logoUrl'>;

/**
 * The page context of a request. `path` overrides the switcher's way back, for a page that
 * answers a POST (its own URL cannot be fetched again).
 */
export function pageContextFor(request: PageRequest, config: LookConfig, path?: string): PageContext {
  const acceptLanguage = request.headers['accept-language'];
  const locale = resolveLocale(
    {
      uiLocales: uiLocalesOf(request),
      cookie: request.cookies?.[languageCookieName],
      acceptLanguage: Array.isArray(acceptLanguage) ? acceptLanguage.join(',') : acceptLanguage,
    },
    config.defaultLocale,
  );
  return {
    locale,
    productName: config.productName,
    logoUrl: config.logoUrl,
    path: path ?? (request.method === 'GET' ? request.url : '/'),
  };
}

/**
 * `ui_locales` of the authorization request behind this page: a parameter of /authorize itself
 * (query or form), or of the request the login form returns to (`return_to`). Read leniently:
 * it only chooses a language, and /authorize validates it for real.
 */
function uiLocalesOf(request: PageRequest): string | undefined {
  const query = request.url.indexOf('?');
  const sources = [new URLSearchParams(query === -1 ? '' : request.url.slice(query + 1))];
  if (request.body instanceof Map) {
    const fields = [...(request.body as Map<string, string[]>)].flatMap(([name, values]) => values.map((value): [string, string] => [name, value]));
    sources.push(new URLSearchParams(fields));
  }
  for (const params of sources) {
    const direct = params.get('ui_locales');
    if (direct !== null) return direct;
    const returnTo = params.get('return_to');
    const nested = returnTo?.startsWith('/authorize?') ? new URLSearchParams(returnTo.slice('/authorize?'.length)).get('ui_locales') : null;
    if (nested !== null && nested !== undefined) return nested;
  }
  return undefined;
}
