import { OAuthError } from '../../shared/oauth-error.ts';
import { formatScope, isSubset, parseScope } from '../../shared/scope.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { hashSecret } from '../keys/opaque-secret.ts';
import { familyEnd, issueTokens, withIdToken, type IssuedTokens, type TokenResponse } from './issue-tokens.ts';
import { narrowResources } from './resource-indicators.ts';

export interface RefreshGrantInput {
  refreshToken: string;
  scope: string | undefined;
  /** RFC 8707 §2.2: resources to narrow this access token to. */
  resources: string[] | undefined;
}

type Rotation = { tokens: IssuedTokens } | { reusedFamily: string } | { unknown: true };

/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every refresh returns a new refresh token and
 * retires the old one; presenting a retired one means it was copied, so its whole family dies.
 * A family lives at most `refreshTokenFamilyMaxAgeSeconds` from its code, and only while the
 * user's account is enabled and the consent it descends from is not revoked.
 */
export async function exchangeRefreshToken(
  input: RefreshGrantInput,
  client: ClientRecord,
  ctx: ServerContext,
): Promise<TokenResponse> {
  const requestedScopes = input.scope === undefined ? undefined : parseScope(input.scope);
  const rotation = await ctx.storage.transaction(async (tx): Promise<Rotation> => {
    const now = ctx.clock.now();
    const result = await tx.rotateRefreshToken(hashSecret(input.refreshToken), now);
    if (result.outcome === 'unknown') return { unknown: true };
    const token = result.record;
    // A token of another client is not theirs to use, nor to burn: refuse before anything else.
    if (token.clientId !== client.id) throw new OAuthError('invalid_grant', 'the refresh token was issued to another client');
    if (token.revokedAt !== null) throw new OAuthError('invalid_grant', 'the refresh token has been revoked');
    if (result.outcome === 'already-consumed') return { reusedFamily: token.familyId };
    // Before the token's own expiry, which the family's end caps: the reason a client can act on.
    if (familyEnd(token.familyCreatedAt, ctx) <= now) {
      throw new OAuthError('invalid_grant', 'the refresh token family has reached its maximum lifetime; sign in again');
    }
    if (token.expiresAt <= now) throw new OAuthError('invalid_grant', 'the refresh token has expired');
    const account = await tx.findAccount(token.accountId);
    if (account === undefined || account.disabledAt !== null) throw new OAuthError('invalid_grant', 'the user of this refresh token is disabled');
    // Revoking consent revokes the family's tokens; this catches one issued by an exchange that
    // raced the revocation, and a consent given anew does not bring the old family back.
    if (!(await tx.touchGrant(token.accountId, token.clientId, token.grantId, now))) {
      throw new OAuthError('invalid_grant', 'the consent this refresh token was issued under has been revoked');
    }
    const scopes = requestedScopes ?? token.scopes;
    if (!isSubset(scopes, token.scopes)) {
      // RFC 6749 §6: the scope must not include any scope not originally granted.
      const extra = scopes.filter((scope) => !token.scopes.includes(scope));
      throw new OAuthError('invalid_scope', `"scope" asks for "${formatScope(extra)}", which was not granted`);
    }
    const tokens = await issueTokens(
      {
        client,
        accountId: token.accountId,
        familyId: token.familyId,
        scopes,
        grantedScopes: token.scopes,
        audience: narrowResources(input.resources, client.resources, token.resources),
        grantedResources: token.resources,
        authTime: token.authTime,
        // Core §12.2: an ID token from a refresh carries no nonce.
        nonce: null,
        lineage: { grantId: token.grantId, familyCreatedAt: token.familyCreatedAt },
      },
      tx,
      ctx,
    );
    return { tokens };
  });
  if ('tokens' in rotation) return withIdToken(rotation.tokens, ctx);
  if ('reusedFamily' in rotation) {
    await ctx.storage.revokeFamily(rotation.reusedFamily, ctx.clock.now());
    throw new OAuthError('invalid_grant', 'the refresh token has already been used; its whole family is now revoked');
  }
  throw new OAuthError('invalid_grant', 'the refresh token is invalid');
}
