import { OAuthError } from '../../shared/oauth-error.ts';
import type { AccessTokenFormat, ClientRecord, ClientType, ConsentPolicy, TokenEndpointAuthMethod } from '../../storage/storage.ts';
import type { NewAccount } from '../accounts/create-account.ts';
import type { ClientRegistration } from '../clients/register-client.ts';
import { optionalParam, type Params } from '../http/params.ts';

/*
 * The console's forms: what was typed (kept as typed, to show it again next to an error), and
 * what it means (checked, naming the field as its label does).
 */

/** The client form as typed. */
export interface ClientFormValues {
  name: string;
  type: ClientType;
  /** One per line. */
  redirectUris: string;
  scopes: string[];
  grantTypes: string[];
  accessTokenTtl: string;
  refreshTokenTtl: string;
  accessTokenFormat: string;
  /** One per line. */
  resources: string;
  /** Empty: the default for the client type. */
  tokenEndpointAuthMethod: string;
  /** Empty: the default for the client type. */
  consentPolicy: string;
  canIntrospect: boolean;
  /** One per line. */
  servedResources: string;
}

export const newClientDefaults: ClientFormValues = {
  name: '',
  type: 'confidential',
  redirectUris: '',
  scopes: ['openid', 'profile'],
  grantTypes: ['authorization_code', 'refresh_token'],
  accessTokenTtl: '',
  refreshTokenTtl: '',
  accessTokenFormat: 'opaque',
  resources: '',
  tokenEndpointAuthMethod: '',
  consentPolicy: '',
  canIntrospect: false,
  servedResources: '',
};

export function clientFormValues(client: ClientRecord): ClientFormValues {
  return {
    name: client.name,
    type: client.type,
    redirectUris: client.redirectUris.join('\n'),
    scopes: client.scopes,
    grantTypes: client.grantTypes,
    accessTokenTtl: client.accessTokenTtlSeconds === null ? '' : String(client.accessTokenTtlSeconds),
    refreshTokenTtl: client.refreshTokenTtlSeconds === null ? '' : String(client.refreshTokenTtlSeconds),
    accessTokenFormat: client.accessTokenFormat,
    resources: client.resources.join('\n'),
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
    consentPolicy: client.consentPolicy,
    canIntrospect: client.canIntrospect,
    servedResources: client.servedResources.join('\n'),
  };
}

/** Checkbox groups: every ticked value, each short. */
function ticked(params: Params, name: string): string[] {
  const values = params.get(name) ?? [];
  if (values.length > 100 || values.some((value) => value.length > 200)) throw new OAuthError('invalid_request', `"${name}" has too many or too long values`);
  return [...new Set(values)];
}

export function readClientForm(params: Params): ClientFormValues {
  const type = optionalParam(params, 'client_type', 20) ?? 'confidential';
  if (type !== 'confidential' && type !== 'public') throw new OAuthError('invalid_request', 'client type must be confidential or public');
  return {
    name: optionalParam(params, 'client_name', 1000) ?? '',
    type,
    redirectUris: optionalParam(params, 'redirect_uris', 50_000) ?? '',
    scopes: ticked(params, 'scope'),
    grantTypes: ticked(params, 'grant_type'),
    accessTokenTtl: optionalParam(params, 'access_token_ttl', 20) ?? '',
    refreshTokenTtl: optionalParam(params, 'refresh_token_ttl', 20) ?? '',
    accessTokenFormat: optionalParam(params, 'access_token_format', 20) ?? 'opaque',
    resources: optionalParam(params, 'resources', 50_000) ?? '',
    tokenEndpointAuthMethod: optionalParam(params, 'token_endpoint_auth_method', 40) ?? '',
    consentPolicy: optionalParam(params, 'consent_policy', 20) ?? '',
    canIntrospect: optionalParam(params, 'can_introspect', 10) === 'yes',
    servedResources: optionalParam(params, 'served_resources', 50_000) ?? '',
  };
}

function lines(text: string, what: string): string[] {
  const values = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (values.length > 50) throw new OAuthError('invalid_request', `${what}: at most 50, one per line`);
  return values;
}

function lifetime(text: string, what: string): number | null {
  if (text.trim() === '') return null;
  if (!/^\d{1,10}$/.test(text.trim())) throw new OAuthError('invalid_request', `${what} must be a whole number of seconds, or empty for the server default`);
  return Number(text.trim());
}

/** What the client form means; the registration checks (redirect URIs, scopes …) come after. */
export function clientRegistrationFrom(values: ClientFormValues): ClientRegistration {
  if (values.accessTokenFormat !== 'opaque' && values.accessTokenFormat !== 'jwt') {
    throw new OAuthError('invalid_request', 'access token format must be opaque or jwt');
  }
  return {
    name: values.name,
    type: values.type,
    redirectUris: lines(values.redirectUris, 'redirect URIs'),
    scopes: values.scopes,
    grantTypes: values.grantTypes,
    accessTokenTtlSeconds: lifetime(values.accessTokenTtl, 'access token lifetime'),
    refreshTokenTtlSeconds: lifetime(values.refreshTokenTtl, 'refresh token lifetime'),
    accessTokenFormat: values.accessTokenFormat as AccessTokenFormat,
    resources: lines(values.resources, 'resources'),
    // What the form left empty takes the default for the client type (register-client.ts).
    ...(values.tokenEndpointAuthMethod === '' ? {} : { tokenEndpointAuthMethod: values.tokenEndpointAuthMethod as TokenEndpointAuthMethod }),
    ...(values.consentPolicy === '' ? {} : { consentPolicy: values.consentPolicy as ConsentPolicy }),
    canIntrospect: values.canIntrospect,
    servedResources: lines(values.servedResources, 'served resources'),
  };
}

/** The new-user form as typed (never the password). */
export interface UserFormValues {
  username: string;
  name: string;
  email: string;
  admin: boolean;
}

export const newUserDefaults: UserFormValues = { username: '', name: '', email: '', admin: false };

export function readUserForm(params: Params): { values: UserFormValues; password: string } {
  return {
    values: {
      username: optionalParam(params, 'username', 200) ?? '',
      name: optionalParam(params, 'name', 200) ?? '',
      email: optionalParam(params, 'email', 320) ?? '',
      admin: optionalParam(params, 'admin', 10) === 'yes',
    },
    password: optionalParam(params, 'password', 1024) ?? '',
  };
}

export function newAccountFrom(values: UserFormValues, password: string): NewAccount {
  return {
    username: values.username.trim(),
    password,
    name: values.name.trim() === '' ? null : values.name.trim(),
    email: values.email.trim() === '' ? null : values.email.trim(),
    isAdmin: values.admin,
  };
}

/** Destructive buttons come with a "yes, I mean it" box (no script, so no confirm dialog). */
export function requireConfirmation(params: Params, what: string): void {
  if (optionalParam(params, 'confirm', 10) !== 'yes') {
    throw new OAuthError('invalid_request', `tick the box to confirm that you want to ${what}`);
  }
}
