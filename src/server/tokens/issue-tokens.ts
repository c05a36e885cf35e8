import { secondsFromNow } from '../../shared/clock.ts';
import { OAuthError } from '../../shared/oauth-error.ts';
import { formatScope } from '../../shared/scope.ts';
import type { ClientRecord, Storage } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { signIdToken, type IdTokenInput } from '../oidc/id-token.ts';
import { generateToken, hashSecret } from '../keys/opaque-secret.ts';
import { mintAccessToken, type MintedAccessToken, type Signing } from './access-token.ts';

/** The successful token response of RFC 6749 §5.1 (and OpenID Connect Core §3.1.3.3). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  id_token?: string;
  scope: string;
}

export interface TokenGrant {
  client: ClientRecord;
  /** The user the tokens act for; null when the client acts for itself. */
  accountId: string | null;
  familyId: string;
  /** Scopes of the new access token. */
  scopes: string[];
  /** Scopes the refresh token may later ask for: all the user granted (RFC 6749 §6). */
  grantedScopes: string[];
  /** The access token's audience (RFC 8707); null for no restriction. */
  audience: string[] | null;
  /** Resources the grant carries for later refreshes. */
  grantedResources: string[] | null;
  authTime: number | null;
  /** OpenID Connect nonce from the authorization request; only the first ID token carries it. */
  nonce: string | null;
  /** What a user's refresh token descends from; null when the client acts for itself. */
  lineage: TokenLineage | null;
}

/** Carried by every refresh token of a family, from the code that started it. */
export interface TokenLineage {
  /** The consent (`GrantRecord.id`) the family descends from. */
  grantId: string;
  /** When the family began (its code was redeemed): its absolute lifetime counts from here. */
  familyCreatedAt: number;
}

/**
 * What `issueTokens` stored and will answer, and the ID token still to sign: nothing of an ID
 * token is stored, so it is signed after the transaction (`withIdToken`), on a signing thread.
 */
export interface IssuedTokens {
  response: TokenResponse;
  idToken: IdTokenInput | undefined;
}

/** An access token minted before the transaction that stores it (`premintAccessToken`). */
export interface PremintedAccessToken extends MintedAccessToken {
  expiresAt: number;
}

/**
 * Mints the access token of a grant. A grant whose token depends on nothing read in its
 * transaction (client credentials) mints it first, with the signature on a signing thread, and
 * passes it to `issueTokens`.
 */
export async function premintAccessToken(
  grant: TokenGrant,
  storage: Storage,
  ctx: ServerContext,
  signing: Signing,
): Promise<PremintedAccessToken> {
  const expiresAt = secondsFromNow(ctx.clock, accessTokenTtl(grant.client, ctx));
  const minted = await mintAccessToken(
    { client: grant.client, accountId: grant.accountId, scopes: grant.scopes, audience: grant.audience, authTime: grant.authTime, expiresAt },
    storage,
    ctx,
    signing,
  );
  return { ...minted, expiresAt };
}

function accessTokenTtl(client: ClientRecord, ctx: ServerContext): number {
  return client.accessTokenTtlSeconds ?? ctx.config.accessTokenTtlSeconds;
}

/**
 * The longest anything a code's redemption issues can live: its access token, or its
 * refresh-token family, which rotation carries up to the family's maximum age. A consumed code is
 * kept this long, so that its replay is still recognised and revokes what it issued.
 */
export function longestIssuedLifetimeSeconds(client: ClientRecord, ctx: ServerContext): number {
  return Math.max(accessTokenTtl(client, ctx), ctx.config.refreshTokenFamilyMaxAgeSeconds);
}

/**
 * When a refresh token issued now expires: its own lifetime, but never past the end of its
 * family's (RFC 9700 §4.14.2: the authorization server decides when refresh tokens expire).
 */
function refreshTokenExpiry(client: ClientRecord, lineage: TokenLineage, ctx: ServerContext): number {
  const ttl = client.refreshTokenTtlSeconds ?? ctx.config.refreshTokenTtlSeconds;
  return Math.min(secondsFromNow(ctx.clock, ttl), familyEnd(lineage.familyCreatedAt, ctx));
}

/** When a refresh-token family begun at `familyCreatedAt` ends, whatever its rotations. */
export function familyEnd(familyCreatedAt: number, ctx: ServerContext): number {
  return familyCreatedAt + ctx.config.refreshTokenFamilyMaxAgeSeconds * 1000;
}

/**
 * Issues the tokens of a grant through `storage`, so that they join the caller's transaction
 * (the one that consumed the code or the previous refresh token):
 * - an access token, always;
 * - a refresh token when a user is involved, except that an OpenID Connect request gets one only
 *   with `offline_access` (Core §11);
 * - an ID token when the scopes include `openid`: its claims are read here, in the transaction,
 *   and it is signed by `withIdToken` once the transaction is over.
 */
export async function issueTokens(grant: TokenGrant, storage: Storage, ctx: ServerContext, minted?: PremintedAccessToken): Promise<IssuedTokens> {
  const now = ctx.clock.now();
  const accessTtl = accessTokenTtl(grant.client, ctx);
  const { token: accessToken, hash: accessTokenKey, expiresAt } = minted ?? (await premintAccessToken(grant, storage, ctx, 'inline'));
  await storage.insertAccessToken({
    hash: accessTokenKey,
    familyId: grant.familyId,
    clientId: grant.client.id,
    accountId: grant.accountId,
    scopes: grant.scopes,
    audience: grant.audience,
    expiresAt,
    revokedAt: null,
    createdAt: now,
  });
  const response: TokenResponse = { access_token: accessToken, token_type: 'Bearer', expires_in: accessTtl, scope: formatScope(grant.scopes) };
  if (grant.accountId === null) return { response, idToken: undefined };
  // The code and refresh grants check it before they get here (and touch the grant as they do).
  if (grant.lineage === null) throw new Error('the tokens of a user need the lineage of their grant');

  const openId = grant.grantedScopes.includes('openid');
  if (!openId || grant.grantedScopes.includes('offline_access')) {
    const refreshToken = generateToken();
    await storage.insertRefreshToken({
      hash: hashSecret(refreshToken),
      familyId: grant.familyId,
      grantId: grant.lineage.grantId,
      familyCreatedAt: grant.lineage.familyCreatedAt,
      clientId: grant.client.id,
      accountId: grant.accountId,
      scopes: grant.grantedScopes,
      authTime: grant.authTime ?? now,
      expiresAt: refreshTokenExpiry(grant.client, grant.lineage, ctx),
      rotatedAt: null,
      revokedAt: null,
      resources: grant.grantedResources,
      createdAt: now,
    });
    response.refresh_token = refreshToken;
  }
  if (!grant.scopes.includes('openid')) return { response, idToken: undefined };
  const account = await storage.findAccount(grant.accountId);
  if (account === undefined) throw new OAuthError('invalid_grant', 'the user of this grant no longer exists');
  return { response, idToken: { account, client: grant.client, scopes: grant.scopes, authTime: grant.authTime ?? now, nonce: grant.nonce, accessToken } };
}

/**
 * The token response with its ID token, signed on a signing thread. Called after the transaction
 * that issued the tokens: an RS256 signature is the costliest step of a code exchange, and
 * inside the transaction it would hold the group-commit lock, and the event loop, meanwhile.
 * The code or refresh token is spent by then, so a thread that fails does not fail the request:
 * `signIdToken` signs on the event loop instead.
 */
export async function withIdToken({ response, idToken }: IssuedTokens, ctx: ServerContext): Promise<TokenResponse> {
  if (idToken !== undefined) response.id_token = await signIdToken(idToken, ctx.storage, ctx);
  return response;
}
