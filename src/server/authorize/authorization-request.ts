import { OAuthError } from '../../shared/oauth-error.ts';
import { formatScope, isSubset, parseScope } from '../../shared/scope.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import { matchRedirectUri } from '../clients/redirect-uri.ts';
import type { ServerContext } from '../context.ts';
import { checkCodeChallenge } from './pkce.ts';

/** The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3), as strings. */
export interface AuthorizationParameters {
  clientId?: string | undefined;
  redirectUri?: string | undefined;
  responseType?: string | undefined;
  scope?: string | undefined;
  state?: string | undefined;
  codeChallenge?: string | undefined;
  codeChallengeMethod?: string | undefined;
}

/** Where errors about a request may be sent once the client and redirect URI are trusted. */
export interface TrustedRedirect {
  client: ClientRecord;
  redirectUri: string;
  state: string | undefined;
}

export interface AuthorizationRequest extends TrustedRedirect {
  scopes: string[];
  codeChallenge: string | undefined;
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
    throw new OAuthError('unsupported_response_type', `"response_type" must be "code" (got "${params.responseType}")`);
  }
  if (!client.grantTypes.includes('authorization_code')) {
    throw new OAuthError('unauthorized_client', 'this client may not use the authorization code grant');
  }
  const scopes = resolveScopes(params.scope, client, ctx);
  const codeChallenge = checkCodeChallenge(params.codeChallenge, params.codeChallengeMethod);
  // RFC 9700 §2.1.1 and OAuth 2.1: public clients cannot authenticate, so PKCE is what binds the code to them.
  if (client.type === 'public' && codeChallenge === undefined) {
    throw new OAuthError('invalid_request', '"code_challenge" is required for public clients (PKCE, RFC 7636)');
  }
  return { ...trusted, scopes, codeChallenge };
}

/** RFC 6749 §3.3: no scope means the client's registered default; more than registered is refused. */
function resolveScopes(scope: string | undefined, client: ClientRecord, ctx: ServerContext): string[] {
  if (scope === undefined) return client.scopes;
  const requested = parseScope(scope);
  ctx.scopes.requireKnown(requested);
  if (!isSubset(requested, client.scopes)) {
    const extra = requested.filter((name) => !client.scopes.includes(name));
    throw new OAuthError(
      'invalid_scope',
      `client "${client.name}" is not registered for scope "${formatScope(extra)}"`,
    );
  }
  return requested;
}
