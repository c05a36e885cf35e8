import { OAuthError } from '../../shared/oauth-error.ts';
import type { AuthorizationCodeRecord, ClientRecord, Storage } from '../../storage/storage.ts';
import { checkCodeVerifierFormat, verifierMatchesChallenge } from '../authorize/pkce.ts';
import type { ServerContext } from '../context.ts';
import { hashSecret } from '../keys/opaque-secret.ts';
import { issueTokens, longestIssuedLifetimeSeconds, withIdToken, type IssuedTokens, type TokenResponse } from './issue-tokens.ts';
import { narrowResources } from './resource-indicators.ts';

export interface CodeGrantInput {
  code: string;
  redirectUri: string | undefined;
  codeVerifier: string | undefined;
  /** RFC 8707 §2.2: resources to narrow this access token to. */
  resources: string[] | undefined;
}

type Redemption =
  | { tokens: IssuedTokens }
  | { replayedFamily: string }
  /** The code is spent and nothing was issued; the check that refused the exchange. */
  | { refused: OAuthError }
  | { unknown: true };

/**
 * RFC 6749 §4.1.3: trades a code for tokens. The code is consumed and the tokens issued in one
 * transaction. Once its own client presents it, the code is spent whatever follows (DESIGN
 * invariant 3): a failed check (expiry, redirect URI, PKCE, the user's consent or account) is
 * returned rather than thrown, so the transaction commits the consumption, and a second try (a
 * guessed `code_verifier`, say) finds the code used. That try revokes nothing: nothing was issued.
 */
export async function exchangeAuthorizationCode(
  input: CodeGrantInput,
  client: ClientRecord,
  ctx: ServerContext,
): Promise<TokenResponse> {
  if (input.codeVerifier !== undefined) checkCodeVerifierFormat(input.codeVerifier);
  const redemption = await ctx.storage.transaction(async (tx): Promise<Redemption> => {
    const now = ctx.clock.now();
    // The spent code is kept as long as what it issues can live, so a late replay still revokes it.
    const retainUntil = now + longestIssuedLifetimeSeconds(client, ctx) * 1000;
    const result = await tx.consumeAuthorizationCode(hashSecret(input.code), now, retainUntil);
    if (result.outcome === 'unknown') return { unknown: true };
    if (result.outcome === 'already-consumed') {
      // Only the client the code was issued to can prove a replay; another client presenting it
      // learns nothing and must not be able to revoke that client's tokens.
      if (result.record.clientId !== client.id) return { unknown: true };
      return { replayedFamily: result.record.familyId };
    }
    const code = result.record;
    // Another client's request is not the owner's exchange, and the code is not theirs to spend:
    // the throw rolls the consumption back. Otherwise any client that saw a code (in a log, a
    // Referer, a mix-up) could deny it to its owner; the same rule keeps it from revoking (above).
    if (code.clientId !== client.id) throw new OAuthError('invalid_grant', 'the authorization code was issued to another client');
    const refusal = checkCodeBinding(code, input.redirectUri, now) ?? checkPkce(code, input.codeVerifier) ?? (await checkLineage(code, tx, now));
    if (refusal !== undefined) return { refused: refusal };
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
        lineage: { grantId: code.grantId, familyCreatedAt: now },
      },
      tx,
      ctx,
    );
    return { tokens };
  });
  if ('tokens' in redemption) return withIdToken(redemption.tokens, ctx);
  if ('refused' in redemption) throw redemption.refused;
  if ('replayedFamily' in redemption) {
    // RFC 6749 §4.1.2 and §10.5: a code used twice was intercepted; revoke what its first use
    // issued (nothing, when the first use was refused).
    await ctx.storage.revokeFamily(redemption.replayedFamily, ctx.clock.now());
    throw new OAuthError('invalid_grant', 'the authorization code has already been used');
  }
  throw new OAuthError('invalid_grant', 'the authorization code is invalid');
}

function checkCodeBinding(code: AuthorizationCodeRecord, redirectUri: string | undefined, now: number): OAuthError | undefined {
  if (code.expiresAt <= now) return new OAuthError('invalid_grant', 'the authorization code has expired');
  // RFC 6749 §4.1.3: redirect_uri must be identical to the one of the authorization request.
  if (redirectUri === undefined) return new OAuthError('invalid_grant', '"redirect_uri" is required and must match the authorization request');
  if (redirectUri !== code.redirectUri) {
    return new OAuthError('invalid_grant', '"redirect_uri" does not match the one of the authorization request');
  }
  return undefined;
}

function checkPkce(code: AuthorizationCodeRecord, verifier: string | undefined): OAuthError | undefined {
  if (code.codeChallenge === null) {
    // A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700 §2.1.1).
    if (verifier !== undefined) {
      return new OAuthError('invalid_grant', '"code_verifier" was sent but the authorization request had no code_challenge');
    }
    return undefined;
  }
  if (verifier === undefined) return new OAuthError('invalid_grant', '"code_verifier" is required: the authorization request used PKCE');
  if (!verifierMatchesChallenge(verifier, code.codeChallenge)) {
    return new OAuthError('invalid_grant', '"code_verifier" does not match the code_challenge (RFC 7636 §4.6)');
  }
  return undefined;
}

/**
 * The code stops with what it descends from (DESIGN invariant 10): the user's account, which an
 * administrator may have disabled, and the user's consent, which "Revoke access" deletes and a
 * new consent replaces with another grant. Touching the grant also records its use.
 */
async function checkLineage(code: AuthorizationCodeRecord, tx: Storage, now: number): Promise<OAuthError | undefined> {
  const account = await tx.findAccount(code.accountId);
  if (account === undefined || account.disabledAt !== null) {
    return new OAuthError('invalid_grant', 'the user of this authorization code is disabled');
  }
  if (!(await tx.touchGrant(code.accountId, code.clientId, code.grantId, now))) {
    return new OAuthError('invalid_grant', 'the consent this authorization code was issued under has been revoked');
  }
  return undefined;
}
