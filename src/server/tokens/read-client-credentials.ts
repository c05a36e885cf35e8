import { OAuthError } from '../../shared/oauth-error.ts';
import type { ClientCredentials } from './client-authentication.ts';
import { optionalParam, type Params } from '../http/params.ts';

const basicChallenge = 'Basic realm="gatehouse", charset="UTF-8"';

/**
 * Reads how the client authenticates: HTTP Basic (RFC 6749 §2.3.1, with client ID and secret
 * form-urlencoded before base64), the same in the body, or a bare `client_id` for public clients.
 * RFC 6749 §2.3: a client must not use more than one method in one request.
 */
export function readClientCredentials(authorization: string | undefined, params: Params): ClientCredentials {
  const bodyId = optionalParam(params, 'client_id', 256);
  const bodySecret = optionalParam(params, 'client_secret', 256);
  if (authorization !== undefined) {
    const basic = parseBasic(authorization);
    if (bodySecret !== undefined) {
      throw new OAuthError('invalid_request', 'the client authenticated twice: use either HTTP Basic or client_secret, not both');
    }
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new OAuthError('invalid_request', '"client_id" differs from the client of the Authorization header');
    }
    return { method: 'client_secret_basic', ...basic };
  }
  if (bodyId === undefined) {
    throw new OAuthError('invalid_client', 'client authentication is required: send HTTP Basic credentials or "client_id"');
  }
  if (bodySecret !== undefined) return { method: 'client_secret_post', clientId: bodyId, clientSecret: bodySecret };
  return { method: 'none', clientId: bodyId };
}

/** RFC 6749 §2.3.1: the ID and secret are form-urlencoded (appendix B) before base64. */
function formDecode(value: string): string {
  if (!value.includes('%') && !value.includes('+')) return value;
  return decodeURIComponent(value.replaceAll('+', ' '));
}

function parseBasic(header: string): { clientId: string; clientSecret: string } {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (match === null || header.length > 1024) return malformedBasic();
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return malformedBasic();
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return malformedBasic();
  }
}

function malformedBasic(): never {
  throw new OAuthError('invalid_client', 'the Authorization header must be "Basic base64(client_id:client_secret)"', {
    wwwAuthenticate: basicChallenge,
  });
}
