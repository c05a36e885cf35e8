import { OAuthError } from '../../shared/oauth-error.ts';
import type { AccessTokenFormat, ClientRecord, ClientType } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { generateIdentifier, generateSecret, hashSecret } from '../secrets/opaque-secret.ts';
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
  const redirectUris = grantTypes.includes('authorization_code') || input.redirectUris.length > 0 ? checkRedirectUris(input.redirectUris, type) : [];
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
    resources: checkResources(input.resources ?? []),
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
    redirectUris: grantTypes.includes('authorization_code') || redirectUris.length > 0 ? checkRedirectUris(redirectUris, before.type) : [],
    scopes: [...new Set(scopes)],
    accessTokenTtlSeconds:
      changes.accessTokenTtlSeconds === undefined ? before.accessTokenTtlSeconds : checkLifetime(changes.accessTokenTtlSeconds, 'access token lifetime'),
    refreshTokenTtlSeconds:
      changes.refreshTokenTtlSeconds === undefined ? before.refreshTokenTtlSeconds : checkLifetime(changes.refreshTokenTtlSeconds, 'refresh token lifetime'),
    accessTokenFormat: checkFormat(changes.accessTokenFormat ?? before.accessTokenFormat),
    resources: checkResources(changes.resources ?? before.resources),
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

function checkResources(resources: string[]): string[] {
  for (const resource of resources) {
    if (!URL.canParse(resource) || resource.includes('#')) {
      throw new OAuthError('invalid_client_metadata', `resource "${resource}" must be an absolute URI without a fragment (RFC 8707 §2)`);
    }
  }
  return [...new Set(resources)];
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 200) {
    throw new OAuthError('invalid_client_metadata', 'client name must be 1–200 characters');
  }
  return trimmed;
}

function checkRedirectUris(uris: string[], type: ClientType): string[] {
  // RFC 6749 §3.1.2.2: confidential clients MUST register redirect URIs; we require them for all.
  if (uris.length === 0) {
    throw new OAuthError('invalid_redirect_uri', 'at least one redirect URI is required (RFC 6749 §3.1.2.2)');
  }
  return [...new Set(uris.map((uri) => validateRedirectUriForRegistration(uri, type)))];
}

function checkLifetime(seconds: number | null | undefined, what: string): number | null {
  if (seconds === undefined || seconds === null) return null;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > maxLifetimeSeconds) {
    throw new OAuthError('invalid_client_metadata', `${what} must be a whole number of seconds from 1 to ${maxLifetimeSeconds}`);
  }
  return seconds;
}
