import { optionalString, subjectOf, type ClientCredentials, type Provider } from '../provider.ts';

/**
 * Naver Login (developers.naver.com). Quirks:
 * - the token response gives `expires_in` as a string ("3600"), which the token-response
 *   parser accepts;
 * - the profile (`GET https://openapi.naver.com/v1/nid/me`) is wrapped: `{ resultcode, message,
 *   response: { id, nickname, name, email, profile_image } }`;
 * - scopes are chosen in the app's settings, not per request, so none are sent by default.
 */
export function naverProvider(credentials: ClientCredentials): Provider {
  return {
    id: 'naver',
    displayName: 'Naver',
    authorizationEndpoint: 'https://nid.naver.com/oauth2.0/authorize',
    tokenEndpoint: 'https://nid.naver.com/oauth2.0/token',
    userinfoEndpoint: 'https://openapi.naver.com/v1/nid/me',
    clientId: credentials.clientId,
    ...(credentials.clientSecret === undefined ? {} : { clientSecret: credentials.clientSecret }),
    tokenEndpointAuth: 'client_secret_post',
    defaultScopes: [],
    pkce: false,
    profileFrom(body) {
      const user = (body.response ?? {}) as Record<string, unknown>;
      return {
        subject: subjectOf(user.id),
        ...optionalString('name', user.name ?? user.nickname),
        ...optionalString('username', user.nickname),
        ...optionalString('email', user.email),
        // Naver returns only the account's confirmed address.
        emailVerified: typeof user.email === 'string',
        ...optionalString('picture', user.profile_image),
        raw: body,
      };
    },
  };
}
