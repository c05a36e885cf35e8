export {
  createAccessTokenVerifier,
  requireScopes,
  type AccessTokenVerifier,
  type BearerRequest,
  type IntrospectionOptions,
  type ResourceServerOptions,
  type VerifiedAccessToken,
} from './verify-access-token.ts';
export { fastifyResourceServer, type FastifyResourceServer } from './fastify.ts';
export { OAuthError } from '../shared/oauth-error.ts';
