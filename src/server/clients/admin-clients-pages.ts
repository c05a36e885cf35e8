import { formatScope } from '../../shared/scope.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import { supportedGrantTypes } from './register-client.ts';
import type { Locale } from '../i18n/locales.ts';
import { t } from '../i18n/translate.ts';
import { html, type Html } from '../pages/html.ts';
import { adminLayout, time, type AdminPageFrame } from '../admin/admin-layout.ts';
import type { ClientFormValues } from '../admin/console-forms.ts';

const authMethodChoices = [
  ['client_secret_basic', 'admin.clients.authMethodBasic'],
  ['client_secret_post', 'admin.clients.authMethodPost'],
  ['none', 'admin.clients.authMethodNone'],
] as const;

export interface ScopeChoice {
  name: string;
  description: string | Html;
}

function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

function clientPath(client: ClientRecord, rest = ''): string {
  return `/admin/clients/${encodeURIComponent(client.id)}${rest}`;
}

export function clientListPage(frame: AdminPageFrame, clients: ClientRecord[]): string {
  const l = frame.locale;
  return adminLayout(
    frame,
    html`<h1>${t(l, 'admin.clients.title')}</h1>
<p><a href="/admin/clients/new">${t(l, 'admin.clients.register')}</a></p>
${
  clients.length === 0
    ? html`<p>${t(l, 'admin.clients.none')}</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${t(l, 'admin.clients.name')}</th><th scope="col">${t(l, 'admin.clients.id')}</th><th scope="col">${t(l, 'admin.clients.type')}</th><th scope="col">${t(l, 'admin.clients.scopes')}</th><th scope="col">${t(l, 'admin.clients.registered')}</th></tr></thead>
<tbody>
${clients.map(
  (client) => html`<tr><td><a href="${clientPath(client)}">${client.name}</a></td><td><code>${client.id}</code></td><td>${client.type}</td><td>${formatScope(client.scopes)}</td><td>${time(l, client.createdAt)}</td></tr>
`,
)}</tbody>
</table></div>`
}`,
  );
}

/** The registration fields shared by the new-client and edit forms. */
function clientFields(l: Locale, values: ClientFormValues, scopes: ScopeChoice[], isNew: boolean, defaults: { accessTtl: number; refreshTtl: number }): Html {
  return html`<label for="client_name">${t(l, 'admin.clients.clientName')}</label>
<input type="text" id="client_name" name="client_name" value="${values.name}" maxlength="200" required>
<p class="hint">${t(l, 'admin.clients.clientNameHint')}</p>
${
  isNew &&
  html`<fieldset><legend>${t(l, 'admin.clients.type')}</legend>
<label><input type="radio" name="client_type" value="confidential"${values.type === 'confidential' ? html` checked` : ''}> ${t(l, 'admin.clients.confidential')}</label>
<label><input type="radio" name="client_type" value="public"${values.type === 'public' ? html` checked` : ''}> ${t(l, 'admin.clients.public')}</label>
</fieldset>`
}
<label for="redirect_uris">${t(l, 'admin.clients.redirectUris')}</label>
<textarea id="redirect_uris" name="redirect_uris" rows="3" aria-describedby="redirect_uris_hint">${values.redirectUris}</textarea>
<p class="hint" id="redirect_uris_hint">${t(l, 'admin.clients.redirectUrisHint')}</p>
<fieldset><legend>${t(l, 'admin.clients.scopesLegend')}</legend>
${scopes.map(
  (scope) => html`<label><input type="checkbox" name="scope" value="${scope.name}"${values.scopes.includes(scope.name) ? html` checked` : ''}> <code>${scope.name}</code> <span class="muted">${scope.description}</span></label>
`,
)}</fieldset>
<fieldset><legend>${t(l, 'admin.clients.grantTypes')}</legend>
${supportedGrantTypes.map(
  (grantType) => html`<label><input type="checkbox" name="grant_type" value="${grantType}"${values.grantTypes.includes(grantType) ? html` checked` : ''}> <code>${grantType}</code> <span class="muted">${t(l, `admin.clients.grant.${grantType}`)}</span></label>
`,
)}</fieldset>
<label for="access_token_ttl">${t(l, 'admin.clients.accessTtl')}</label>
<input type="number" id="access_token_ttl" name="access_token_ttl" min="1" value="${values.accessTokenTtl}" placeholder="${defaults.accessTtl}">
<p class="hint">${t(l, 'admin.clients.ttlHint', { seconds: defaults.accessTtl })}</p>
<label for="refresh_token_ttl">${t(l, 'admin.clients.refreshTtl')}</label>
<input type="number" id="refresh_token_ttl" name="refresh_token_ttl" min="1" value="${values.refreshTokenTtl}" placeholder="${defaults.refreshTtl}">
<p class="hint">${t(l, 'admin.clients.ttlHint', { seconds: defaults.refreshTtl })}</p>
<label for="access_token_format">${t(l, 'admin.clients.format')}</label>
<select id="access_token_format" name="access_token_format">
<option value="opaque"${values.accessTokenFormat === 'opaque' ? html` selected` : ''}>${t(l, 'admin.clients.formatOpaque')}</option>
<option value="jwt"${values.accessTokenFormat === 'jwt' ? html` selected` : ''}>${t(l, 'admin.clients.formatJwt')}</option>
</select>
<label for="resources">${t(l, 'admin.clients.resources')}</label>
<textarea id="resources" name="resources" rows="2" aria-describedby="resources_hint">${values.resources}</textarea>
<p class="hint" id="resources_hint">${t(l, 'admin.clients.resourcesHint')}</p>
<label for="token_endpoint_auth_method">${t(l, 'admin.clients.authMethod')}</label>
<select id="token_endpoint_auth_method" name="token_endpoint_auth_method" aria-describedby="token_endpoint_auth_method_hint">
${isNew && html`<option value=""${values.tokenEndpointAuthMethod === '' ? html` selected` : ''}>${t(l, 'admin.clients.defaultForType')}</option>`}
${authMethodChoices.map(
  ([value, key]) => html`<option value="${value}"${values.tokenEndpointAuthMethod === value ? html` selected` : ''}>${t(l, key)}</option>
`,
)}</select>
<p class="hint" id="token_endpoint_auth_method_hint">${t(l, 'admin.clients.authMethodHint')}</p>
<label for="consent_policy">${t(l, 'admin.clients.consentPolicy')}</label>
<select id="consent_policy" name="consent_policy" aria-describedby="consent_policy_hint">
${isNew && html`<option value=""${values.consentPolicy === '' ? html` selected` : ''}>${t(l, 'admin.clients.defaultForType')}</option>`}
<option value="remember"${values.consentPolicy === 'remember' ? html` selected` : ''}>${t(l, 'admin.clients.consentRemember')}</option>
<option value="always_ask"${values.consentPolicy === 'always_ask' ? html` selected` : ''}>${t(l, 'admin.clients.consentAlwaysAsk')}</option>
</select>
<p class="hint" id="consent_policy_hint">${t(l, 'admin.clients.consentPolicyHint')}</p>
<label><input type="checkbox" name="can_introspect" value="yes"${values.canIntrospect ? html` checked` : ''}> ${t(l, 'admin.clients.canIntrospect')}</label>
<label for="served_resources">${t(l, 'admin.clients.servedResources')}</label>
<textarea id="served_resources" name="served_resources" rows="2" aria-describedby="served_resources_hint">${values.servedResources}</textarea>
<p class="hint" id="served_resources_hint">${t(l, 'admin.clients.servedResourcesHint')}</p>`;
}

export interface ClientFormPageInput {
  values: ClientFormValues;
  scopes: ScopeChoice[];
  defaults: { accessTtl: number; refreshTtl: number };
}

export function newClientPage(frame: AdminPageFrame, input: ClientFormPageInput): string {
  const l = frame.locale;
  return adminLayout(
    frame,
    html`<h1>${t(l, 'admin.clients.register')}</h1>
<section class="panel">
<form method="post" action="/admin/clients">
${csrfField(frame.csrfToken)}
${clientFields(l, input.values, input.scopes, true, input.defaults)}
<div class="actions"><button type="submit">${t(l, 'admin.clients.registerButton')}</button> <a href="/admin/clients">${t(l, 'admin.cancel')}</a></div>
</form>
</section>`,
  );
}

export function clientPage(frame: AdminPageFrame, client: ClientRecord, input: ClientFormPageInput): string {
  const l = frame.locale;
  return adminLayout(
    frame,
    html`<h1>${client.name}</h1>
<section class="panel">
<dl class="facts">
<dt>${t(l, 'admin.clients.id')}</dt><dd><code>${client.id}</code></dd>
<dt>${t(l, 'admin.clients.type')}</dt><dd>${client.type} ${client.type === 'confidential' ? t(l, 'admin.clients.typeConfidential') : t(l, 'admin.clients.typePublic')}</dd>
<dt>${t(l, 'admin.clients.registered')}</dt><dd>${time(l, client.createdAt)}</dd>
</dl>
</section>
<section class="panel">
<h2>${t(l, 'admin.clients.registration')}</h2>
<form method="post" action="${clientPath(client)}">
${csrfField(frame.csrfToken)}
${clientFields(l, input.values, input.scopes, false, input.defaults)}
<div class="actions"><button type="submit">${t(l, 'admin.clients.save')}</button></div>
</form>
</section>
${
  client.type === 'confidential' &&
  html`<section class="panel">
<h2>${t(l, 'admin.clients.secret')}</h2>
<p>${t(l, 'admin.clients.secretIntro')}</p>
<form method="post" action="${clientPath(client, '/rotate-secret')}">
${csrfField(frame.csrfToken)}
<button type="submit" class="secondary">${t(l, 'admin.clients.newSecret')}</button>
</form>
</section>`
}
<section class="panel">
<h2>${t(l, 'admin.delete')}</h2>
<p>${t(l, 'admin.clients.deleteIntro')}</p>
<form method="post" action="${clientPath(client, '/delete')}">
${csrfField(frame.csrfToken)}
<label><input type="checkbox" name="confirm" value="yes" required> ${t(l, 'admin.clients.confirmDelete', { name: client.name })}</label>
<div class="actions"><button type="submit" class="danger">${t(l, 'admin.clients.deleteButton')}</button></div>
</form>
</section>`,
  );
}

/**
 * The one page that shows a client secret: right after registration or rotation. `secret` is
 * undefined when it has been shown already (a reload, or a back button).
 */
export function clientSecretPage(frame: AdminPageFrame, client: ClientRecord, secret: string | undefined): string {
  const l = frame.locale;
  return adminLayout(
    frame,
    html`<h1>${client.name}</h1>
<section class="panel">
<dl class="facts">
<dt>${t(l, 'admin.clients.id')}</dt><dd><code id="client-id">${client.id}</code></dd>
</dl>
${
  secret === undefined
    ? html`<p class="error" role="alert">${t(l, 'admin.clients.secretGone')}</p>`
    : html`<div class="secret">
<p>${t(l, 'admin.clients.secretOnce')}</p>
<p><code id="client-secret">${secret}</code></p>
</div>`
}
<div class="actions"><a href="${clientPath(client)}">${t(l, 'admin.clients.continue')}</a></div>
</section>`,
  );
}
