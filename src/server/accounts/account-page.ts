import { formatDate, t, type MessageKey } from '../i18n/translate.ts';
import { html } from '../pages/html.ts';
import { layout } from '../pages/layout.ts';
import { defaultPageContext, type PageContext } from '../pages/page-context.ts';

/** One app the user allowed, as the account page lists it. */
export interface AuthorizedAppView {
  clientId: string;
  clientName: string;
  /** Each granted scope's description in the page's language, and its name. */
  scopes: { name: string; description: string }[];
  allowedAt: number;
  lastUsedAt: number | null;
}

export type AccountNotice = 'revoked' | 'password_changed';
export type PasswordProblem = 'wrong_password' | 'mismatch' | 'length';

export interface AccountPageInput {
  csrfToken: string;
  username: string;
  apps: AuthorizedAppView[];
  notice?: AccountNotice | undefined;
  passwordProblem?: PasswordProblem | undefined;
}

const notices: Record<AccountNotice, MessageKey> = { revoked: 'account.revoked', password_changed: 'account.passwordChanged' };
const problems: Record<PasswordProblem, MessageKey> = {
  wrong_password: 'account.wrongPassword',
  mismatch: 'account.passwordMismatch',
  length: 'account.passwordLength',
};

/** "Authorized apps" with a Revoke button each, a change-password form, and sign out. */
export function accountPage(input: AccountPageInput, page: PageContext = defaultPageContext): string {
  const { locale } = page;
  const csrf = html`<input type="hidden" name="_csrf" value="${input.csrfToken}">`;
  const when = (epochMs: number) => html`<time datetime="${new Date(epochMs).toISOString()}">${formatDate(locale, epochMs)}</time>`;
  return layout(
    t(locale, 'account.title'),
    html`<h1>${t(locale, 'account.title')}</h1>
<div class="account-head">
<p>${t(locale, 'common.signedInAs', { username: input.username })}</p>
<form method="post" action="/logout">${csrf}<button type="submit" class="secondary">${t(locale, 'common.signOut')}</button></form>
</div>
${input.notice !== undefined && html`<p class="notice" role="status">${t(locale, notices[input.notice])}</p>`}
<section aria-labelledby="apps-heading">
<h2 id="apps-heading">${t(locale, 'account.appsHeading')}</h2>
${
  input.apps.length === 0
    ? html`<p>${t(locale, 'account.noApps')}</p>`
    : html`<p class="muted">${t(locale, 'account.appsIntro')}</p>
<ul class="apps">
${input.apps.map(
  (app, index) => html`<li>
<h3 id="app-${index}">${app.clientName}</h3>
<p class="muted">${t(locale, 'account.allowedTo')}</p>
<ul class="scopes">${app.scopes.map((scope) => html`<li>${scope.description} <span class="muted">(${scope.name})</span></li>`)}</ul>
<p class="muted">${app.lastUsedAt === null ? t(locale, 'account.neverUsed') : t(locale, 'account.lastUsed', { date: when(app.lastUsedAt) })} · ${t(locale, 'account.allowedOn', { date: when(app.allowedAt) })}</p>
<form method="post" action="/account/revoke">${csrf}
<input type="hidden" name="client_id" value="${app.clientId}">
<button type="submit" class="danger" aria-describedby="app-${index}">${t(locale, 'account.revoke')}</button>
</form>
</li>
`,
)}</ul>`
}
</section>
<section aria-labelledby="password-heading">
<h2 id="password-heading">${t(locale, 'account.passwordHeading')}</h2>
${input.passwordProblem !== undefined && html`<p class="error" role="alert">${t(locale, problems[input.passwordProblem])}</p>`}
<form method="post" action="/account/password">${csrf}
<label for="current-password">${t(locale, 'account.currentPassword')}</label>
<input type="password" id="current-password" name="current_password" autocomplete="current-password" required>
<label for="new-password">${t(locale, 'account.newPassword')}</label>
<input type="password" id="new-password" name="new_password" autocomplete="new-password" minlength="8" maxlength="1024" required aria-describedby="new-password-hint">
<p class="hint" id="new-password-hint">${t(locale, 'account.passwordHint')}</p>
<label for="confirm-password">${t(locale, 'account.confirmPassword')}</label>
<input type="password" id="confirm-password" name="confirm_password" autocomplete="new-password" minlength="8" maxlength="1024" required>
<button type="submit">${t(locale, 'account.changePassword')}</button>
</form>
</section>`,
    page,
    { wide: true },
  );
}
