import { OAuthError } from '../../shared/oauth-error.ts';
import type { AccessTokenRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { hashSecret } from '../secrets/opaque-secret.ts';

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const bearerHeader = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const realm = 'realm="gatehouse"';

/** RFC 6750 §3: a request without credentials gets a bare challenge, without an error code. */
export function missingTokenError(): OAuthError {
  return new OAuthError('invalid_token', 'the request has no access token', { wwwAuthenticate: `Bearer ${realm}` });
}

export function invalidTokenError(description: string): OAuthError {
  return new OAuthError('invalid_token', description, {
    wwwAuthenticate: `Bearer ${realm}, error="invalid_token", error_description="${description}"`,
  });
}

/** Extracts the token of an `Authorization: Bearer` header (RFC 6750 §2.1). */
export function parseBearerHeader(header: string | undefined): string {
  if (header === undefined || header === '') throw missingTokenError();
  const match = bearerHeader.exec(header);
  if (match === null) {
    throw new OAuthError('invalid_request', 'the Authorization header must be "Bearer <token>" (RFC 6750 §2.1)', {
      wwwAuthenticate: `Bearer ${realm}, error="invalid_request"`,
    });
  }
  return match[1]!;
}

/** The live access token a bearer value names; unknown, expired and revoked tokens are all `invalid_token`. */
export async function findLiveAccessToken(token: string, ctx: ServerContext): Promise<AccessTokenRecord> {
  const record = await ctx.storage.findAccessToken(hashSecret(token));
  if (record === undefined) throw invalidTokenError('the access token is unknown');
  if (record.revokedAt !== null) throw invalidTokenError('the access token has been revoked');
  if (record.expiresAt <= ctx.clock.now()) throw invalidTokenError('the access token has expired');
  return record;
}

/** RFC 6750 §3.1: the token is fine but lacks the scope the resource needs. */
export function requireAnyScope(token: AccessTokenRecord, acceptable: readonly string[]): void {
  if (acceptable.some((scope) => token.scopes.includes(scope))) return;
  const scope = acceptable.join(' ');
  throw new OAuthError('insufficient_scope', `the access token needs one of the scopes "${scope}"`, {
    wwwAuthenticate: `Bearer ${realm}, error="insufficient_scope", scope="${scope}"`,
  });
}
