import type { AccessTokenRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { claimsForScopes, type Claims } from './claims.ts';
import { invalidTokenError, requireAnyScope } from '../tokens/bearer-token.ts';

/** The scopes that let a token read the user's own profile. */
export const userinfoScopes = ['openid', 'profile', 'email'] as const;

/**
 * The profile of the user a token acts for, limited to what its scopes allow (OpenID Connect
 * Core §5.3): the same claims, from the same function, as the ID token.
 */
export async function userinfo(token: AccessTokenRecord, ctx: ServerContext): Promise<Claims> {
  requireAudience(token, ctx);
  requireAnyScope(token, userinfoScopes);
  if (token.accountId === null) throw invalidTokenError('the access token does not act for a user');
  const account = await ctx.storage.findAccount(token.accountId);
  if (account === undefined) throw invalidTokenError('the user of this access token no longer exists');
  // Disabling revokes the account's tokens; this also stops one issued by a request that raced it.
  if (account.disabledAt !== null) throw invalidTokenError('the user of this access token is disabled');
  return claimsForScopes(account, token.scopes);
}

/**
 * RFC 8707 §2: a token restricted to other resources is not for this one. /userinfo belongs to
 * the issuer, so it takes tokens without an audience (whose `aud`, as a JWT, is the issuer) or
 * with the issuer among theirs; anything else is `invalid_token` (RFC 6750 §3.1).
 */
function requireAudience(token: AccessTokenRecord, ctx: ServerContext): void {
  if (token.audience === null || token.audience.length === 0 || token.audience.includes(ctx.config.issuer)) return;
  throw invalidTokenError(`the access token is not meant for this server's userinfo: its audience is ${token.audience.join(' ')} (RFC 8707)`);
}
