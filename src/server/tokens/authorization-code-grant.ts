import { OAuthError } from '../../shared/oauth-error.ts';
import type { AuthorizationCodeRecord, ClientRecord } from '../../storage/storage.ts';
import { checkCodeVerifierFormat, verifierMatchesChallenge } from '../authorize/pkce.ts';
import type { ServerContext } from '../context.ts';
import { hashSecret } from '../secrets/opaque-secret.ts';
import { issueTokens, withIdToken, type IssuedTokens, type TokenResponse } from './issue-tokens.ts';
import { narrowResources } from '../resources/resource-indicators.ts';

export interface CodeGrantInput {
  code: string;
  redirectUri: string | undefined;
  codeVerifier: string | undefined;
  /** RFC 8707 §2.2: resources to narrow this access token to. */
  resources: string[] | undefined;
}

type Redemption = { tokens: IssuedTokens } | { replayedFamily: string } | { unknown: true };

/**
 * RFC 6749 §4.1.3: trades a code for tokens. The code is consumed and the tokens issued in one
 * transaction; a failed check rolls the consumption back, so a request that is refused leaves the
 * code as it was.
 */
export async function exchangeAuthorizationCode(
  input: CodeGrantInput,
  client: ClientRecord,
  ctx: ServerContext,
): Promise<TokenResponse> {
  if (input.codeVerifier !== undefined) checkCodeVerifierFormat(input.codeVerifier);
  const redemption = await ctx.storage.transaction(async (tx): Promise<Redemption> => {
    const result = await tx.consumeAuthorizationCode(hashSecret(input.code), ctx.clock.now());
    if (result.outcome === 'unknown') return { unknown: true };
    if (result.outcome === 'already-consumed') {
      // Only the client the code was issued to can prove a replay; another client presenting it
      // learns nothing and must not be able to revoke that client's tokens.
      if (result.record.clientId !== client.id) return { unknown: true };
      return { replayedFamily: result.record.familyId };
    }
    const code = result.record;
    checkCodeBinding(code, client, input.redirectUri, ctx.clock.now());
    checkPkce(code, input.codeVerifier);
    const tokens = await issueTokens(
      {
        client,
        accountId: code.accountId,
        familyId: code.familyId,
        scopes: code.scopes,
        grantedScopes: code.scopes,
        audience: narrowResources(input.resources, client.resources, code.resources),
        grantedResources: code.resources,
        authTime: code.authTime,
        nonce: code.nonce,
      },
      tx,
      ctx,
    );
    return { tokens };
  });
  if ('tokens' in redemption) return withIdToken(redemption.tokens, ctx);
  if ('replayedFamily' in redemption) {
    // RFC 6749 §4.1.2 and §10.5: a code used twice was intercepted; revoke what its first use issued.
    await ctx.storage.revokeFamily(redemption.replayedFamily, ctx.clock.now());
    throw new OAuthError('invalid_grant', 'the authorization code has already been used');
  }
  throw new OAuthError('invalid_grant', 'the authorization code is invalid');
}

function checkCodeBinding(code: AuthorizationCodeRecord, client: ClientRecord, redirectUri: string | undefined, now: number) {
  if (code.clientId !== client.id) throw new OAuthError('invalid_grant', 'the authorization code was issued to another client');
  if (code.expiresAt <= now) throw new OAuthError('invalid_grant', 'the authorization code has expired');
  // RFC 6749 §4.1.3: redirect_uri must be identical to the one of the authorization request.
  if (redirectUri === undefined) throw new OAuthError('invalid_grant', '"redirect_uri" is required and must match the authorization request');
  if (redirectUri !== code.redirectUri) {
    throw new OAuthError('invalid_grant', '"redirect_uri" does not match the one of the authorization request');
  }
}

function checkPkce(code: AuthorizationCodeRecord, verifier: string | undefined) {
  if (code.codeChallenge === null) {
    // A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700 §2.1.1).
    if (verifier !== undefined) {
      throw new OAuthError('invalid_grant', '"code_verifier" was sent but the authorization request had no code_challenge');
    }
    return;
  }
  if (verifier === undefined) throw new OAuthError('invalid_grant', '"code_verifier" is required: the authorization request used PKCE');
  if (!verifierMatchesChallenge(verifier, code.codeChallenge)) {
    throw new OAuthError('invalid_grant', '"code_verifier" does not match the code_challenge (RFC 7636 §4.6)');
  }
}
