import { t } from '../i18n/translate.ts';
import { html } from '../pages/html.ts';
import { layout } from '../pages/layout.ts';
import { defaultPageContext, type PageContext } from '../pages/page-context.ts';

export interface ConsentPageInput {
  csrfToken: string;
  clientName: string;
  username: string;
  /** Each requested scope with its description in the page's language, and whether the user allowed it before. */
  scopes: { name: string; description: string; alreadyGranted: boolean }[];
  /** The authorization request, re-sent with the decision and validated again. */
  hiddenParams: [string, string][];
}

/**
 * Who asks, for whom, and what for, in words; what was allowed before is set apart. The Allow and
 * Deny buttons are the first things the keyboard reaches; the link to the account page comes after.
 */
export function consentPage(input: ConsentPageInput, page: PageContext = defaultPageContext): string {
  const { locale } = page;
  const newScopes = input.scopes.filter((scope) => !scope.alreadyGranted);
  const granted = input.scopes.filter((scope) => scope.alreadyGranted);
  return layout(
    t(locale, 'consent.title'),
    html`<h1>${t(locale, 'consent.heading', { client: input.clientName })}</h1>
<p>${t(locale, 'common.signedInAs', { username: input.username })}</p>
${newScopes.length > 0 && html`<p>${t(locale, 'consent.willBeAbleTo', { client: input.clientName })}</p>
<ul class="scopes">${newScopes.map((scope) => html`<li>${scope.description} <span class="muted">(${scope.name})</span></li>`)}</ul>`}
${granted.length > 0 && html`<p class="muted">${t(locale, 'consent.alreadyAllowed', { scopes: html`${granted.map((scope, i) => html`${i > 0 && ', '}${scope.description}`)}` })}</p>`}
<form method="post" action="/authorize/decision">
<input type="hidden" name="_csrf" value="${input.csrfToken}">
${input.hiddenParams.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">
`)}<div class="actions">
<button type="submit" name="decision" value="allow">${t(locale, 'consent.allow')}</button>
<button type="submit" name="decision" value="deny" class="secondary">${t(locale, 'consent.deny')}</button>
</div>
</form>
<p class="muted note">${t(locale, 'consent.takeBack')}</p>`,
    page,
  );
}
