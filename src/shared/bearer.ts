import { OAuthError } from './oauth-error.ts';

/**
 * Bearer token usage (RFC 6750), shared by the authorization server's own protected resource
 * (/userinfo) and the resource-server helper any API uses.
 */

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const bearerHeader = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Quoted-string content for a challenge parameter: no quotes or backslashes (RFC 7235 §2.2). */
function quoted(value: string): string {
  return value.replace(/["\\]/g, "'");
}

/** RFC 6750 §3: a request without credentials gets a bare challenge, without an error code. */
export function missingTokenError(realm: string): OAuthError {
  return new OAuthError('invalid_token', 'the request has no access token', { wwwAuthenticate: `Bearer realm="${quoted(realm)}"` });
}

export function invalidTokenError(description: string, realm: string): OAuthError {
  return new OAuthError('invalid_token', description, {
    wwwAuthenticate: `Bearer realm="${quoted(realm)}", error="invalid_token", error_description="${quoted(description)}"`,
  });
}

/** RFC 6750 §3.1: the token is fine but lacks a scope the resource needs. */
export function insufficientScopeError(scopes: readonly string[], realm: string, description?: string): OAuthError {
  const scope = scopes.join(' ');
  return new OAuthError('insufficient_scope', description ?? `the access token needs the scope "${scope}"`, {
    wwwAuthenticate: `Bearer realm="${quoted(realm)}", error="insufficient_scope", scope="${quoted(scope)}"`,
  });
}

/** Extracts the token of an `Authorization: Bearer` header (RFC 6750 §2.1). */
export function parseBearerHeader(header: string | undefined, realm: string): string {
  if (header === undefined || header === '') throw missingTokenError(realm);
  const match = bearerHeader.exec(header);
  if (match === null) {
    throw new OAuthError('invalid_request', 'the Authorization header must be "Bearer <token>" (RFC 6750 §2.1)', {
      wwwAuthenticate: `Bearer realm="${quoted(realm)}", error="invalid_request"`,
    });
  }
  return match[1]!;
}
