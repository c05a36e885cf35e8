import { compactVerify, createLocalJWKSet, decodeJwt } from 'jose';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';

/**
 * Core §3.1.2.1: `id_token_hint` is an ID token this server issued earlier, naming the user the
 * client expects. Its signature and issuer are checked (an expired one is fine: it is a hint,
 * not a credential); anything else — malformed, `alg: none`, unknown `kid`, tampered, another
 * issuer or client — is `invalid_request`. Returns the `sub` it names.
 */
export async function verifyIdTokenHint(hint: string, clientId: string, ctx: ServerContext): Promise<string> {
  const fail = (why: string): never => {
    throw new OAuthError('invalid_request', `"id_token_hint" ${why}`);
  };
  if (hint.length > 8192 || hint.split('.').length !== 3) return fail('is not a signed JWT');
  const jwks = createLocalJWKSet(await ctx.keys.publicJwks());
  try {
    await compactVerify(hint, jwks, { algorithms: ['RS256', 'ES256'] });
  } catch {
    return fail('is not an ID token signed by this server');
  }
  const claims = decodeJwt(hint);
  if (claims.iss !== ctx.config.issuer) fail('was issued by another server');
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audience.includes(clientId)) fail('was issued to another client');
  if (typeof claims.sub !== 'string') fail('has no subject');
  return claims.sub as string;
}
