import { t } from '../i18n/translate.ts';
import { html } from '../pages/html.ts';
import { layout } from '../pages/layout.ts';
import { defaultPageContext, type PageContext } from '../pages/page-context.ts';

export interface HomePageInput {
  username: string | undefined;
  csrfToken: string;
  issuer: string;
}

export function homePage(input: HomePageInput, page: PageContext = defaultPageContext): string {
  const { locale } = page;
  return layout(
    page.productName,
    html`<h1>${page.productName}</h1>
<p class="muted">${t(locale, 'home.server', { issuer: input.issuer })}</p>
${
  input.username === undefined
    ? html`<p>${t(locale, 'home.notSignedIn')}</p><p><a href="/login">${t(locale, 'login.submit')}</a></p>`
    : html`<p>${t(locale, 'common.signedInAs', { username: input.username })}</p>
<p><a href="/account">${t(locale, 'home.account')}</a></p>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${input.csrfToken}"><button type="submit" class="secondary">${t(locale, 'common.signOut')}</button></form>`
}`,
    page,
  );
}
