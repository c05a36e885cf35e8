import { secondsFromNow } from '../../shared/clock.ts';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { generateTimeOrderedIdentifier, generateToken, hashSecret } from '../keys/opaque-secret.ts';
import type { AuthorizationRequest } from './authorization-request.ts';

/**
 * Issues a one-time authorization code bound to the client, redirect URI, scopes, PKCE challenge
 * and user (RFC 6749 §4.1.2, §10.5), and to the user's consent (the grant) it is issued under:
 * it redeems only while that grant exists. Only its hash is stored.
 */
export async function issueAuthorizationCode(
  request: AuthorizationRequest,
  accountId: string,
  authTime: number,
  ctx: ServerContext,
): Promise<string> {
  // Consent was just given or found remembered; gone now only if revoked in between.
  const grant = await ctx.storage.findGrant(accountId, request.client.id);
  if (grant === undefined) throw new OAuthError('access_denied', 'the consent for this application was revoked; ask again');
  const code = generateToken();
  const now = ctx.clock.now();
  const expiresAt = secondsFromNow(ctx.clock, ctx.config.authorizationCodeTtlSeconds);
  await ctx.storage.insertAuthorizationCode({
    hash: hashSecret(code),
    familyId: generateTimeOrderedIdentifier(),
    grantId: grant.id,
    clientId: request.client.id,
    accountId,
    redirectUri: request.redirectUri,
    scopes: request.scopes,
    codeChallenge: request.codeChallenge ?? null,
    nonce: request.nonce ?? null,
    resources: request.resources ?? null,
    authTime,
    expiresAt,
    consumedAt: null,
    retainUntil: expiresAt,
    createdAt: now,
  });
  return code;
}
