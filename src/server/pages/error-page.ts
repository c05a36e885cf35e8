import { html } from './html.ts';
import { layout } from './layout.ts';

/** Shown when the server must not redirect (an untrusted client or redirect URI) or a form fails. */
export function errorPage(code: string, description: string): string {
  return layout(
    'Something went wrong',
    html`<h1>Something went wrong</h1>
<p class="error" role="alert">${description}</p>
<p class="muted">Error code: <code>${code}</code></p>`,
  );
}

export function messagePage(title: string, message: string): string {
  return layout(title, html`<h1>${title}</h1><p>${message}</p>`);
}
