import { createHash } from 'node:crypto';
import type { AccountRecord, ClientRecord, Storage } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { signJwt, signJwtOnThread } from '../keys/jws.ts';
import { claimsForScopes } from './claims.ts';

export interface IdTokenInput {
  account: AccountRecord;
  client: ClientRecord;
  scopes: readonly string[];
  authTime: number;
  nonce: string | null;
  accessToken: string;
}

/** ID tokens are signed with RS256, the algorithm every relying party supports (Core §15.1). */
export const idTokenSigningAlg = 'RS256';

/**
 * OpenID Connect Core §2 and §3.1.3.6: the ID token of a code or refresh token response, signed
 * on a signing thread. Nothing of it is stored, so it is signed once the transaction that issued
 * its access token is over (tokens/issue-tokens.ts, `withIdToken`). By then the code or the
 * refresh token it was issued for is spent, so if the signing thread fails (lost, or stopped
 * while the server closes) the token is signed here instead: the client must not lose its
 * grant to a thread, nor, retrying with a rotated refresh token, have its whole family revoked.
 */
export async function signIdToken(input: IdTokenInput, storage: Storage, ctx: ServerContext): Promise<string> {
  const key = await ctx.keys.activeKey(idTokenSigningAlg, storage);
  const now = Math.floor(ctx.clock.now() / 1000);
  const header = { alg: key.alg, kid: key.kid, typ: 'JWT' };
  const claims = {
    // The claims first: nothing in them can override the protocol's own.
    ...claimsForScopes(input.account, input.scopes),
    iss: ctx.config.issuer,
    sub: input.account.id,
    aud: input.client.id,
    iat: now,
    exp: now + ctx.config.idTokenTtlSeconds,
    azp: input.client.id,
    auth_time: Math.floor(input.authTime / 1000),
    at_hash: accessTokenHash(input.accessToken),
    ...(input.nonce === null ? {} : { nonce: input.nonce }),
  };
  try {
    return (await signJwtOnThread(header, claims, key.privateKey, ctx.signingThreads)).jwt;
  } catch {
    return signJwt(header, claims, key.privateKey);
  }
}

/** Core §3.1.3.6: base64url of the left half of the SHA-256 of the access token (RS256/ES256). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}
