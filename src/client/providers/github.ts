import { optionalString, subjectOf, type ClientCredentials, type Provider } from '../provider.ts';

/**
 * GitHub OAuth apps (docs: "Authorizing OAuth apps"). Quirks:
 * - not OpenID Connect: no ID token; the profile comes from `GET https://api.github.com/user`;
 * - the token endpoint answers form-encoded unless asked for JSON (`Accept: application/json`);
 * - OAuth-app tokens do not expire and come without a refresh token (only GitHub Apps with
 *   expiring tokens get `expires_in` and `refresh_token`), which the vault handles as "valid
 *   until a 401";
 * - the `id` is numeric; `email` is null when the user keeps it private.
 */
export function githubProvider(credentials: ClientCredentials): Provider {
  return {
    id: 'github',
    displayName: 'GitHub',
    authorizationEndpoint: 'https://github.com/login/oauth/authorize',
    tokenEndpoint: 'https://github.com/login/oauth/access_token',
    userinfoEndpoint: 'https://api.github.com/user',
    userinfoHeaders: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
    clientId: credentials.clientId,
    ...(credentials.clientSecret === undefined ? {} : { clientSecret: credentials.clientSecret }),
    tokenEndpointAuth: 'client_secret_post',
    defaultScopes: ['read:user', 'user:email'],
    pkce: true,
    profileFrom(user) {
      return {
        subject: subjectOf(user.id),
        ...optionalString('name', user.name),
        ...optionalString('username', user.login),
        ...optionalString('email', user.email),
        // GitHub lists only verified addresses as the public profile email.
        emailVerified: typeof user.email === 'string',
        ...optionalString('picture', user.avatar_url),
        raw: user,
      };
    },
  };
}
