import { isLocale, locales, type Locale } from './locales.ts';

/** The cookie the language switcher sets. */
export const languageCookieName = 'gatehouse_lang';

export interface LocaleSources {
  /** OpenID Connect `ui_locales` (Core §3.1.2.1): BCP 47 tags, space-separated, preferred first. */
  uiLocales?: string | undefined;
  /** The language switcher's cookie. */
  cookie?: string | undefined;
  /** The browser's `Accept-Language` header (RFC 9110 §12.5.4). */
  acceptLanguage?: string | undefined;
}

/**
 * The language of a page: what the client asked for with `ui_locales`, else what the user picked
 * with the switcher, else the browser's preference, else the configured default.
 */
export function resolveLocale(sources: LocaleSources, fallback: Locale): Locale {
  return (
    firstSupported(parseUiLocales(sources.uiLocales)) ??
    (isLocale(sources.cookie) ? sources.cookie : undefined) ??
    firstSupported(parseAcceptLanguage(sources.acceptLanguage)) ??
    fallback
  );
}

/** The tags of `ui_locales`, in the order given. */
export function parseUiLocales(value: string | undefined): string[] {
  return (value ?? '').slice(0, 500).split(' ').filter((tag) => tag !== '');
}

/** The language ranges of `Accept-Language`, most wanted first; q=0 means "not this one". */
export function parseAcceptLanguage(header: string | undefined): string[] {
  const ranges: { tag: string; q: number; index: number }[] = [];
  (header ?? '')
    .slice(0, 1000)
    .split(',')
    .forEach((part, index) => {
      const [tag = '', ...parameters] = part.split(';').map((piece) => piece.trim());
      if (tag === '' || tag === '*') return;
      let q = 1;
      for (const parameter of parameters) {
        const match = /^q=([01](?:\.\d{0,3})?)$/i.exec(parameter);
        if (match !== null) q = Number(match[1]);
      }
      if (q > 0) ranges.push({ tag, q, index });
    });
  return ranges.sort((a, b) => b.q - a.q || a.index - b.index).map((range) => range.tag);
}

/** The first tag whose primary language subtag (`ko` of `ko-KR`) Gatehouse speaks. */
function firstSupported(tags: readonly string[]): Locale | undefined {
  for (const tag of tags) {
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    const match = locales.find((locale) => locale === primary);
    if (match !== undefined) return match;
  }
  return undefined;
}
