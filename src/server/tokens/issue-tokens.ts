import { secondsFromNow } from '../../shared/clock.ts';
import { formatScope } from '../../shared/scope.ts';
import type { ClientRecord, Storage } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { generateSecret, hashSecret } from '../secrets/opaque-secret.ts';

/** The successful token response of RFC 6749 §5.1. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

export interface TokenGrant {
  client: ClientRecord;
  accountId: string;
  familyId: string;
  /** Scopes of the new access token. */
  scopes: string[];
  /** Scopes the refresh token may later ask for: all the user granted (RFC 6749 §6). */
  grantedScopes: string[];
  authTime: number;
}

/**
 * Issues an access token and a refresh token for a grant, through `storage` so that it joins the
 * caller's transaction (the one that consumed the code or the previous refresh token).
 */
export async function issueTokens(grant: TokenGrant, storage: Storage, ctx: ServerContext): Promise<TokenResponse> {
  const now = ctx.clock.now();
  const accessTtl = grant.client.accessTokenTtlSeconds ?? ctx.config.accessTokenTtlSeconds;
  const refreshTtl = grant.client.refreshTokenTtlSeconds ?? ctx.config.refreshTokenTtlSeconds;
  const accessToken = generateSecret();
  const refreshToken = generateSecret();
  await storage.insertAccessToken({
    hash: hashSecret(accessToken),
    familyId: grant.familyId,
    clientId: grant.client.id,
    accountId: grant.accountId,
    scopes: grant.scopes,
    expiresAt: secondsFromNow(ctx.clock, accessTtl),
    revokedAt: null,
    createdAt: now,
  });
  await storage.insertRefreshToken({
    hash: hashSecret(refreshToken),
    familyId: grant.familyId,
    clientId: grant.client.id,
    accountId: grant.accountId,
    scopes: grant.grantedScopes,
    authTime: grant.authTime,
    expiresAt: secondsFromNow(ctx.clock, refreshTtl),
    rotatedAt: null,
    revokedAt: null,
    createdAt: now,
  });
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: accessTtl,
    refresh_token: refreshToken,
    scope: formatScope(grant.scopes),
  };
}
