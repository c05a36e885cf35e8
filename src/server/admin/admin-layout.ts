import type { Locale } from '../i18n/locales.ts';
import { t, type MessageKey } from '../i18n/translate.ts';
import { html, type Html } from '../pages/html.ts';
import { languageSwitcher } from '../pages/layout.ts';
import type { PageContext } from '../pages/page-context.ts';

/** The console's sections, in the order of its navigation. */
export type AdminSection = 'overview' | 'clients' | 'users' | 'keys' | 'events';

const sections: { section: AdminSection; href: string; label: MessageKey }[] = [
  { section: 'overview', href: '/admin', label: 'admin.nav.overview' },
  { section: 'clients', href: '/admin/clients', label: 'admin.nav.clients' },
  { section: 'users', href: '/admin/users', label: 'admin.nav.users' },
  { section: 'keys', href: '/admin/keys', label: 'admin.nav.keys' },
  { section: 'events', href: '/admin/events', label: 'admin.nav.events' },
];

export interface AdminPageFrame {
  /** The configured product name (branding). */
  productName: string;
  /** The reader's language (resolved as for every page: ui_locales, cookie, Accept-Language). */
  locale: Locale;
  /** Where the language switcher comes back to. */
  path: string;
  title: string | Html;
  section: AdminSection;
  /** The administrator, shown in the bar with a sign-out button. */
  username: string;
  csrfToken: string;
  /** A one-line confirmation of what was just done. */
  notice?: string | Html | undefined;
  error?: string | Html | undefined;
}

/** The head of every console page: one stylesheet of our own, no script, no referrer. */
function adminHead(locale: Locale, title: string | Html, productName: string): Html {
  return html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · ${t(locale, 'admin.brand', { product: productName })}</title>
<link rel="stylesheet" href="/admin/assets/admin.css">
</head>`;
}

/** Every console page: the bar with the sections, then the page. No script, one stylesheet of our own. */
export function adminLayout(frame: AdminPageFrame, body: Html): string {
  const m = (key: MessageKey, params?: Record<string, string | number | Html>) => t(frame.locale, key, params);
  return html`${adminHead(frame.locale, frame.title, frame.productName)}
<body>
<header class="bar">
<a class="brand" href="/admin">${m('admin.brand', { product: frame.productName })}</a>
<nav aria-label="${m('admin.sections')}"><ul>
${sections.map(
  ({ section, href, label }) => html`<li><a href="${href}"${section === frame.section ? html` aria-current="page"` : ''}>${m(label)}</a></li>
`,
)}</ul></nav>
<form method="post" action="/logout">
<input type="hidden" name="_csrf" value="${frame.csrfToken}">
<span class="muted">${m('admin.signedInAs', { username: frame.username })}</span>
<button type="submit" class="secondary">${m('common.signOut')}</button>
</form>
</header>
<main>
${frame.notice && html`<p class="notice" role="status">${frame.notice}</p>`}
${frame.error && html`<p class="error" role="alert">${frame.error}</p>`}
${body}
</main>
${languageSwitcher(frame.locale, frame.path)}
</body>
</html>
`.value;
}

/** Shown to a signed-in user who is not an administrator (403). */
export function forbiddenPage(page: PageContext, username: string, csrfToken: string): string {
  const m = (key: MessageKey, params?: Record<string, string | number | Html>) => t(page.locale, key, params);
  return html`${adminHead(page.locale, m('admin.forbidden.title'), page.productName)}
<body>
<main>
<section class="panel">
<h1>${m('admin.forbidden.title')}</h1>
<p class="error" role="alert">${m('admin.forbidden.text', { username })}</p>
<div class="actions">
<a href="/">${m('admin.forbidden.home')}</a>
<form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${csrfToken}"><button type="submit" class="secondary">${m('common.signOut')}</button></form>
</div>
</section>
</main>
${languageSwitcher(page.locale, page.path)}
</body>
</html>
`.value;
}

/** A time as people read it, with the exact instant for machines. */
export function time(locale: Locale, value: number | null): Html {
  if (value === null) return html`<span class="muted">${t(locale, 'admin.never')}</span>`;
  const iso = new Date(value).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}
