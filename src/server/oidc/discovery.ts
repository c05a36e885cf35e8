import type { GatehouseConfig } from '../config/defaults.ts';
import type { ScopeRegistry } from '../authorize/scope-registry.ts';
import { supportedClaims } from './claims.ts';
import { idTokenSigningAlg } from './id-token.ts';

/**
 * The metadata of OpenID Connect Discovery 1.0 §3 and RFC 8414 §2, one document for both
 * well-known paths. `issuer` is the configured URL exactly, as clients compare it byte for byte.
 */
export function providerMetadata(config: GatehouseConfig, scopes: ScopeRegistry) {
  const base = config.issuer;
  return {
    issuer: base,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    userinfo_endpoint: `${base}/userinfo`,
    jwks_uri: `${base}/jwks`,
    introspection_endpoint: `${base}/introspect`,
    revocation_endpoint: `${base}/revoke`,
    scopes_supported: scopes.names(),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [idTokenSigningAlg],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256'],
    claims_supported: ['iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'azp', 'at_hash', ...supportedClaims],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    authorization_response_iss_parameter_supported: true,
  };
}
