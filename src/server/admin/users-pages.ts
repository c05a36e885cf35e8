import { formatScope } from '../../shared/scope.ts';
import type { AccountRecord } from '../../storage/storage.ts';
import { html, type Html } from '../pages/html.ts';
import { adminLayout, time, type AdminPageFrame } from './admin-layout.ts';
import type { AuthorizedApp } from './admin-users.ts';
import type { UserFormValues } from './console-forms.ts';

function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

function userPath(account: AccountRecord, rest = ''): string {
  return `/admin/users/${encodeURIComponent(account.id)}${rest}`;
}

function status(account: AccountRecord): Html {
  return html`${account.disabledAt === null ? html`<span class="badge on">active</span>` : html`<span class="badge off">disabled</span>`}${
    account.isAdmin ? html` <span class="badge">administrator</span>` : ''
  }`;
}

export function userListPage(frame: AdminPageFrame, accounts: AccountRecord[]): string {
  return adminLayout(
    frame,
    html`<h1>Users</h1>
<p><a href="/admin/users/new">Create a user</a></p>
${
  accounts.length === 0
    ? html`<p>No users yet.</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Username</th><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead>
<tbody>
${accounts.map(
  (account) => html`<tr><td><a href="${userPath(account)}">${account.username}</a></td><td>${account.name ?? ''}</td><td>${account.email ?? ''}</td><td>${status(account)}</td><td>${time(account.createdAt)}</td></tr>
`,
)}</tbody>
</table></div>`
}`,
  );
}

export function newUserPage(frame: AdminPageFrame, values: UserFormValues): string {
  return adminLayout(
    frame,
    html`<h1>Create a user</h1>
<section class="panel">
<form method="post" action="/admin/users">
${csrfField(frame.csrfToken)}
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${values.username}" maxlength="64" autocomplete="off" autocapitalize="none" spellcheck="false" required>
<p class="hint">1–64 letters, digits or . _ @ + - (no spaces). What the user types to sign in.</p>
<label for="password">Password</label>
<input type="password" id="password" name="password" minlength="8" maxlength="1024" autocomplete="new-password" required>
<p class="hint">At least 8 characters. Give it to the user by a safe channel.</p>
<label for="name">Full name (optional)</label>
<input type="text" id="name" name="name" value="${values.name}" maxlength="200">
<label for="email">Email (optional)</label>
<input type="email" id="email" name="email" value="${values.email}" maxlength="320">
<fieldset><legend>Role</legend>
<label><input type="checkbox" name="admin" value="yes"${values.admin ? html` checked` : ''}> Administrator (may use this console)</label>
</fieldset>
<div class="actions"><button type="submit">Create user</button> <a href="/admin/users">Cancel</a></div>
</form>
</section>`,
  );
}

export function userPage(frame: AdminPageFrame, account: AccountRecord, apps: AuthorizedApp[], isSelf: boolean): string {
  return adminLayout(
    frame,
    html`<h1>${account.username}</h1>
<section class="panel">
<dl class="facts">
<dt>Subject (sub)</dt><dd><code>${account.id}</code></dd>
<dt>Name</dt><dd>${account.name ?? html`<span class="muted">none</span>`}</dd>
<dt>Email</dt><dd>${account.email ?? html`<span class="muted">none</span>`}</dd>
<dt>Status</dt><dd>${status(account)}${account.disabledAt !== null && html` since ${time(account.disabledAt)}`}</dd>
<dt>Created</dt><dd>${time(account.createdAt)}</dd>
</dl>
</section>
<section class="panel">
<h2>Authorized apps</h2>
${
  apps.length === 0
    ? html`<p>This user has not authorized any app.</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">App</th><th scope="col">Scopes granted</th><th scope="col">First allowed</th><th scope="col">Last used</th></tr></thead>
<tbody>
${apps.map(
  ({ grant, client }) => html`<tr><td>${client === undefined ? html`<code>${grant.clientId}</code>` : html`<a href="/admin/clients/${encodeURIComponent(client.id)}">${client.name}</a>`}</td><td>${formatScope(grant.scopes)}</td><td>${time(grant.createdAt)}</td><td>${time(grant.lastUsedAt)}</td></tr>
`,
)}</tbody>
</table></div>`
}
</section>
<section class="panel">
<h2>Reset password</h2>
<p>Sets a new password and signs the user out of every browser. Apps the user allowed keep their access.</p>
<form method="post" action="${userPath(account, '/reset-password')}">
${csrfField(frame.csrfToken)}
<label for="new_password">New password</label>
<input type="password" id="new_password" name="password" minlength="8" maxlength="1024" autocomplete="new-password" required>
<div class="actions"><button type="submit" class="secondary">Set password</button></div>
</form>
</section>
${
  isSelf
    ? html`<section class="panel"><h2>Access</h2><p class="muted">This is your own account: another administrator can disable it, change its role or delete it.</p></section>`
    : html`<section class="panel">
<h2>Access</h2>
${
  account.disabledAt === null
    ? html`<p>Disabling signs the user out everywhere, revokes every token their apps hold, and stops them from signing in.</p>
<form method="post" action="${userPath(account, '/disable')}">${csrfField(frame.csrfToken)}<button type="submit" class="danger">Disable user</button></form>`
    : html`<p>The user cannot sign in.</p>
<form method="post" action="${userPath(account, '/enable')}">${csrfField(frame.csrfToken)}<button type="submit">Enable user</button></form>`
}
<h2>Role</h2>
<form method="post" action="${userPath(account, '/admin')}">
${csrfField(frame.csrfToken)}
<input type="hidden" name="admin" value="${account.isAdmin ? 'no' : 'yes'}">
<p>${account.isAdmin ? 'This user is an administrator.' : 'This user is not an administrator.'}</p>
<button type="submit" class="secondary">${account.isAdmin ? 'Remove administrator role' : 'Make administrator'}</button>
</form>
<h2>Delete</h2>
<p>Deletes the account with its sessions, consents and tokens.</p>
<form method="post" action="${userPath(account, '/delete')}">
${csrfField(frame.csrfToken)}
<label><input type="checkbox" name="confirm" value="yes" required> Yes, delete ${account.username}</label>
<div class="actions"><button type="submit" class="danger">Delete user</button></div>
</form>
</section>`
}`,
  );
}
