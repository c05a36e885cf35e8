import { localeNames, locales, type Locale } from '../i18n/locales.ts';
import { t } from '../i18n/translate.ts';
import { html, type Html } from './html.ts';
import { defaultPageContext, type PageContext } from './page-context.ts';

export interface LayoutOptions {
  /** A wider card, for pages with lists (the account page). */
  wide?: boolean;
}

/**
 * Every page: the brand, one card of content, and a language switcher. Two stylesheets from our
 * own origin and nothing from others (CSP `default-src 'none'`); no script, no inline style. The
 * switcher comes after the content, so keyboard users reach the page's own controls first.
 *
 * Pages built elsewhere (the admin console) call it the same way: `layout(title, body, page)`,
 * with `page` from `pageContextFor(request, ctx.config)` and their texts from `t(page.locale, …)`.
 */
export function layout(title: string | Html, body: Html, page: PageContext = defaultPageContext, options: LayoutOptions = {}): string {
  const wide = options.wide === true ? ' wide' : '';
  return html`<!doctype html>
<html lang="${page.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · ${page.productName}</title>
<link rel="stylesheet" href="/assets/gatehouse.css">
<link rel="stylesheet" href="/assets/theme.css">
</head>
<body>
<header class="brand${wide}">${page.logoUrl !== '' && html`<img src="${page.logoUrl}" alt="" height="32">`}<span>${page.productName}</span></header>
<main class="card${wide}">
${body}
</main>
${languageSwitcher(page.locale, page.path, wide)}
</body>
</html>
`.value;
}

/**
 * The language switcher at the foot of every page, the admin console's included: GET /lang sets
 * the cookie and comes back to `path`.
 */
export function languageSwitcher(current: Locale, path: string, footerClass = ''): Html {
  return html`<footer class="site${footerClass}">
<nav aria-label="${t(current, 'layout.language')}"><ul>
${locales.map((locale) =>
  locale === current
    ? html`<li><span lang="${locale}" aria-current="true">${localeNames[locale]}</span></li>`
    : html`<li><a href="${languageSwitchUrl(locale, path)}" lang="${locale}" hreflang="${locale}">${localeNames[locale]}</a></li>`,
)}
</ul></nav>
</footer>`;
}

/** The switcher's link: /lang sets the cookie and comes back here (see i18n/routes.ts). */
export function languageSwitchUrl(locale: string, returnTo: string): string {
  return `/lang?${new URLSearchParams({ to: locale, return_to: returnTo })}`;
}
