import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { readClientCredentials } from './read-client-credentials.ts';
import { optionalParam, repeatableParam, requiredParam, type Params } from '../http/params.ts';
import { parseResources } from './resource-indicators.ts';
import { exchangeAuthorizationCode } from './authorization-code-grant.ts';
import { authenticateClient } from './client-authentication.ts';
import { exchangeClientCredentials } from './client-credentials-grant.ts';
import { introspect, mayIntrospect, type IntrospectionResponse } from './introspection.ts';
import type { TokenResponse } from './issue-tokens.ts';
import { exchangeRefreshToken } from './refresh-token-grant.ts';

/**
 * The token and introspection endpoints as functions of what the client sent: its form
 * parameters and its Authorization header. They know nothing of HTTP frameworks, so the server
 * can serve them straight from `node:http` (http/machine-endpoints.ts).
 */

const supportedGrantTypes = new Set(['authorization_code', 'refresh_token', 'client_credentials']);

/** RFC 6749 §3.2: the token endpoint, for the three grants Gatehouse supports. */
export async function tokenEndpoint(params: Params, authorization: string | undefined, ctx: ServerContext): Promise<TokenResponse> {
  const max = ctx.config.maxParameterLength;
  const grantType = requiredParam(params, 'grant_type', 128);
  if (!supportedGrantTypes.has(grantType)) {
    throw new OAuthError(
      'unsupported_grant_type',
      `grant_type "${grantType}" is not supported; use authorization_code, refresh_token or client_credentials`,
    );
  }
  const client = await authenticateClient(readClientCredentials(authorization, params), ctx);
  if (!client.grantTypes.includes(grantType)) {
    throw new OAuthError('unauthorized_client', `this client may not use grant_type "${grantType}"`);
  }
  if (grantType === 'authorization_code') {
    return exchangeAuthorizationCode(
      {
        code: requiredParam(params, 'code', 256),
        redirectUri: optionalParam(params, 'redirect_uri', max),
        codeVerifier: optionalParam(params, 'code_verifier', 256),
        resources: requestedResources(params, max),
      },
      client,
      ctx,
    );
  }
  if (grantType === 'refresh_token') {
    return exchangeRefreshToken(
      { refreshToken: requiredParam(params, 'refresh_token', 256), scope: optionalParam(params, 'scope', max), resources: requestedResources(params, max) },
      client,
      ctx,
    );
  }
  return exchangeClientCredentials({ scope: optionalParam(params, 'scope', max), resources: requestedResources(params, max) }, client, ctx);
}

/** RFC 8707 §2: the resources the request names, if any. */
function requestedResources(params: Params, maxLength: number): string[] | undefined {
  return parseResources(repeatableParam(params, 'resource', maxLength));
}

/** RFC 7662: introspection, for resource servers that authenticate as confidential clients. */
export async function introspectionEndpoint(
  params: Params,
  authorization: string | undefined,
  ctx: ServerContext,
): Promise<IntrospectionResponse> {
  const client = await authenticateClient(readClientCredentials(authorization, params), ctx);
  if (!mayIntrospect(client)) throw new OAuthError('unauthorized_client', 'only confidential clients may introspect tokens');
  const token = requiredParam(params, 'token', 8192);
  return introspect(token, optionalParam(params, 'token_type_hint', 64), client, ctx);
}
