import { OAuthError } from '../../shared/oauth-error.ts';
import type { AccessTokenFormat, ClientRecord, ClientType, ConsentPolicy, TokenEndpointAuthMethod } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { generateIdentifier, generateSecret, hashSecret } from '../keys/opaque-secret.ts';
import { validateRedirectUriForRegistration } from './redirect-uri.ts';

export interface ClientRegistration {
  name: string;
  redirectUris: string[];
  /** Public clients (native and browser apps) cannot keep a secret and must use PKCE. */
  type?: ClientType;
  /** Scopes the client may request; default `profile`. */
  scopes?: string[];
  accessTokenTtlSeconds?: number | null;
  refreshTokenTtlSeconds?: number | null;
  /** Default `authorization_code` + `refresh_token`. */
  grantTypes?: string[];
  /** Default `opaque`; `jwt` issues RFC 9068 access tokens. */
  accessTokenFormat?: AccessTokenFormat;
  /** Resource indicators (RFC 8707) the client may ask tokens for. */
  resources?: string[];
  /** RFC 7591 §2; default `client_secret_basic` for confidential clients, `none` for public ones. */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Default `always_ask` for public clients, `remember` for confidential ones (RFC 8252 §8.6). */
  consentPolicy?: ConsentPolicy;
  /** May introspect other clients' tokens (RFC 7662 §4); default false. */
  canIntrospect?: boolean;
  /** Resource identifiers (RFC 8707) this client serves as a resource server. */
  servedResources?: string[];
}

/** The client as stored, and its secret, which exists only in this value and is never shown again. */
export interface RegisteredClient {
  client: ClientRecord;
  clientSecret: string | null;
}

/** Grant types this server implements. */
export const supportedGrantTypes = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
const defaultGrantTypes = ['authorization_code', 'refresh_token'];

const maxLifetimeSeconds = 10 * 365 * 24 * 3600;

export async function registerClient(input: ClientRegistration, ctx: ServerContext): Promise<RegisteredClient> {
  const type = input.type ?? 'confidential';
  const name = checkName(input.name);
  const grantTypes = checkGrantTypes(input.grantTypes ?? defaultGrantTypes, type);
  // Only the authorization code grant redirects; a machine-only client needs no redirect URI.
  const redirectUris =
    grantTypes.includes('authorization_code') || input.redirectUris.length > 0 ? checkRedirectUris(input.redirectUris, type, ctx) : [];
  const scopes = input.scopes ?? ['profile'];
  ctx.scopes.requireKnown(scopes, 'scope');
  const clientSecret = type === 'confidential' ? generateSecret() : null;
  const client: ClientRecord = {
    id: generateIdentifier(),
    secretHash: clientSecret === null ? null : hashSecret(clientSecret),
    name,
    type,
    redirectUris,
    grantTypes,
    scopes: [...new Set(scopes)],
    accessTokenTtlSeconds: checkLifetime(input.accessTokenTtlSeconds, 'access token lifetime'),
    refreshTokenTtlSeconds: checkLifetime(input.refreshTokenTtlSeconds, 'refresh token lifetime'),
    accessTokenFormat: checkFormat(input.accessTokenFormat ?? 'opaque'),
    resources: checkResources(input.resources ?? [], 'resource'),
    tokenEndpointAuthMethod: checkAuthMethod(input.tokenEndpointAuthMethod ?? defaultAuthMethod(type), type),
    consentPolicy: checkConsentPolicy(input.consentPolicy ?? defaultConsentPolicy(type)),
    canIntrospect: checkCanIntrospect(input.canIntrospect ?? false, type),
    servedResources: checkResources(input.servedResources ?? [], 'served resource'),
    createdAt: ctx.clock.now(),
  };
  await ctx.storage.insertClient(client);
  return { client, clientSecret };
}

/** What an operator may change after registration: all but the ID, the type and the secret. */
export type ClientChanges = Partial<Omit<ClientRegistration, 'type'>>;

/**
 * Changes a client's registration, checked as at registration. Returns the client before and
 * after, so that callers can say what changed. Codes and tokens already issued are kept: a
 * narrowed registration applies to what is asked for next.
 */
export async function updateClientRegistration(
  clientId: string,
  changes: ClientChanges,
  ctx: ServerContext,
): Promise<{ before: ClientRecord; after: ClientRecord }> {
  const before = await ctx.storage.findClient(clientId);
  if (before === undefined) throw new OAuthError('not_found', `no client with ID "${clientId}"`);
  const grantTypes = checkGrantTypes(changes.grantTypes ?? before.grantTypes, before.type);
  const redirectUris = changes.redirectUris ?? before.redirectUris;
  const scopes = changes.scopes ?? before.scopes;
  ctx.scopes.requireKnown(scopes, 'scope');
  const after: ClientRecord = {
    ...before,
    name: changes.name === undefined ? before.name : checkName(changes.name),
    grantTypes,
    redirectUris: grantTypes.includes('authorization_code') || redirectUris.length > 0 ? checkRedirectUris(redirectUris, before.type, ctx) : [],
    scopes: [...new Set(scopes)],
    accessTokenTtlSeconds:
      changes.accessTokenTtlSeconds === undefined ? before.accessTokenTtlSeconds : checkLifetime(changes.accessTokenTtlSeconds, 'access token lifetime'),
    refreshTokenTtlSeconds:
      changes.refreshTokenTtlSeconds === undefined ? before.refreshTokenTtlSeconds : checkLifetime(changes.refreshTokenTtlSeconds, 'refresh token lifetime'),
    accessTokenFormat: checkFormat(changes.accessTokenFormat ?? before.accessTokenFormat),
    resources: checkResources(changes.resources ?? before.resources, 'resource'),
    tokenEndpointAuthMethod: checkAuthMethod(changes.tokenEndpointAuthMethod ?? before.tokenEndpointAuthMethod, before.type),
    consentPolicy: checkConsentPolicy(changes.consentPolicy ?? before.consentPolicy),
    canIntrospect: checkCanIntrospect(changes.canIntrospect ?? before.canIntrospect, before.type),
    servedResources: checkResources(changes.servedResources ?? before.servedResources, 'served resource'),
  };
  if (!(await ctx.storage.updateClient(after))) throw new OAuthError('not_found', `no client with ID "${clientId}"`);
  return { before, after };
}

/** Replaces a confidential client's secret; the old one stops working at once. */
export async function rotateClientSecret(clientId: string, ctx: ServerContext): Promise<string> {
  const client = await ctx.storage.findClient(clientId);
  if (client === undefined) throw new OAuthError('not_found', `no client with ID "${clientId}"`);
  if (client.type === 'public') {
    throw new OAuthError('invalid_client_metadata', `client "${clientId}" is public and has no secret`);
  }
  const clientSecret = generateSecret();
  await ctx.storage.updateClientSecret(clientId, hashSecret(clientSecret));
  return clientSecret;
}

function checkGrantTypes(grantTypes: string[], type: ClientType): string[] {
  for (const grantType of grantTypes) {
    if (!(supportedGrantTypes as readonly string[]).includes(grantType)) {
      throw new OAuthError('invalid_client_metadata', `grant type "${grantType}" is not supported; use ${supportedGrantTypes.join(', ')}`);
    }
  }
  if (grantTypes.length === 0) throw new OAuthError('invalid_client_metadata', 'at least one grant type is required');
  if (type === 'public' && grantTypes.includes('client_credentials')) {
    throw new OAuthError('invalid_client_metadata', 'a public client cannot use client_credentials: it has no secret to authenticate with');
  }
  return [...new Set(grantTypes)];
}

function checkFormat(format: string): AccessTokenFormat {
  if (format !== 'opaque' && format !== 'jwt') throw new OAuthError('invalid_client_metadata', 'access token format must be "opaque" or "jwt"');
  return format;
}

function checkResources(resources: string[], what: string): string[] {
  for (const resource of resources) {
    if (!URL.canParse(resource) || resource.includes('#')) {
      throw new OAuthError('invalid_client_metadata', `${what} "${resource}" must be an absolute URI without a fragment (RFC 8707 §2)`);
    }
  }
  return [...new Set(resources)];
}

/** The token endpoint authentication methods this server implements (RFC 7591 §2). */
export const tokenEndpointAuthMethods = ['client_secret_basic', 'client_secret_post', 'none'] as const satisfies readonly TokenEndpointAuthMethod[];
export const consentPolicies = ['remember', 'always_ask'] as const satisfies readonly ConsentPolicy[];

/** RFC 7591 §2: `client_secret_basic` is the default; a public client has no secret to send. */
function defaultAuthMethod(type: ClientType): TokenEndpointAuthMethod {
  return type === 'public' ? 'none' : 'client_secret_basic';
}

function checkAuthMethod(method: string, type: ClientType): TokenEndpointAuthMethod {
  if (!(tokenEndpointAuthMethods as readonly string[]).includes(method)) {
    throw new OAuthError('invalid_client_metadata', `token endpoint auth method "${method}" is not supported; use ${tokenEndpointAuthMethods.join(', ')}`);
  }
  if (type === 'public' && method !== 'none') {
    throw new OAuthError('invalid_client_metadata', 'a public client has no secret: its token endpoint auth method must be "none"');
  }
  if (type === 'confidential' && method === 'none') {
    throw new OAuthError('invalid_client_metadata', 'a confidential client authenticates with its secret: use client_secret_basic or client_secret_post');
  }
  return method as TokenEndpointAuthMethod;
}

/**
 * Public clients ask every time: their ID is public, and a loopback or private-use redirect URI
 * can be claimed by any app on the device, so remembered consent would hand codes to whoever
 * asks in their name (RFC 8252 §8.6, RFC 6749 §10.2).
 */
function defaultConsentPolicy(type: ClientType): ConsentPolicy {
  return type === 'public' ? 'always_ask' : 'remember';
}

function checkConsentPolicy(policy: string): ConsentPolicy {
  if (!(consentPolicies as readonly string[]).includes(policy)) {
    throw new OAuthError('invalid_client_metadata', `consent policy must be one of ${consentPolicies.join(', ')}`);
  }
  return policy as ConsentPolicy;
}

function checkCanIntrospect(canIntrospect: boolean, type: ClientType): boolean {
  // RFC 7662 §2.1: the caller must authenticate, which a public client cannot.
  if (canIntrospect && type === 'public') throw new OAuthError('invalid_client_metadata', 'a public client cannot be given introspection: it cannot authenticate');
  return canIntrospect;
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 200) {
    throw new OAuthError('invalid_client_metadata', 'client name must be 1–200 characters');
  }
  return trimmed;
}

function checkRedirectUris(uris: string[], type: ClientType, ctx: ServerContext): string[] {
  // RFC 6749 §3.1.2.2: confidential clients MUST register redirect URIs; we require them for all.
  if (uris.length === 0) {
    throw new OAuthError('invalid_redirect_uri', 'at least one redirect URI is required (RFC 6749 §3.1.2.2)');
  }
  const options = { allowInsecureHttp: ctx.config.allowInsecureHttpRedirectUris };
  return [...new Set(uris.map((uri) => validateRedirectUriForRegistration(uri, type, options)))];
}

function checkLifetime(seconds: number | null | undefined, what: string): number | null {
  if (seconds === undefined || seconds === null) return null;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > maxLifetimeSeconds) {
    throw new OAuthError('invalid_client_metadata', `${what} must be a whole number of seconds from 1 to ${maxLifetimeSeconds}`);
  }
  return seconds;
}
