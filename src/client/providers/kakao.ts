import { optionalString, subjectOf, type ClientCredentials, type Provider } from '../provider.ts';

/**
 * Kakao Login (developers.kakao.com). Quirks:
 * - the profile is `GET https://kapi.kakao.com/v2/user/me`, with a numeric `id` and the details
 *   nested under `kakao_account` (and its `profile`);
 * - `account_email` is granted only to business-verified apps, so the default scopes are the
 *   nickname and image, which every app may ask for;
 * - the client secret is optional (sent when the app enabled it) and goes in the body.
 */
export function kakaoProvider(credentials: ClientCredentials): Provider {
  return {
    id: 'kakao',
    displayName: 'Kakao',
    authorizationEndpoint: 'https://kauth.kakao.com/oauth/authorize',
    tokenEndpoint: 'https://kauth.kakao.com/oauth/token',
    userinfoEndpoint: 'https://kapi.kakao.com/v2/user/me',
    clientId: credentials.clientId,
    ...(credentials.clientSecret === undefined ? {} : { clientSecret: credentials.clientSecret }),
    tokenEndpointAuth: credentials.clientSecret === undefined ? 'none' : 'client_secret_post',
    defaultScopes: ['profile_nickname', 'profile_image'],
    pkce: true,
    profileFrom(user) {
      const account = (user.kakao_account ?? {}) as Record<string, unknown>;
      const profile = (account.profile ?? {}) as Record<string, unknown>;
      return {
        subject: subjectOf(user.id),
        ...optionalString('name', profile.nickname),
        ...optionalString('username', profile.nickname),
        ...optionalString('email', account.email),
        emailVerified: account.is_email_verified === true && account.is_email_valid !== false,
        ...optionalString('picture', profile.profile_image_url),
        raw: user,
      };
    },
  };
}
