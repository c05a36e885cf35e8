import { OAuthError } from '../../shared/oauth-error.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { secretMatchesHash } from '../keys/opaque-secret.ts';

/** How the client presented itself at the token endpoint (RFC 6749 §2.3.1). */
export type ClientCredentials =
  | { method: 'client_secret_basic'; clientId: string; clientSecret: string }
  | { method: 'client_secret_post'; clientId: string; clientSecret: string }
  | { method: 'none'; clientId: string };

/**
 * Authenticates the client. Every failure is `invalid_client` with a 401 (RFC 6749 §5.2),
 * carrying `WWW-Authenticate: Basic` when Basic was used; an unknown client and a wrong secret get
 * the same answer. A client with the right secret sent by another method than the one it is
 * registered for is refused too, and told which one (RFC 7591 §2: the registered
 * `token_endpoint_auth_method` is the one it uses), so a secret meant for an Authorization header
 * is never accepted from a form body, and the reverse. The method is named only after the secret
 * matched, so it tells nothing to whoever does not hold it.
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
  if (credentials.method !== client.tokenEndpointAuthMethod) {
    return authenticationFailed(
      credentials,
      `client authentication failed: this client is registered for ${client.tokenEndpointAuthMethod} and sent its secret by ${credentials.method}`,
    );
  }
  return client;
}

function authenticationFailed(credentials: ClientCredentials, description: string): never {
  throw new OAuthError('invalid_client', description, {
    wwwAuthenticate: credentials.method === 'client_secret_basic' ? 'Basic realm="gatehouse", charset="UTF-8"' : undefined,
  });
}
