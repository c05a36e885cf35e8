import type { AccessTokenRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { invalidTokenError, requireAnyScope } from './bearer-token.ts';

/** The scopes that let a token read the user's own profile. */
export const userinfoScopes = ['profile', 'email'] as const;

export type UserinfoClaims = Record<string, string | boolean>;

/**
 * The profile of the user a token acts for, limited to what its scopes allow: `profile` gives
 * the name and username, `email` the address and whether it is verified (the claims of OpenID
 * Connect Core §5.4).
 */
export async function userinfo(token: AccessTokenRecord, ctx: ServerContext): Promise<UserinfoClaims> {
  requireAnyScope(token, userinfoScopes);
  if (token.accountId === null) throw invalidTokenError('the access token does not act for a user');
  const account = await ctx.storage.findAccount(token.accountId);
  if (account === undefined) throw invalidTokenError('the user of this access token no longer exists');
  const claims: UserinfoClaims = { sub: account.id };
  if (token.scopes.includes('profile')) {
    claims.preferred_username = account.username;
    if (account.name !== null) claims.name = account.name;
  }
  if (token.scopes.includes('email') && account.email !== null) {
    claims.email = account.email;
    claims.email_verified = account.emailVerified;
  }
  return claims;
}
