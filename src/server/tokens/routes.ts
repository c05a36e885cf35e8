import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { readClientCredentials } from '../http/client-credentials.ts';
import { formParams } from '../http/form-body.ts';
import { optionalParam, repeatableParam, requiredParam, type Params } from '../http/params.ts';
import { parseResources } from '../resources/resource-indicators.ts';
import { exchangeAuthorizationCode } from './authorization-code-grant.ts';
import { authenticateClient } from './client-authentication.ts';
import { exchangeClientCredentials } from './client-credentials-grant.ts';
import { introspect, mayIntrospect } from './introspection.ts';
import type { TokenResponse } from './issue-tokens.ts';
import { exchangeRefreshToken } from './refresh-token-grant.ts';
import { revokeToken } from './revocation.ts';
import { recordAuditEvent } from '../audit/audit-trail.ts';

const supportedGrantTypes = new Set(['authorization_code', 'refresh_token', 'client_credentials']);

export function tokenRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const max = ctx.config.maxParameterLength;
  const resources = (params: Params) => parseResources(repeatableParam(params, 'resource', max));

  app.post('/token', async (request, reply) => {
    const params = formParams(request);
    const grantType = requiredParam(params, 'grant_type', 128);
    if (!supportedGrantTypes.has(grantType)) {
      throw new OAuthError(
        'unsupported_grant_type',
        `grant_type "${grantType}" is not supported; use authorization_code, refresh_token or client_credentials`,
      );
    }
    const client = await authenticateClient(readClientCredentials(request.headers.authorization, params), ctx);
    if (!client.grantTypes.includes(grantType)) {
      throw new OAuthError('unauthorized_client', `this client may not use grant_type "${grantType}"`);
    }
    let tokens: TokenResponse;
    if (grantType === 'authorization_code') {
      tokens = await exchangeAuthorizationCode(
        {
          code: requiredParam(params, 'code', 256),
          redirectUri: optionalParam(params, 'redirect_uri', max),
          codeVerifier: optionalParam(params, 'code_verifier', 256),
          resources: resources(params),
        },
        client,
        ctx,
      );
    } else if (grantType === 'refresh_token') {
      tokens = await exchangeRefreshToken(
        { refreshToken: requiredParam(params, 'refresh_token', 256), scope: optionalParam(params, 'scope', max), resources: resources(params) },
        client,
        ctx,
      );
    } else {
      tokens = await exchangeClientCredentials({ scope: optionalParam(params, 'scope', max), resources: resources(params) }, client, ctx);
    }
    // RFC 6749 §5.1: token responses must not be cached.
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(tokens);
  });

  // RFC 7662: introspection, for resource servers that authenticate as confidential clients.
  app.post('/introspect', async (request, reply) => {
    const params = formParams(request);
    const client = await authenticateClient(readClientCredentials(request.headers.authorization, params), ctx);
    if (!mayIntrospect(client)) throw new OAuthError('unauthorized_client', 'only confidential clients may introspect tokens');
    const token = requiredParam(params, 'token', 8192);
    const result = await introspect(token, optionalParam(params, 'token_type_hint', 64), ctx);
    return reply.header('cache-control', 'no-store').send(result);
  });

  // RFC 7009: revocation, for the client a token was issued to.
  app.post('/revoke', async (request, reply) => {
    const params = formParams(request);
    const client = await authenticateClient(readClientCredentials(request.headers.authorization, params), ctx);
    const token = requiredParam(params, 'token', 8192);
    optionalParam(params, 'token_type_hint', 64);
    const revoked = await revokeToken(token, client, ctx);
    if (revoked !== undefined) {
      await recordAuditEvent(
        {
          actor: `client:${client.id}`,
          action: 'token_revoked',
          subject: revoked.accountId === null ? `client:${client.id}` : `account:${revoked.accountId}`,
          detail: { token_type: revoked.tokenType, client_id: client.id },
          ip: request.ip,
        },
        ctx.storage,
        ctx.clock,
      );
    }
    return reply.header('cache-control', 'no-store').code(200).send();
  });
}
