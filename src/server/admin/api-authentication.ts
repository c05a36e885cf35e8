import { insufficientScopeError } from '../../shared/bearer.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { adminScope } from '../authorize/scope-registry.ts';
import { findLiveAccessToken, parseBearerHeader } from '../tokens/bearer-token.ts';

const realm = 'gatehouse';

/**
 * Who may call the admin API (RFC 6750): a live access token with the `admin` scope that a client
 * obtained for itself (client_credentials), of a client that is still registered for `admin`.
 * No token, or a dead one, is 401 `invalid_token`; a token without that power is 403
 * `insufficient_scope`; both with their `WWW-Authenticate` challenge.
 */
export async function authenticateAdminClient(authorization: string | undefined, ctx: ServerContext): Promise<ClientRecord> {
  const token = await findLiveAccessToken(parseBearerHeader(authorization), ctx);
  if (!token.scopes.includes(adminScope)) {
    throw insufficientScopeError([adminScope], realm, `the admin API needs an access token with the "${adminScope}" scope`);
  }
  // `/authorize` never grants `admin`; should a user's token carry it anyway, it is still refused.
  if (token.accountId !== null) {
    throw insufficientScopeError([adminScope], realm, 'the admin API takes only tokens a client obtained for itself with client_credentials');
  }
  // Taking `admin` off a client's registration takes effect at once, not when its tokens expire.
  const client = await ctx.storage.findClient(token.clientId);
  if (client === undefined || !client.scopes.includes(adminScope)) {
    throw insufficientScopeError([adminScope], realm, `the client of this token is no longer registered for the "${adminScope}" scope`);
  }
  return client;
}
