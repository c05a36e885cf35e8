import { standardProfile, type ClientCredentials, type Provider } from '../provider.ts';

/**
 * Google (OpenID Connect, issuer https://accounts.google.com). Quirk: a refresh token is issued
 * only with `access_type=offline`, and only on the first consent unless `prompt=consent` asks
 * again — so both are always sent. Endpoints are those of Google's discovery document.
 */
export function googleProvider(credentials: ClientCredentials): Provider {
  return {
    id: 'google',
    displayName: 'Google',
    issuer: 'https://accounts.google.com',
    authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenEndpoint: 'https://oauth2.googleapis.com/token',
    userinfoEndpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
    jwksUri: 'https://www.googleapis.com/oauth2/v3/certs',
    clientId: credentials.clientId,
    ...(credentials.clientSecret === undefined ? {} : { clientSecret: credentials.clientSecret }),
    tokenEndpointAuth: 'client_secret_post',
    defaultScopes: ['openid', 'profile', 'email'],
    extraAuthorizationParams: { access_type: 'offline', prompt: 'consent' },
    pkce: true,
    // `iss` in the callback is checked whenever Google sends it (RFC 9207 §2.4).
    profileFrom: standardProfile,
  };
}
