import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { systemClock, type Clock } from '../shared/clock.ts';
import { OAuthError } from '../shared/oauth-error.ts';
import type { Profile, Provider } from './provider.ts';
import { requestTokens, type TokenSet } from './token-endpoint.ts';

/** What must survive the round trip to the provider: kept server-side or in a sealed cookie. */
export interface SignInTransaction {
  provider: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  scopes: string[];
  /** Epoch milliseconds after which the callback is refused. */
  expiresAt: number;
}

export interface SignInResult {
  profile: Profile;
  tokens: TokenSet;
}

export interface SignInOptions {
  clock?: Clock;
  fetch?: typeof fetch;
  /** How long the user may take at the provider, in seconds (default 10 minutes). */
  transactionTtlSeconds?: number;
}

const random = () => randomBytes(32).toString('base64url');

/**
 * Step 2 of the seed: the URL to send the user to, with `state` (CSRF, RFC 6749 §10.12), `nonce`
 * (OpenID Connect replay protection) and a PKCE S256 challenge (RFC 7636), and the transaction
 * to keep until the callback.
 */
export function beginSignIn(
  provider: Provider,
  redirectUri: string,
  scopes: readonly string[] = provider.defaultScopes,
  options: SignInOptions = {},
): { url: string; transaction: SignInTransaction } {
  const clock = options.clock ?? systemClock;
  const transaction: SignInTransaction = {
    provider: provider.id,
    state: random(),
    nonce: random(),
    codeVerifier: random(),
    redirectUri,
    scopes: [...scopes],
    expiresAt: clock.now() + (options.transactionTtlSeconds ?? 600) * 1000,
  };
  const url = new URL(provider.authorizationEndpoint);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: provider.clientId,
    redirect_uri: redirectUri,
    state: transaction.state,
    ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
    ...(scopes.includes('openid') ? { nonce: transaction.nonce } : {}),
    ...(provider.pkce
      ? { code_challenge: createHash('sha256').update(transaction.codeVerifier).digest('base64url'), code_challenge_method: 'S256' }
      : {}),
    ...provider.extraAuthorizationParams,
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return { url: url.toString(), transaction };
}

/**
 * Steps 4–5: checks the callback against the transaction (`state`, and `iss` per RFC 9207 when
 * present or promised), trades the code for tokens, validates the ID token and reads the profile.
 */
export async function completeSignIn(
  provider: Provider,
  callbackUrl: string | URL,
  transaction: SignInTransaction,
  options: SignInOptions = {},
): Promise<SignInResult> {
  const clock = options.clock ?? systemClock;
  const fetchImpl = options.fetch ?? fetch;
  const params = new URL(callbackUrl).searchParams;
  if (transaction.provider !== provider.id) throw new OAuthError('invalid_request', 'the sign-in was started with another provider');
  if (transaction.expiresAt <= clock.now()) throw new OAuthError('invalid_request', 'the sign-in took too long; start again');
  if (!sameSecret(params.get('state') ?? '', transaction.state)) {
    throw new OAuthError('invalid_request', 'the callback\'s state does not match this browser\'s sign-in (possible CSRF)');
  }
  const iss = params.get('iss');
  if (iss !== null || provider.authorizationResponseIssParameter) {
    // RFC 9207 §2.4: a mismatching or (when promised) missing `iss` means a mix-up attack.
    if (provider.issuer === undefined || iss !== provider.issuer) {
      throw new OAuthError('invalid_request', `the callback comes from issuer "${iss ?? '(none)'}", not ${provider.issuer ?? provider.displayName}`);
    }
  }
  const error = params.get('error');
  if (error !== null) throw new OAuthError(error as never, params.get('error_description') ?? error);
  const code = params.get('code');
  if (code === null || code === '') throw new OAuthError('invalid_request', 'the callback carries no code');

  const tokens = await requestTokens(
    provider,
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: transaction.redirectUri,
      ...(provider.pkce ? { code_verifier: transaction.codeVerifier } : {}),
    },
    transaction.scopes,
    clock,
    fetchImpl,
  );
  const idTokenClaims = await validateIdToken(provider, tokens, transaction, clock);
  const userinfo = await fetchUserinfo(provider, tokens.accessToken, fetchImpl);
  if (idTokenClaims !== undefined && userinfo.sub !== undefined && userinfo.sub !== idTokenClaims.sub) {
    // OpenID Connect Core §5.3.2: the UserInfo `sub` must equal the ID token's.
    throw new OAuthError('invalid_request', 'the userinfo subject differs from the ID token subject');
  }
  const profile = provider.profileFrom(userinfo, idTokenClaims);
  // The subject is the identity (accounts link by it): a profile without one must not sign anyone in.
  if (profile.subject === '') throw new OAuthError('invalid_request', `${provider.displayName} returned a profile without a subject (user id)`);
  return { profile, tokens };
}

const jwksByUri = new Map<string, JWTVerifyGetKey>();

/** OpenID Connect Core §3.1.3.7: signature (via JWKS), `iss`, `aud`, `exp`, `nonce`, `azp`. */
async function validateIdToken(provider: Provider, tokens: TokenSet, transaction: SignInTransaction, clock: Clock) {
  if (!transaction.scopes.includes('openid')) return undefined;
  if (tokens.idToken === undefined) throw new OAuthError('invalid_request', `${provider.displayName} returned no ID token`);
  if (provider.issuer === undefined || provider.jwksUri === undefined) {
    throw new OAuthError('invalid_request', `${provider.displayName} is not configured as an OpenID Connect provider`);
  }
  let jwks = jwksByUri.get(provider.jwksUri);
  if (jwks === undefined) {
    jwks = createRemoteJWKSet(new URL(provider.jwksUri));
    jwksByUri.set(provider.jwksUri, jwks);
  }
  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await jwtVerify(tokens.idToken, jwks, {
      issuer: provider.issuer,
      audience: provider.clientId,
      currentDate: new Date(clock.now()),
      // A minute of leeway for clocks that disagree a little.
      clockTolerance: 60,
    }));
  } catch (error) {
    throw new OAuthError('invalid_request', `the ID token is not valid: ${(error as Error).message}`, { cause: error });
  }
  if (!sameSecret(String(claims.nonce ?? ''), transaction.nonce)) throw new OAuthError('invalid_request', 'the ID token nonce does not match');
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (audience.length > 1 && claims.azp !== provider.clientId) throw new OAuthError('invalid_request', 'the ID token azp is not this client');
  return claims;
}

async function fetchUserinfo(provider: Provider, accessToken: string, fetchImpl: typeof fetch): Promise<Record<string, unknown>> {
  if (provider.userinfoEndpoint === undefined) return {};
  const response = await fetchImpl(provider.userinfoEndpoint, {
    headers: { accept: 'application/json', ...provider.userinfoHeaders, authorization: `Bearer ${accessToken}` },
  });
  if (!response.ok) throw new OAuthError('temporarily_unavailable', `${provider.displayName} userinfo answered ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Seals a transaction into a cookie value: HMAC-SHA256 signed, so the browser can carry it but
 * not change it; it expires with the transaction. The secret must be at least 32 bytes.
 */
export function sealTransaction(transaction: SignInTransaction, secret: string): string {
  const payload = Buffer.from(JSON.stringify(transaction)).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
}

export function openTransaction(sealed: string | undefined, secret: string): SignInTransaction {
  const [payload, signature] = (sealed ?? '').split('.');
  if (payload === undefined || signature === undefined) throw new OAuthError('invalid_request', 'no sign-in is in progress in this browser');
  if (!sameSecret(signature, createHmac('sha256', secret).update(payload).digest('base64url'))) {
    throw new OAuthError('invalid_request', 'the sign-in cookie has been tampered with');
  }
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SignInTransaction;
}
