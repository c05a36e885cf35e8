import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { isOAuthError, OAuthError } from '../shared/oauth-error.ts';
import {
  createAccessTokenVerifier,
  requireScopes,
  type ResourceServerOptions,
  type VerifiedAccessToken,
} from './verify-access-token.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireAccessToken` once the request's Bearer token is verified. */
    accessToken?: VerifiedAccessToken;
  }
}

export interface FastifyResourceServer {
  /** A preHandler that admits only requests with a valid token carrying every one of `scopes`. */
  requireAccessToken(...scopes: string[]): preHandlerAsyncHookHandler;
}

/**
 * The Fastify side of the helper: a route adds `{ preHandler: api.requireAccessToken('calendar.read') }`
 * and reads `request.accessToken`. Failures answer as RFC 6750 §3 says: 401 with a Bearer
 * challenge, or 403 `insufficient_scope`, with a JSON body.
 */
export function fastifyResourceServer(options: ResourceServerOptions): FastifyResourceServer {
  const verifier = createAccessTokenVerifier(options);
  const realm = options.realm ?? options.audience;
  return {
    requireAccessToken(...scopes) {
      return async function requireAccessToken(request: FastifyRequest, reply: FastifyReply) {
        try {
          const token = await verifier.verifyAccessToken({ headers: request.headers, query: request.query as never, body: request.body });
          requireScopes(token, scopes, realm);
          request.accessToken = token;
        } catch (error) {
          const oauthError = isOAuthError(error) ? error : new OAuthError('server_error', 'the access token could not be checked');
          if (oauthError.wwwAuthenticate !== undefined) reply.header('www-authenticate', oauthError.wwwAuthenticate);
          await reply.code(oauthError.status).header('cache-control', 'no-store').send(oauthError.toJSON());
        }
      };
    },
  };
}
