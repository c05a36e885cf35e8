import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.ts';
import { findLiveAccessToken, parseBearerHeader } from './bearer-token.ts';
import { userinfo } from './userinfo.ts';

/** The seed's "API call" step: a protected resource that answers with the user's profile. */
export function userinfoRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const handler = async (request: FastifyRequest) => {
    const token = await findLiveAccessToken(parseBearerHeader(request.headers.authorization), ctx);
    return userinfo(token, ctx);
  };
  app.get('/userinfo', handler);
  app.post('/userinfo', handler);
}
