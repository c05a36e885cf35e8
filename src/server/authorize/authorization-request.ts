import { OAuthError } from '../../shared/oauth-error.ts';
import { formatScope, isSubset, parseScope } from '../../shared/scope.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import { matchRedirectUri } from '../clients/redirect-uri.ts';
import type { ServerContext } from '../context.ts';
import { narrowResources, parseResources } from '../tokens/resource-indicators.ts';
import { checkCodeChallenge } from './pkce.ts';
import { adminScope } from './scope-registry.ts';

/** The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3), as strings. */
export interface AuthorizationParameters {
  clientId?: string | undefined;
  redirectUri?: string | undefined;
  responseType?: string | undefined;
  scope?: string | undefined;
  state?: string | undefined;
  codeChallenge?: string | undefined;
  codeChallengeMethod?: string | undefined;
  // OpenID Connect Core §3.1.2.1
  nonce?: string | undefined;
  prompt?: string | undefined;
  maxAge?: string | undefined;
  responseMode?: string | undefined;
  claims?: string | undefined;
  request?: string | undefined;
  requestUri?: string | undefined;
  /** RFC 8707 §2.1 (may repeat). */
  resources?: string[] | undefined;
}

export type Prompt = 'none' | 'login' | 'consent' | 'select_account';

/** Where errors about a request may be sent once the client and redirect URI are trusted. */
export interface TrustedRedirect {
  client: ClientRecord;
  redirectUri: string;
  state: string | undefined;
}

export interface AuthorizationRequest extends TrustedRedirect {
  scopes: string[];
  codeChallenge: string | undefined;
  nonce: string | undefined;
  prompt: Set<Prompt>;
  /** Seconds; the user must have logged in this recently (Core §3.1.2.1). */
  maxAge: number | undefined;
  resources: string[] | undefined;
}

/** Thrown for a request whose client or redirect URI cannot be trusted: shown as a page, never redirected. */
export class UntrustedRedirectError extends OAuthError {}

/**
 * Step 1 (RFC 6749 §4.1.2.1): identify the client and its redirect URI. Until both are known,
 * nothing may be sent to the redirect URI, or the server becomes an open redirector.
 */
export async function resolveTrustedRedirect(
  params: AuthorizationParameters,
  ctx: ServerContext,
): Promise<TrustedRedirect> {
  if (params.clientId === undefined) throw new UntrustedRedirectError('invalid_request', '"client_id" is required');
  const client = await ctx.storage.findClient(params.clientId);
  if (client === undefined) {
    // 400, not the 401 of the error table: the page is for the user, no client authentication failed.
    throw new UntrustedRedirectError('invalid_client', `there is no client with ID "${params.clientId}"`, { status: 400 });
  }
  // Always required: with exact matching there is no ambiguity to resolve, and OAuth 2.1 and
  // OpenID Connect both require it.
  if (params.redirectUri === undefined) throw new UntrustedRedirectError('invalid_request', '"redirect_uri" is required');
  const redirectUri = matchRedirectUri(client, params.redirectUri);
  if (redirectUri === undefined) {
    throw new UntrustedRedirectError(
      'invalid_request',
      `"redirect_uri" is not registered for client "${client.name}"`,
    );
  }
  return { client, redirectUri, state: params.state };
}

/** Step 2: the rest of the request. Errors from here on are redirected to the client. */
export function validateAuthorizationRequest(
  trusted: TrustedRedirect,
  params: AuthorizationParameters,
  ctx: ServerContext,
): AuthorizationRequest {
  const { client } = trusted;
  if (params.responseType === undefined) throw new OAuthError('invalid_request', '"response_type" is required');
  if (params.responseType !== 'code') {
    throw new OAuthError('unsupported_response_type', `"response_type" must be "code" (got "${params.responseType}")`, {
      descriptionWithoutInput: '"response_type" must be "code"',
    });
  }
  if (!client.grantTypes.includes('authorization_code')) {
    throw new OAuthError('unauthorized_client', 'this client may not use the authorization code grant');
  }
  // Core §6: request objects are not supported, and saying so beats silently ignoring them.
  if (params.request !== undefined) throw new OAuthError('request_not_supported', 'the "request" parameter (request objects) is not supported');
  if (params.requestUri !== undefined) throw new OAuthError('request_uri_not_supported', 'the "request_uri" parameter is not supported');
  if (params.responseMode !== undefined && params.responseMode !== 'query') {
    throw new OAuthError('invalid_request', `"response_mode" must be "query" for response_type=code (got "${params.responseMode}")`, {
      descriptionWithoutInput: '"response_mode" must be "query" for response_type=code',
    });
  }
  const scopes = resolveScopes(params.scope, client, ctx);
  const codeChallenge = checkCodeChallenge(params.codeChallenge, params.codeChallengeMethod);
  // RFC 9700 §2.1.1 and OAuth 2.1: public clients cannot authenticate, so PKCE is what binds the code to them.
  if (client.type === 'public' && codeChallenge === undefined) {
    throw new OAuthError('invalid_request', '"code_challenge" is required for public clients (PKCE, RFC 7636)');
  }
  if (params.claims !== undefined) checkClaimsParameter(params.claims);
  const resources = parseResources(params.resources);
  narrowResources(resources, client.resources, null);
  return {
    ...trusted,
    scopes,
    codeChallenge,
    nonce: params.nonce,
    prompt: parsePrompt(params.prompt),
    maxAge: parseMaxAge(params.maxAge),
    resources,
  };
}

const prompts: readonly Prompt[] = ['none', 'login', 'consent', 'select_account'];

/** Core §3.1.2.1: space-separated; `none` must stand alone. */
function parsePrompt(value: string | undefined): Set<Prompt> {
  if (value === undefined) return new Set();
  const values = value.split(' ').filter((part) => part !== '');
  const unknown = values.find((part) => !prompts.includes(part as Prompt));
  if (unknown !== undefined) {
    throw new OAuthError('invalid_request', `"prompt" value "${unknown}" is not one of ${prompts.join(', ')}`, {
      descriptionWithoutInput: `"prompt" values must be among ${prompts.join(', ')}`,
    });
  }
  const set = new Set(values as Prompt[]);
  if (set.has('none') && set.size > 1) throw new OAuthError('invalid_request', '"prompt=none" cannot be combined with other values');
  return set;
}

function parseMaxAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value)) throw new OAuthError('invalid_request', '"max_age" must be a whole number of seconds');
  return Number(value);
}

/** Core §5.5: `claims` is a JSON object; the claims it names are released only as scopes allow. */
function checkClaimsParameter(value: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new OAuthError('invalid_request', '"claims" must be a JSON object (OpenID Connect Core §5.5)');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OAuthError('invalid_request', '"claims" must be a JSON object (OpenID Connect Core §5.5)');
  }
}

/**
 * RFC 6749 §3.3: no scope means the client's registered default; more than registered is refused.
 * The admin scope is never granted to a user: asking for it is refused, and it is left out of the
 * default (a client registered for it holds it only for itself, through client_credentials).
 */
function resolveScopes(scope: string | undefined, client: ClientRecord, ctx: ServerContext): string[] {
  if (scope === undefined) {
    const defaults = client.scopes.filter((name) => name !== adminScope);
    if (defaults.length === 0 && client.scopes.length > 0) throw new OAuthError('invalid_scope', `client "${client.name}" is registered for no scope a user can grant`);
    return defaults;
  }
  const requested = parseScope(scope);
  ctx.scopes.requireKnown(requested);
  if (requested.includes(adminScope)) {
    throw new OAuthError('invalid_scope', `the "${adminScope}" scope cannot be requested through /authorize; an admin client obtains it with client_credentials`);
  }
  if (!isSubset(requested, client.scopes)) {
    const extra = requested.filter((name) => !client.scopes.includes(name));
    throw new OAuthError(
      'invalid_scope',
      `client "${client.name}" is not registered for scope "${formatScope(extra)}"`,
    );
  }
  return requested;
}
