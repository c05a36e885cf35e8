import { errorDescriptionText, type OAuthError } from '../../shared/oauth-error.ts';
import type { TrustedRedirect } from './authorization-request.ts';

/**
 * The redirect that carries a code back to the client (RFC 6749 §4.1.2) with `iss` (RFC 9207),
 * so a client talking to several servers can tell which one answered.
 */
export function successRedirect(target: TrustedRedirect, code: string, issuer: string): string {
  return withParams(target.redirectUri, { code, state: target.state, iss: issuer });
}

/**
 * RFC 6749 §4.1.2.1: an error sent back to a trusted redirect URI, with `state` and `iss`. The
 * description quotes nothing from the request and keeps to the RFC's characters: whoever crafted
 * the request must not choose text that the client's error page shows (content spoofing).
 */
export function errorRedirect(target: TrustedRedirect, error: OAuthError, issuer: string): string {
  return withParams(target.redirectUri, {
    error: error.code,
    error_description: errorDescriptionText(error.descriptionWithoutInput),
    state: target.state,
    iss: issuer,
  });
}

/**
 * Adds query parameters, keeping the registered URI and any query it already has byte for byte
 * (RFC 6749 §3.1.2: the query component must be retained when adding parameters).
 */
function withParams(redirectUri: string, params: Record<string, string | undefined>): string {
  const added = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) added.append(name, value);
  }
  const separator = !redirectUri.includes('?') ? '?' : redirectUri.endsWith('?') || redirectUri.endsWith('&') ? '' : '&';
  return `${redirectUri}${separator}${added}`;
}
