import { formatScope } from '../../shared/scope.ts';
import type { AccountRecord } from '../../storage/storage.ts';
import type { Locale } from '../i18n/locales.ts';
import { t } from '../i18n/translate.ts';
import { html, type Html } from '../pages/html.ts';
import { adminLayout, time, type AdminPageFrame } from '../admin/admin-layout.ts';
import type { AuthorizedApp } from './admin-users.ts';
import type { UserFormValues } from '../admin/console-forms.ts';

function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

function userPath(account: AccountRecord, rest = ''): string {
  return `/admin/users/${encodeURIComponent(account.id)}${rest}`;
}

function status(l: Locale, account: AccountRecord): Html {
  return html`${account.disabledAt === null ? html`<span class="badge on">${t(l, 'admin.users.active')}</span>` : html`<span class="badge off">${t(l, 'admin.users.disabled')}</span>`}${
    account.isAdmin ? html` <span class="badge">${t(l, 'admin.users.administrator')}</span>` : ''
  }`;
}

export function userListPage(frame: AdminPageFrame, accounts: AccountRecord[]): string {
  const l = frame.locale;
  return adminLayout(
    frame,
    html`<h1>${t(l, 'admin.users.title')}</h1>
<p><a href="/admin/users/new">${t(l, 'admin.users.create')}</a></p>
${
  accounts.length === 0
    ? html`<p>${t(l, 'admin.users.none')}</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${t(l, 'admin.users.username')}</th><th scope="col">${t(l, 'admin.users.name')}</th><th scope="col">${t(l, 'admin.users.email')}</th><th scope="col">${t(l, 'admin.users.status')}</th><th scope="col">${t(l, 'admin.users.created')}</th></tr></thead>
<tbody>
${accounts.map(
  (account) => html`<tr><td><a href="${userPath(account)}">${account.username}</a></td><td>${account.name ?? ''}</td><td>${account.email ?? ''}</td><td>${status(l, account)}</td><td>${time(l, account.createdAt)}</td></tr>
`,
)}</tbody>
</table></div>`
}`,
  );
}

export function newUserPage(frame: AdminPageFrame, values: UserFormValues): string {
  const l = frame.locale;
  return adminLayout(
    frame,
    html`<h1>${t(l, 'admin.users.create')}</h1>
<section class="panel">
<form method="post" action="/admin/users">
${csrfField(frame.csrfToken)}
<label for="username">${t(l, 'admin.users.username')}</label>
<input type="text" id="username" name="username" value="${values.username}" maxlength="64" autocomplete="off" autocapitalize="none" spellcheck="false" required>
<p class="hint">${t(l, 'admin.users.usernameHint')}</p>
<label for="password">${t(l, 'admin.users.password')}</label>
<input type="password" id="password" name="password" minlength="8" maxlength="1024" autocomplete="new-password" required>
<p class="hint">${t(l, 'admin.users.passwordHint')}</p>
<label for="name">${t(l, 'admin.users.fullName')}</label>
<input type="text" id="name" name="name" value="${values.name}" maxlength="200">
<label for="email">${t(l, 'admin.users.emailOptional')}</label>
<input type="email" id="email" name="email" value="${values.email}" maxlength="320">
<fieldset><legend>${t(l, 'admin.users.role')}</legend>
<label><input type="checkbox" name="admin" value="yes"${values.admin ? html` checked` : ''}> ${t(l, 'admin.users.adminBox')}</label>
</fieldset>
<div class="actions"><button type="submit">${t(l, 'admin.users.createButton')}</button> <a href="/admin/users">${t(l, 'admin.cancel')}</a></div>
</form>
</section>`,
  );
}

export function userPage(frame: AdminPageFrame, account: AccountRecord, apps: AuthorizedApp[], isSelf: boolean): string {
  const l = frame.locale;
  return adminLayout(
    frame,
    html`<h1>${account.username}</h1>
<section class="panel">
<dl class="facts">
<dt>${t(l, 'admin.users.subject')}</dt><dd><code>${account.id}</code></dd>
<dt>${t(l, 'admin.users.name')}</dt><dd>${account.name ?? html`<span class="muted">${t(l, 'admin.none')}</span>`}</dd>
<dt>${t(l, 'admin.users.email')}</dt><dd>${account.email ?? html`<span class="muted">${t(l, 'admin.none')}</span>`}</dd>
<dt>${t(l, 'admin.users.status')}</dt><dd>${status(l, account)}${account.disabledAt !== null && html` ${t(l, 'admin.users.since', { date: time(l, account.disabledAt) })}`}</dd>
<dt>${t(l, 'admin.users.created')}</dt><dd>${time(l, account.createdAt)}</dd>
</dl>
</section>
<section class="panel">
<h2>${t(l, 'admin.users.apps')}</h2>
${
  apps.length === 0
    ? html`<p>${t(l, 'admin.users.noApps')}</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${t(l, 'admin.users.app')}</th><th scope="col">${t(l, 'admin.users.scopesGranted')}</th><th scope="col">${t(l, 'admin.users.firstAllowed')}</th><th scope="col">${t(l, 'admin.users.lastUsed')}</th></tr></thead>
<tbody>
${apps.map(
  ({ grant, client }) => html`<tr><td>${client === undefined ? html`<code>${grant.clientId}</code>` : html`<a href="/admin/clients/${encodeURIComponent(client.id)}">${client.name}</a>`}</td><td>${formatScope(grant.scopes)}</td><td>${time(l, grant.createdAt)}</td><td>${time(l, grant.lastUsedAt)}</td></tr>
`,
)}</tbody>
</table></div>`
}
</section>
<section class="panel">
<h2>${t(l, 'admin.users.resetPassword')}</h2>
<p>${t(l, 'admin.users.resetIntro')}</p>
<form method="post" action="${userPath(account, '/reset-password')}">
${csrfField(frame.csrfToken)}
<label for="new_password">${t(l, 'admin.users.newPassword')}</label>
<input type="password" id="new_password" name="password" minlength="8" maxlength="1024" autocomplete="new-password" required>
<div class="actions"><button type="submit" class="secondary">${t(l, 'admin.users.setPassword')}</button></div>
</form>
</section>
${
  isSelf
    ? html`<section class="panel"><h2>${t(l, 'admin.users.access')}</h2><p class="muted">${t(l, 'admin.users.self')}</p></section>`
    : html`<section class="panel">
<h2>${t(l, 'admin.users.access')}</h2>
${
  account.disabledAt === null
    ? html`<p>${t(l, 'admin.users.disableIntro')}</p>
<form method="post" action="${userPath(account, '/disable')}">${csrfField(frame.csrfToken)}<button type="submit" class="danger">${t(l, 'admin.users.disable')}</button></form>`
    : html`<p>${t(l, 'admin.users.cannotSignIn')}</p>
<form method="post" action="${userPath(account, '/enable')}">${csrfField(frame.csrfToken)}<button type="submit">${t(l, 'admin.users.enable')}</button></form>`
}
<h2>${t(l, 'admin.users.role')}</h2>
<form method="post" action="${userPath(account, '/admin')}">
${csrfField(frame.csrfToken)}
<input type="hidden" name="admin" value="${account.isAdmin ? 'no' : 'yes'}">
<p>${t(l, account.isAdmin ? 'admin.users.isAdmin' : 'admin.users.notAdmin')}</p>
<button type="submit" class="secondary">${t(l, account.isAdmin ? 'admin.users.removeAdmin' : 'admin.users.makeAdmin')}</button>
</form>
<h2>${t(l, 'admin.delete')}</h2>
<p>${t(l, 'admin.users.deleteIntro')}</p>
<form method="post" action="${userPath(account, '/delete')}">
${csrfField(frame.csrfToken)}
<label><input type="checkbox" name="confirm" value="yes" required> ${t(l, 'admin.users.confirmDelete', { name: account.username })}</label>
<div class="actions"><button type="submit" class="danger">${t(l, 'admin.users.deleteButton')}</button></div>
</form>
</section>`
}`,
  );
}
