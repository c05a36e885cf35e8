import type { AccessTokenRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { claimsForScopes, type Claims } from '../oidc/claims.ts';
import { invalidTokenError, requireAnyScope } from './bearer-token.ts';

/** The scopes that let a token read the user's own profile. */
export const userinfoScopes = ['openid', 'profile', 'email'] as const;

/**
 * The profile of the user a token acts for, limited to what its scopes allow (OpenID Connect
 * Core §5.3): the same claims, from the same function, as the ID token.
 */
export async function userinfo(token: AccessTokenRecord, ctx: ServerContext): Promise<Claims> {
  requireAnyScope(token, userinfoScopes);
  if (token.accountId === null) throw invalidTokenError('the access token does not act for a user');
  const account = await ctx.storage.findAccount(token.accountId);
  if (account === undefined) throw invalidTokenError('the user of this access token no longer exists');
  return claimsForScopes(account, token.scopes);
}
