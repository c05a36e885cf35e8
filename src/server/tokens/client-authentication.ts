import { OAuthError } from '../../shared/oauth-error.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { secretMatchesHash } from '../secrets/opaque-secret.ts';

/** How the client presented itself at the token endpoint (RFC 6749 §2.3.1). */
export type ClientCredentials =
  | { method: 'client_secret_basic'; clientId: string; clientSecret: string }
  | { method: 'client_secret_post'; clientId: string; clientSecret: string }
  | { method: 'none'; clientId: string };

/**
 * Authenticates the client. Every failure is the same `invalid_client` with a 401 (RFC 6749
 * §5.2), carrying `WWW-Authenticate: Basic` when Basic was used, so a caller cannot tell an unknown
 * client from a wrong secret.
 */
export async function authenticateClient(credentials: ClientCredentials, ctx: ServerContext): Promise<ClientRecord> {
  const client = await ctx.storage.findClient(credentials.clientId);
  if (client === undefined) return authenticationFailed(credentials, 'client authentication failed: unknown client or wrong secret');
  if (client.type === 'public') {
    if (credentials.method !== 'none') return authenticationFailed(credentials, 'client authentication failed: this is a public client and has no secret');
    return client;
  }
  if (credentials.method === 'none') return authenticationFailed(credentials, 'client authentication failed: this client must authenticate with its secret');
  if (client.secretHash === null || !secretMatchesHash(credentials.clientSecret, client.secretHash)) {
    return authenticationFailed(credentials, 'client authentication failed: unknown client or wrong secret');
  }
  return client;
}

function authenticationFailed(credentials: ClientCredentials, description: string): never {
  throw new OAuthError('invalid_client', description, {
    wwwAuthenticate: credentials.method === 'client_secret_basic' ? 'Basic realm="gatehouse", charset="UTF-8"' : undefined,
  });
}
