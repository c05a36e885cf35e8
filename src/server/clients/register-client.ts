import { OAuthError } from '../../shared/oauth-error.ts';
import type { ClientRecord, ClientType } from '../../storage/storage.ts';
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
}

/** The client as stored, and its secret, which exists only in this value and is never shown again. */
export interface RegisteredClient {
  client: ClientRecord;
  clientSecret: string | null;
}

/** Grant types this server implements for clients registered here. */
const supportedGrantTypes = ['authorization_code', 'refresh_token'];

const maxLifetimeSeconds = 10 * 365 * 24 * 3600;

export async function registerClient(input: ClientRegistration, ctx: ServerContext): Promise<RegisteredClient> {
  const type = input.type ?? 'confidential';
  const name = checkName(input.name);
  const redirectUris = checkRedirectUris(input.redirectUris, type);
  const scopes = input.scopes ?? ['profile'];
  ctx.scopes.requireKnown(scopes, 'scope');
  const clientSecret = type === 'confidential' ? generateSecret() : null;
  const client: ClientRecord = {
    id: generateIdentifier(),
    secretHash: clientSecret === null ? null : hashSecret(clientSecret),
    name,
    type,
    redirectUris,
    grantTypes: supportedGrantTypes,
    scopes: [...new Set(scopes)],
    accessTokenTtlSeconds: checkLifetime(input.accessTokenTtlSeconds, 'access token lifetime'),
    refreshTokenTtlSeconds: checkLifetime(input.refreshTokenTtlSeconds, 'refresh token lifetime'),
    createdAt: ctx.clock.now(),
  };
  await ctx.storage.insertClient(client);
  return { client, clientSecret };
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
