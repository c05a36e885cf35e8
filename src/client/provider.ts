import { OAuthError } from '../shared/oauth-error.ts';

/** What the client knows about one provider ("Their", in the seed). */
export interface Provider {
  /** Short name used as the key in the vault and in links: `gatehouse`, `github`, … */
  id: string;
  /** Shown on the "Sign in with …" button. */
  displayName: string;
  /** OpenID Connect issuer, when the provider is one: enables ID token and `iss` checks. */
  issuer?: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  userinfoEndpoint?: string;
  jwksUri?: string;
  clientId: string;
  clientSecret?: string;
  /** How the client authenticates at the token endpoint. */
  tokenEndpointAuth: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Scopes asked for when the caller names none. */
  defaultScopes: string[];
  /** Extra authorization parameters the provider needs (Google's `access_type=offline`, …). */
  extraAuthorizationParams?: Record<string, string>;
  /** Whether the provider accepts PKCE (almost all do; sending it to one that does not is harmless). */
  pkce: boolean;
  /** Whether the provider sends `iss` in the authorization response (RFC 9207). */
  authorizationResponseIssParameter?: boolean;
  /** Turns the provider's user info (and ID token claims) into a normalized profile. */
  profileFrom(userinfo: Record<string, unknown>, idTokenClaims: Record<string, unknown> | undefined): Profile;
  /** Extra headers for the userinfo request (GitHub wants its media type). */
  userinfoHeaders?: Record<string, string>;
}

/** A user as every provider is made to describe them. */
export interface Profile {
  /** The provider's stable identifier of the user (`sub`, GitHub's numeric id, …). */
  subject: string;
  name?: string;
  username?: string;
  email?: string;
  /** True only when the provider says the address is verified. */
  emailVerified: boolean;
  picture?: string;
  raw: Record<string, unknown>;
}

export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
}

/**
 * Any OpenID Connect provider, configured from its discovery document (OpenID Connect Discovery
 * 1.0 §4); the issuer in the document must equal the one asked for (§4.3).
 */
export async function discoverProvider(
  issuer: string,
  credentials: ClientCredentials & { id?: string; displayName?: string; defaultScopes?: string[] },
  fetchImpl: typeof fetch = fetch,
): Promise<Provider> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetchImpl(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new OAuthError('temporarily_unavailable', `discovery at ${url} answered ${response.status}`);
  const metadata = (await response.json()) as Record<string, unknown>;
  if (metadata.issuer !== issuer) {
    throw new OAuthError('invalid_request', `discovery document names issuer "${String(metadata.issuer)}", expected "${issuer}"`);
  }
  const endpoint = (name: string): string => {
    const value = metadata[name];
    if (typeof value !== 'string') throw new OAuthError('invalid_request', `discovery document has no ${name}`);
    return value;
  };
  const methods = Array.isArray(metadata.token_endpoint_auth_methods_supported) ? metadata.token_endpoint_auth_methods_supported : ['client_secret_basic'];
  return {
    id: credentials.id ?? new URL(issuer).hostname,
    displayName: credentials.displayName ?? new URL(issuer).hostname,
    issuer,
    authorizationEndpoint: endpoint('authorization_endpoint'),
    tokenEndpoint: endpoint('token_endpoint'),
    ...(typeof metadata.userinfo_endpoint === 'string' ? { userinfoEndpoint: metadata.userinfo_endpoint } : {}),
    jwksUri: endpoint('jwks_uri'),
    clientId: credentials.clientId,
    ...(credentials.clientSecret === undefined ? {} : { clientSecret: credentials.clientSecret }),
    tokenEndpointAuth:
      credentials.clientSecret === undefined ? 'none' : methods.includes('client_secret_basic') ? 'client_secret_basic' : 'client_secret_post',
    defaultScopes: credentials.defaultScopes ?? ['openid', 'profile', 'email'],
    pkce: true,
    authorizationResponseIssParameter: metadata.authorization_response_iss_parameter_supported === true,
    profileFrom: standardProfile,
  };
}

/** OpenID Connect standard claims (Core §5.1) as a profile. */
export function standardProfile(userinfo: Record<string, unknown>, idTokenClaims: Record<string, unknown> | undefined): Profile {
  const claims = { ...idTokenClaims, ...userinfo };
  return {
    subject: subjectOf(claims.sub),
    ...optionalString('name', claims.name),
    ...optionalString('username', claims.preferred_username),
    ...optionalString('email', claims.email),
    emailVerified: claims.email_verified === true,
    ...optionalString('picture', claims.picture),
    raw: claims,
  };
}

/**
 * A provider's user identifier as a string; '' when it is missing, which `completeSignIn` refuses
 * (`String(undefined)` would give every such user the same subject "undefined", one account).
 */
export function subjectOf(value: unknown): string {
  if (typeof value === 'string') return value;
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : '';
}

export function optionalString<K extends string>(key: K, value: unknown): { [P in K]?: string } {
  return (typeof value === 'string' && value !== '' ? { [key]: value } : {}) as { [P in K]?: string };
}
