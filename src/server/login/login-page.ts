import { t } from '../i18n/translate.ts';
import { html } from '../pages/html.ts';
import { layout } from '../pages/layout.ts';
import { defaultPageContext, type PageContext } from '../pages/page-context.ts';

export interface LoginPageInput {
  csrfToken: string;
  returnTo: string;
  username?: string | undefined;
  /** The last attempt failed: wrong username or password. */
  failed?: boolean;
}

export function loginPage(input: LoginPageInput, page: PageContext = defaultPageContext): string {
  const { locale } = page;
  return layout(
    t(locale, 'login.title'),
    html`<h1>${t(locale, 'login.title')}</h1>
${input.failed === true && html`<p class="error" role="alert">${t(locale, 'login.failed')}</p>`}
<form method="post" action="/login">
<input type="hidden" name="_csrf" value="${input.csrfToken}">
<input type="hidden" name="return_to" value="${input.returnTo}">
<label for="username">${t(locale, 'login.username')}</label>
<input type="text" id="username" name="username" value="${input.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">${t(locale, 'login.password')}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">${t(locale, 'login.submit')}</button>
</form>`,
    page,
  );
}
