import { formatScope } from '../../shared/scope.ts';
import type { ClientRecord, Storage } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { signJwt, signJwtOnThread } from '../keys/jws.ts';
import { generateTimeOrderedIdentifier, generateToken, hashIssuedJwt, hashSecret, issuedJwtKey } from '../keys/opaque-secret.ts';

/** The token for the client, and the key it is stored (and later looked up) under. */
export interface MintedAccessToken {
  token: string;
  hash: string;
}

/**
 * Where a JWT's signature is computed: on the event loop, as a transaction needs (no await while
 * it holds the lock), or on a signing thread, for a token minted before its transaction begins.
 */
export type Signing = 'inline' | 'signing-threads';

export interface AccessTokenInput {
  client: ClientRecord;
  /** The user, or null for a client acting for itself (client credentials). */
  accountId: string | null;
  scopes: readonly string[];
  audience: readonly string[] | null;
  authTime: number | null;
  expiresAt: number;
}

/**
 * Opaque by default: 256 random bits that only this server can interpret (by introspection).
 * A JWT (RFC 9068) when the client or a requested resource is configured for it, so the API
 * can verify it with /jwks alone. Either way the server stores its hash, so it can be
 * introspected and revoked.
 */
export async function mintAccessToken(
  input: AccessTokenInput,
  storage: Storage,
  ctx: ServerContext,
  signing: Signing = 'inline',
): Promise<MintedAccessToken> {
  if (!wantsJwt(input, ctx)) {
    const token = generateToken();
    return { token, hash: hashSecret(token) };
  }
  const key = await ctx.keys.activeKey(ctx.config.accessTokenSigningAlg, storage);
  const now = Math.floor(ctx.clock.now() / 1000);
  // Time-ordered, so that the token's stored key is too (keys/opaque-secret.ts, hashSecret).
  const jti = generateTimeOrderedIdentifier();
  // RFC 9068 §2.1: the `at+jwt` type keeps an access token from being taken for an ID token.
  const header = { alg: key.alg, kid: key.kid, typ: 'at+jwt' };
  const claims = {
    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti; auth_time when a user signed in.
    iss: ctx.config.issuer,
    sub: input.accountId ?? input.client.id,
    aud: accessTokenAudience(input.audience, ctx),
    iat: now,
    exp: Math.floor(input.expiresAt / 1000),
    jti,
    client_id: input.client.id,
    scope: formatScope(input.scopes),
    ...(input.authTime === null ? {} : { auth_time: Math.floor(input.authTime / 1000) }),
  };
  if (signing === 'signing-threads') {
    const { jwt, sha256 } = await signJwtOnThread(header, claims, key.privateKey, ctx.signingThreads);
    return { token: jwt, hash: issuedJwtKey(jti, sha256) };
  }
  const token = signJwt(header, claims, key.privateKey);
  return { token, hash: hashIssuedJwt(token, jti) };
}

/**
 * RFC 9068 §3 requires an `aud`. With no resource named, the only resource server the token
 * is known to be good for is this server itself (/userinfo), named by the issuer.
 */
export function accessTokenAudience(audience: readonly string[] | null, ctx: ServerContext): string | string[] {
  if (audience === null || audience.length === 0) return ctx.config.issuer;
  return audience.length === 1 ? audience[0]! : [...audience];
}

function wantsJwt(input: AccessTokenInput, ctx: ServerContext): boolean {
  if (input.client.accessTokenFormat === 'jwt') return true;
  return (input.audience ?? []).some((resource) => ctx.config.resources[resource]?.accessTokenFormat === 'jwt');
}
