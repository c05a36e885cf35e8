import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { readClientCredentials } from '../http/client-credentials.ts';
import { formParams } from '../http/form-body.ts';
import { optionalParam, requiredParam } from '../http/params.ts';
import { exchangeAuthorizationCode } from './authorization-code-grant.ts';
import { authenticateClient } from './client-authentication.ts';
import { exchangeRefreshToken } from './refresh-token-grant.ts';
import type { TokenResponse } from './issue-tokens.ts';

const supportedGrantTypes = new Set(['authorization_code', 'refresh_token']);

export function tokenRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/token', async (request, reply) => {
    const params = formParams(request);
    const grantType = requiredParam(params, 'grant_type', 128);
    if (!supportedGrantTypes.has(grantType)) {
      throw new OAuthError('unsupported_grant_type', `grant_type "${grantType}" is not supported; use authorization_code or refresh_token`);
    }
    const client = await authenticateClient(readClientCredentials(request.headers.authorization, params), ctx);
    if (!client.grantTypes.includes(grantType)) {
      throw new OAuthError('unauthorized_client', `this client may not use grant_type "${grantType}"`);
    }
    const max = ctx.config.maxParameterLength;
    let tokens: TokenResponse;
    if (grantType === 'authorization_code') {
      tokens = await exchangeAuthorizationCode(
        {
          code: requiredParam(params, 'code', 256),
          redirectUri: optionalParam(params, 'redirect_uri', max),
          codeVerifier: optionalParam(params, 'code_verifier', 256),
        },
        client,
        ctx,
      );
    } else {
      tokens = await exchangeRefreshToken(
        { refreshToken: requiredParam(params, 'refresh_token', 256), scope: optionalParam(params, 'scope', max) },
        client,
        ctx,
      );
    }
    // RFC 6749 §5.1: token responses must not be cached.
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(tokens);
  });
}
