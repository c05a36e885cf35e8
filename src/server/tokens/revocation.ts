import { OAuthError } from '../../shared/oauth-error.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { hashSecret } from '../keys/opaque-secret.ts';

/**
 * RFC 7009: the client says it no longer needs a token.
 * - A refresh token takes its whole family with it: every access and refresh token of the grant
 *   (§2.1: "SHOULD also invalidate all access tokens based on the same authorization grant").
 * - An access token is revoked alone.
 * - An unknown token is not an error (§2.2): the outcome the client wants already holds.
 * - A token of another client is refused (§2.1), and stays valid.
 */
/** What a revocation took away, for the audit trail; undefined when the token was unknown. */
export interface RevokedToken {
  tokenType: 'refresh_token' | 'access_token';
  /** The user the token acted for; null for a client's own token. */
  accountId: string | null;
}

export async function revokeToken(token: string, client: ClientRecord, ctx: ServerContext): Promise<RevokedToken | undefined> {
  // The token_type_hint only says where to look first (§2.1); with one indexed lookup per table
  // both are always searched, so it is not needed.
  const hash = hashSecret(token);
  const now = ctx.clock.now();
  const refresh = await ctx.storage.findRefreshToken(hash);
  if (refresh !== undefined) {
    checkOwner(refresh.clientId, client);
    await ctx.storage.revokeFamily(refresh.familyId, now);
    return { tokenType: 'refresh_token', accountId: refresh.accountId };
  }
  const access = await ctx.storage.findAccessToken(hash);
  if (access !== undefined) {
    checkOwner(access.clientId, client);
    await ctx.storage.revokeAccessToken(hash, now);
    return { tokenType: 'access_token', accountId: access.accountId };
  }
  return undefined;
}

function checkOwner(ownerId: string, client: ClientRecord): void {
  if (ownerId !== client.id) throw new OAuthError('unauthorized_client', 'the token was not issued to this client');
}
