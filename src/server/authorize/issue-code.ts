import { secondsFromNow } from '../../shared/clock.ts';
import type { ServerContext } from '../context.ts';
import { generateTimeOrderedIdentifier, generateToken, hashSecret } from '../secrets/opaque-secret.ts';
import type { AuthorizationRequest } from './authorization-request.ts';

/**
 * Issues a one-time authorization code bound to the client, redirect URI, scopes, PKCE challenge
 * and user (RFC 6749 §4.1.2, §10.5). Only its hash is stored.
 */
export async function issueAuthorizationCode(
  request: AuthorizationRequest,
  accountId: string,
  authTime: number,
  ctx: ServerContext,
): Promise<string> {
  const code = generateToken();
  const now = ctx.clock.now();
  await ctx.storage.insertAuthorizationCode({
    hash: hashSecret(code),
    familyId: generateTimeOrderedIdentifier(),
    clientId: request.client.id,
    accountId,
    redirectUri: request.redirectUri,
    scopes: request.scopes,
    codeChallenge: request.codeChallenge ?? null,
    nonce: request.nonce ?? null,
    resources: request.resources ?? null,
    authTime,
    expiresAt: secondsFromNow(ctx.clock, ctx.config.authorizationCodeTtlSeconds),
    consumedAt: null,
    createdAt: now,
  });
  return code;
}
