import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { formParams } from '../http/form-body.ts';
import { optionalParam } from '../http/params.ts';
import { findLiveAccessToken, parseBearerHeader } from '../tokens/bearer-token.ts';
import { userinfo } from './userinfo.ts';

/** The seed's "API call" step and OpenID Connect's UserInfo endpoint (Core §5.3). */
export function userinfoRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/userinfo', async (request) => userinfo(await findLiveAccessToken(parseBearerHeader(request.headers.authorization), ctx), ctx));
  app.post('/userinfo', async (request) => userinfo(await findLiveAccessToken(bearerFromPost(request), ctx), ctx));
}

/** RFC 6750 §2.2: a POST may carry the token in a form body instead; never both (§2). */
function bearerFromPost(request: FastifyRequest): string {
  const bodyToken = request.body instanceof Map ? optionalParam(formParams(request), 'access_token', 8192) : undefined;
  if (bodyToken === undefined) return parseBearerHeader(request.headers.authorization);
  if (request.headers.authorization !== undefined) {
    throw new OAuthError('invalid_request', 'send the access token in the Authorization header or the body, not both (RFC 6750 §2)');
  }
  return bodyToken;
}
