import { t, type MessageKey } from '../i18n/translate.ts';
import { html } from './html.ts';
import { layout } from './layout.ts';
import { defaultPageContext, type PageContext } from './page-context.ts';

/**
 * Shown when the server must not redirect (an untrusted client or redirect URI) or a form fails.
 * The heading and the explanation are in the page's language; the protocol's own
 * `error_description` and code stay as they are (English, `lang="en"`), for support requests.
 */
export function errorPage(code: string, description: string, page: PageContext = defaultPageContext, status = 400): string {
  const { locale } = page;
  return layout(
    t(locale, 'error.title'),
    html`<h1>${t(locale, 'error.title')}</h1>
<p>${t(locale, explanationOf(code, status))}</p>
<p class="error" role="alert" lang="en">${description}</p>
<p class="muted">${t(locale, 'error.code', { code })}</p>
<p><a href="/">${t(locale, 'error.home')}</a></p>`,
    page,
  );
}

function explanationOf(code: string, status: number): MessageKey {
  if (status === 403) return 'error.explain.forbidden';
  if (status === 404) return 'error.explain.not_found';
  if (status === 429) return 'error.explain.too_many';
  if (code === 'invalid_client') return 'error.explain.invalid_client';
  if (code === 'temporarily_unavailable') return 'error.explain.temporarily_unavailable';
  if (code === 'server_error') return 'error.explain.server_error';
  return 'error.explain.other';
}

export function messagePage(title: string, message: string, page: PageContext = defaultPageContext): string {
  return layout(title, html`<h1>${title}</h1><p>${message}</p>`, page);
}
