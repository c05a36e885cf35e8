import { formatScope } from '../../shared/scope.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import { supportedGrantTypes } from '../clients/register-client.ts';
import { html, type Html } from '../pages/html.ts';
import { adminLayout, time, type AdminPageFrame } from './admin-layout.ts';
import type { ClientFormValues } from './console-forms.ts';

export interface ScopeChoice {
  name: string;
  description: string;
}

const grantTypeLabels: Record<(typeof supportedGrantTypes)[number], string> = {
  authorization_code: 'Authorization code (users sign in through the browser)',
  refresh_token: 'Refresh token (keep access without asking again)',
  client_credentials: 'Client credentials (the client acts for itself; needed for the admin scope)',
};

function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

function clientPath(client: ClientRecord, rest = ''): string {
  return `/admin/clients/${encodeURIComponent(client.id)}${rest}`;
}

export function clientListPage(frame: AdminPageFrame, clients: ClientRecord[]): string {
  return adminLayout(
    frame,
    html`<h1>Clients</h1>
<p><a href="/admin/clients/new">Register a client</a></p>
${
  clients.length === 0
    ? html`<p>No clients yet.</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Name</th><th scope="col">Client ID</th><th scope="col">Type</th><th scope="col">Scopes</th><th scope="col">Registered</th></tr></thead>
<tbody>
${clients.map(
  (client) => html`<tr><td><a href="${clientPath(client)}">${client.name}</a></td><td><code>${client.id}</code></td><td>${client.type}</td><td>${formatScope(client.scopes)}</td><td>${time(client.createdAt)}</td></tr>
`,
)}</tbody>
</table></div>`
}`,
  );
}

/** The registration fields shared by the new-client and edit forms. */
function clientFields(values: ClientFormValues, scopes: ScopeChoice[], isNew: boolean, defaults: { accessTtl: number; refreshTtl: number }): Html {
  return html`<label for="client_name">Client name</label>
<input type="text" id="client_name" name="client_name" value="${values.name}" maxlength="200" required>
<p class="hint">Shown to users on the consent page.</p>
${
  isNew &&
  html`<fieldset><legend>Type</legend>
<label><input type="radio" name="client_type" value="confidential"${values.type === 'confidential' ? html` checked` : ''}> Confidential: a server-side app that can keep a secret</label>
<label><input type="radio" name="client_type" value="public"${values.type === 'public' ? html` checked` : ''}> Public: a native or browser app (no secret, PKCE required)</label>
</fieldset>`
}
<label for="redirect_uris">Redirect URIs</label>
<textarea id="redirect_uris" name="redirect_uris" rows="3" aria-describedby="redirect_uris_hint">${values.redirectUris}</textarea>
<p class="hint" id="redirect_uris_hint">One per line, matched exactly. https, or http on 127.0.0.1 / localhost.</p>
<fieldset><legend>Scopes the client may request</legend>
${scopes.map(
  (scope) => html`<label><input type="checkbox" name="scope" value="${scope.name}"${values.scopes.includes(scope.name) ? html` checked` : ''}> <code>${scope.name}</code> <span class="muted">${scope.description}</span></label>
`,
)}</fieldset>
<fieldset><legend>Grant types</legend>
${supportedGrantTypes.map(
  (grantType) => html`<label><input type="checkbox" name="grant_type" value="${grantType}"${values.grantTypes.includes(grantType) ? html` checked` : ''}> <code>${grantType}</code> <span class="muted">${grantTypeLabels[grantType]}</span></label>
`,
)}</fieldset>
<label for="access_token_ttl">Access token lifetime (seconds)</label>
<input type="number" id="access_token_ttl" name="access_token_ttl" min="1" value="${values.accessTokenTtl}" placeholder="${defaults.accessTtl}">
<p class="hint">Empty: the server default, ${defaults.accessTtl} seconds.</p>
<label for="refresh_token_ttl">Refresh token lifetime (seconds)</label>
<input type="number" id="refresh_token_ttl" name="refresh_token_ttl" min="1" value="${values.refreshTokenTtl}" placeholder="${defaults.refreshTtl}">
<p class="hint">Empty: the server default, ${defaults.refreshTtl} seconds.</p>
<label for="access_token_format">Access token format</label>
<select id="access_token_format" name="access_token_format">
<option value="opaque"${values.accessTokenFormat === 'opaque' ? html` selected` : ''}>Opaque (checked by introspection)</option>
<option value="jwt"${values.accessTokenFormat === 'jwt' ? html` selected` : ''}>JWT (RFC 9068, checked with /jwks)</option>
</select>
<label for="resources">Resources (RFC 8707)</label>
<textarea id="resources" name="resources" rows="2" aria-describedby="resources_hint">${values.resources}</textarea>
<p class="hint" id="resources_hint">APIs the client may ask tokens for, one absolute URI per line. Usually empty.</p>`;
}

export interface ClientFormPageInput {
  values: ClientFormValues;
  scopes: ScopeChoice[];
  defaults: { accessTtl: number; refreshTtl: number };
}

export function newClientPage(frame: AdminPageFrame, input: ClientFormPageInput): string {
  return adminLayout(
    frame,
    html`<h1>Register a client</h1>
<section class="panel">
<form method="post" action="/admin/clients">
${csrfField(frame.csrfToken)}
${clientFields(input.values, input.scopes, true, input.defaults)}
<div class="actions"><button type="submit">Register</button> <a href="/admin/clients">Cancel</a></div>
</form>
</section>`,
  );
}

export function clientPage(frame: AdminPageFrame, client: ClientRecord, input: ClientFormPageInput): string {
  return adminLayout(
    frame,
    html`<h1>${client.name}</h1>
<section class="panel">
<dl class="facts">
<dt>Client ID</dt><dd><code>${client.id}</code></dd>
<dt>Type</dt><dd>${client.type}${client.type === 'confidential' ? ' (authenticates with client_secret_basic or client_secret_post)' : ' (no secret; PKCE required)'}</dd>
<dt>Registered</dt><dd>${time(client.createdAt)}</dd>
</dl>
</section>
<section class="panel">
<h2>Registration</h2>
<form method="post" action="${clientPath(client)}">
${csrfField(frame.csrfToken)}
${clientFields(input.values, input.scopes, false, input.defaults)}
<div class="actions"><button type="submit">Save changes</button></div>
</form>
</section>
${
  client.type === 'confidential' &&
  html`<section class="panel">
<h2>Client secret</h2>
<p>Secrets are stored only as hashes and cannot be shown again. A new secret replaces the current one at once: the app must be given the new one.</p>
<form method="post" action="${clientPath(client, '/rotate-secret')}">
${csrfField(frame.csrfToken)}
<button type="submit" class="secondary">Issue a new secret</button>
</form>
</section>`
}
<section class="panel">
<h2>Delete</h2>
<p>Deleting the client revokes every token it holds and forgets every user's consent to it.</p>
<form method="post" action="${clientPath(client, '/delete')}">
${csrfField(frame.csrfToken)}
<label><input type="checkbox" name="confirm" value="yes" required> Yes, delete ${client.name}</label>
<div class="actions"><button type="submit" class="danger">Delete client</button></div>
</form>
</section>`,
  );
}

/**
 * The one page that shows a client secret: right after registration or rotation. `secret` is
 * undefined when it has been shown already (a reload, or a back button).
 */
export function clientSecretPage(frame: AdminPageFrame, client: ClientRecord, secret: string | undefined): string {
  return adminLayout(
    frame,
    html`<h1>${client.name}</h1>
<section class="panel">
<dl class="facts">
<dt>Client ID</dt><dd><code id="client-id">${client.id}</code></dd>
</dl>
${
  secret === undefined
    ? html`<p class="error" role="alert">The secret was shown once and is no longer available. If it was not stored, issue a new one.</p>`
    : html`<div class="secret">
<p><strong>Client secret</strong> (shown only this once — store it now; Gatehouse keeps only a hash):</p>
<p><code id="client-secret">${secret}</code></p>
</div>`
}
<div class="actions"><a href="${clientPath(client)}">Continue to the client</a></div>
</section>`,
  );
}
