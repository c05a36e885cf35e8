import type { AccountRecord } from '../../storage/storage.ts';

export type Claims = Record<string, string | boolean | number>;

/**
 * The claims about a user that a set of scopes releases (OpenID Connect Core §5.4): `sub`
 * always; `profile` adds the username and name; `email` adds the address and whether it is
 * verified. The same function serves the ID token and /userinfo, so they never disagree.
 */
export function claimsForScopes(account: AccountRecord, scopes: readonly string[]): Claims {
  const claims: Claims = { sub: account.id };
  if (scopes.includes('profile')) {
    claims.preferred_username = account.username;
    if (account.name !== null) claims.name = account.name;
  }
  if (scopes.includes('email') && account.email !== null) {
    claims.email = account.email;
    claims.email_verified = account.emailVerified;
  }
  return claims;
}

/** Every claim `claimsForScopes` can release, for discovery's `claims_supported`. */
export const supportedClaims = ['sub', 'preferred_username', 'name', 'email', 'email_verified'];
