import { standardProfile, type Profile, type Provider } from '../provider.ts';

export interface GenericProviderOptions {
  id: string;
  displayName: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  userinfoEndpoint?: string;
  clientId: string;
  clientSecret?: string;
  scopes?: string[];
  tokenEndpointAuth?: Provider['tokenEndpointAuth'];
  /** Defaults to the OpenID Connect standard claims. */
  profileFrom?: (userinfo: Record<string, unknown>) => Profile;
}

/** Any OAuth 2.0 provider given by explicit endpoints (no discovery, no ID token). */
export function genericProvider(options: GenericProviderOptions): Provider {
  return {
    id: options.id,
    displayName: options.displayName,
    authorizationEndpoint: options.authorizationEndpoint,
    tokenEndpoint: options.tokenEndpoint,
    ...(options.userinfoEndpoint === undefined ? {} : { userinfoEndpoint: options.userinfoEndpoint }),
    clientId: options.clientId,
    ...(options.clientSecret === undefined ? {} : { clientSecret: options.clientSecret }),
    tokenEndpointAuth: options.tokenEndpointAuth ?? (options.clientSecret === undefined ? 'none' : 'client_secret_basic'),
    defaultScopes: options.scopes ?? [],
    pkce: true,
    profileFrom: options.profileFrom === undefined ? standardProfile : (userinfo) => options.profileFrom!(userinfo),
  };
}
