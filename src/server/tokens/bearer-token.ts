import * as bearer from '../../shared/bearer.ts';
import type { OAuthError } from '../../shared/oauth-error.ts';
import type { AccessTokenRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { hashSecret } from '../keys/opaque-secret.ts';

const realm = 'gatehouse';

export function invalidTokenError(description: string): OAuthError {
  return bearer.invalidTokenError(description, realm);
}

/** Extracts the token of an `Authorization: Bearer` header (RFC 6750 §2.1). */
export function parseBearerHeader(header: string | undefined): string {
  return bearer.parseBearerHeader(header, realm);
}

/** The live access token a bearer value names; unknown, expired and revoked tokens are all `invalid_token`. */
export async function findLiveAccessToken(token: string, ctx: ServerContext): Promise<AccessTokenRecord> {
  const record = await ctx.storage.findAccessToken(hashSecret(token));
  if (record === undefined) throw invalidTokenError('the access token is unknown');
  if (record.revokedAt !== null) throw invalidTokenError('the access token has been revoked');
  if (record.expiresAt <= ctx.clock.now()) throw invalidTokenError('the access token has expired');
  return record;
}

/** RFC 6750 §3.1: the resource needs any one of `acceptable`. */
export function requireAnyScope(token: AccessTokenRecord, acceptable: readonly string[]): void {
  if (acceptable.some((scope) => token.scopes.includes(scope))) return;
  throw bearer.insufficientScopeError(acceptable, realm, `the access token needs one of the scopes "${acceptable.join(' ')}"`);
}
