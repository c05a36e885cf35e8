import { OAuthError, type OAuthErrorCode } from '../shared/oauth-error.ts';
import { parseScope } from '../shared/scope.ts';
import type { Clock } from '../shared/clock.ts';
import type { Provider } from './provider.ts';

/** A token response, normalized across providers. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Granted scopes: the response's `scope`, or what was asked when it is omitted (RFC 6749 §5.1). */
  scopes: string[];
  /** Epoch milliseconds; undefined for tokens that do not expire (GitHub OAuth apps). */
  expiresAt?: number;
}

/** An error answer of a provider's token endpoint, keeping its RFC 6749 §5.2 code. */
export class TokenEndpointError extends OAuthError {}

/** POSTs a grant to the provider's token endpoint with the client authentication it expects. */
export async function requestTokens(
  provider: Provider,
  grant: Record<string, string>,
  requestedScopes: readonly string[],
  clock: Clock,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 10_000,
): Promise<TokenSet> {
  const body = new URLSearchParams(grant);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (provider.tokenEndpointAuth === 'client_secret_basic') {
    // RFC 6749 §2.3.1: form-urlencode each part before base64.
    const pair = `${encodeURIComponent(provider.clientId)}:${encodeURIComponent(provider.clientSecret ?? '')}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  } else {
    body.set('client_id', provider.clientId);
    if (provider.tokenEndpointAuth === 'client_secret_post' && provider.clientSecret !== undefined) {
      body.set('client_secret', provider.clientSecret);
    }
  }
  let response: Response;
  try {
    // Bounded, so a hung provider cannot outlive the vault's refresh lease.
    response = await fetchImpl(provider.tokenEndpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new OAuthError('temporarily_unavailable', `${provider.displayName} cannot be reached`, { cause: error });
  }
  const json = await readJson(response);
  return parseTokenResponse(json, response.status, requestedScopes, clock);
}

/**
 * RFC 6749 §5.1 and §5.2, tolerant of documented provider quirks: `expires_in` as a string
 * (Naver), a missing `expires_in` (GitHub OAuth apps: the token does not expire), and an error
 * reported with status 200 (GitHub).
 */
export function parseTokenResponse(json: Record<string, unknown>, status: number, requestedScopes: readonly string[], clock: Clock): TokenSet {
  if (typeof json.error === 'string') {
    const description = typeof json.error_description === 'string' ? json.error_description : json.error;
    throw new TokenEndpointError(normalizeErrorCode(json.error), description);
  }
  if (status < 200 || status >= 300) throw new TokenEndpointError('server_error', `the token endpoint answered ${status}`);
  if (typeof json.access_token !== 'string' || json.access_token === '') {
    throw new TokenEndpointError('server_error', 'the token response has no access_token');
  }
  const tokenType = typeof json.token_type === 'string' ? json.token_type.toLowerCase() : 'bearer';
  if (tokenType !== 'bearer') throw new TokenEndpointError('server_error', `unsupported token_type "${String(json.token_type)}"`);
  const expiresIn = json.expires_in === undefined || json.expires_in === null ? undefined : Number(json.expires_in);
  if (expiresIn !== undefined && (!Number.isFinite(expiresIn) || expiresIn < 0)) {
    throw new TokenEndpointError('server_error', `the token response has an invalid expires_in "${String(json.expires_in)}"`);
  }
  // GitHub separates scopes with commas.
  const scope = typeof json.scope === 'string' ? json.scope.replaceAll(',', ' ').trim() : undefined;
  return {
    accessToken: json.access_token,
    ...(typeof json.refresh_token === 'string' && json.refresh_token !== '' ? { refreshToken: json.refresh_token } : {}),
    ...(typeof json.id_token === 'string' ? { idToken: json.id_token } : {}),
    scopes: scope === undefined || scope === '' ? [...requestedScopes] : parseScope(scope),
    ...(expiresIn === undefined ? {} : { expiresAt: clock.now() + expiresIn * 1000 }),
  };
}

/**
 * GitHub reports a dead refresh token as `bad_refresh_token` and a dead code as
 * `bad_verification_code`; both mean RFC 6749's `invalid_grant`. Unknown codes are kept as
 * they are and treated as a server error by callers.
 */
function normalizeErrorCode(error: string): OAuthErrorCode {
  if (error === 'bad_refresh_token' || error === 'bad_verification_code') return 'invalid_grant';
  return error as OAuthErrorCode;
}

async function readJson(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Some providers answer form-encoded when they ignore `Accept`.
    const params = new URLSearchParams(text);
    if (params.has('access_token') || params.has('error')) return Object.fromEntries(params);
  }
  throw new TokenEndpointError('server_error', `the token endpoint answered ${response.status} without a JSON object`);
}
