/**
 * The records domains read and write through `Storage`. Times are milliseconds since the Unix
 * epoch; secrets (client secrets, codes, tokens, session ids) appear only as SHA-256 hashes.
 */

export type ClientType = 'public' | 'confidential';

export interface ClientRecord {
  id: string;
  /** SHA-256 of the client secret (base64url); null for public clients. */
  secretHash: string | null;
  name: string;
  type: ClientType;
  redirectUris: string[];
  grantTypes: string[];
  /** Scopes the client may request; also what it gets when it sends no `scope`. */
  scopes: string[];
  /** Per-client override of the server's access token lifetime; null uses the default. */
  accessTokenTtlSeconds: number | null;
  refreshTokenTtlSeconds: number | null;
  /** Opaque (the default) or RFC 9068 JWT access tokens. */
  accessTokenFormat: AccessTokenFormat;
  /** Resource indicators (RFC 8707) the client may ask tokens for; they become the `aud`. */
  resources: string[];
  /**
   * How the client authenticates at /token, /introspect and /revoke (RFC 7591 §2); any other
   * method is refused. `none` for public clients, one of the secret methods for confidential ones.
   */
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /**
   * Whether remembered consent lets a request through without the consent page. `always_ask`
   * (the default for public clients) shows consent every time: anyone can send a public client's
   * ID with a loopback redirect URI, so remembered consent proves nothing about who asks
   * (RFC 8252 §8.6, RFC 6749 §10.2).
   */
  consentPolicy: ConsentPolicy;
  /** May introspect tokens issued to other clients (RFC 7662 §2.1, §4); its own tokens always. */
  canIntrospect: boolean;
  /**
   * The resource identifiers (RFC 8707) this client serves as a resource server. An access token
   * with an audience is described only to a caller that serves one of its audiences.
   */
  servedResources: string[];
  createdAt: number;
}

export type AccessTokenFormat = 'opaque' | 'jwt';
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';
export type ConsentPolicy = 'remember' | 'always_ask';

export interface AccountRecord {
  /** The stable subject identifier (`sub`). */
  id: string;
  username: string;
  passwordHash: string;
  name: string | null;
  email: string | null;
  emailVerified: boolean;
  /** May use the admin console and the admin API. */
  isAdmin: boolean;
  /** A disabled account cannot log in; its sessions and tokens are revoked when disabled. */
  disabledAt: number | null;
  createdAt: number;
}

export interface SessionRecord {
  idHash: string;
  accountId: string;
  /** When the user last entered their password (OIDC `auth_time`). */
  authTime: number;
  expiresAt: number;
  createdAt: number;
}

/** Remembered consent: what one account has allowed one client. */
export interface GrantRecord {
  /**
   * Which consent this is: new each time consent is given from scratch, kept when a consent is
   * extended to more scopes. Codes and refresh tokens carry it, so revoking the consent, or
   * consenting anew after a revocation, never revives what descends from the old one.
   */
  id: string;
  accountId: string;
  clientId: string;
  scopes: string[];
  createdAt: number;
  updatedAt: number;
  /** When the client last obtained tokens with this grant; null if never since consent. */
  lastUsedAt: number | null;
}

export interface AuthorizationCodeRecord {
  hash: string;
  /** The token family its redemption starts; replaying the code revokes that family. */
  familyId: string;
  /** The consent (`GrantRecord.id`) the code was issued under; it redeems only while that grant exists. */
  grantId: string;
  clientId: string;
  accountId: string;
  redirectUri: string;
  scopes: string[];
  /** S256 code challenge (RFC 7636 §4.2); null when the request carried none. */
  codeChallenge: string | null;
  /** OpenID Connect nonce, echoed in the ID token. */
  nonce: string | null;
  /** RFC 8707 resources the authorization request named; null when it named none. */
  resources: string[] | null;
  authTime: number;
  expiresAt: number;
  consumedAt: number | null;
  /**
   * When the cleanup may delete the row: its expiry until it is consumed; then as long as what
   * its redemption issued can live, so that a late replay is still known as one (and revokes it).
   */
  retainUntil: number;
  createdAt: number;
}

export interface AccessTokenRecord {
  hash: string;
  familyId: string;
  clientId: string;
  accountId: string | null;
  scopes: string[];
  /** The resources the token is for (`aud`); null means no audience restriction. */
  audience: string[] | null;
  expiresAt: number;
  revokedAt: number | null;
  createdAt: number;
}

export interface RefreshTokenRecord {
  hash: string;
  familyId: string;
  /** The consent (`GrantRecord.id`) the family descends from; it refreshes only while that grant exists. */
  grantId: string;
  /** When the family's code was redeemed: its rotations end at this plus the family's maximum age. */
  familyCreatedAt: number;
  clientId: string;
  accountId: string;
  /** The scope the resource owner granted: the most a refresh may ask for (RFC 6749 §6). */
  scopes: string[];
  authTime: number;
  expiresAt: number;
  /** Set when the token was exchanged for its successor. */
  rotatedAt: number | null;
  revokedAt: number | null;
  /** The resources granted with the code; a refresh may ask for fewer (RFC 8707 §2.2). */
  resources: string[] | null;
  createdAt: number;
}

export type SigningAlgorithm = 'RS256' | 'ES256';

export interface SigningKeyRecord {
  kid: string;
  alg: SigningAlgorithm;
  /** The public JWK, as published at /jwks. */
  publicJwk: Record<string, unknown>;
  /** The private JWK encrypted with the configured key-encryption key (never stored in clear). */
  privateJwkEncrypted: string;
  /** `active` signs new tokens; `retired` only verifies until `publishUntil`. */
  state: 'active' | 'retired';
  createdAt: number;
  retiredAt: number | null;
  publishUntil: number | null;
}

/** Outcome of consuming a single-use artefact (a code, or a refresh token on rotation). */
export type ConsumeResult<T> =
  | { outcome: 'consumed'; record: T }
  | { outcome: 'already-consumed'; record: T }
  | { outcome: 'unknown' };

/** One line of the audit trail: who did what to what, and when. */
export interface AuditEventRecord {
  id: string;
  at: number;
  /** `account:<id>`, `client:<id>`, `cli` or `anonymous`. */
  actor: string;
  /** e.g. `login`, `login_failed`, `consent`, `token_revoked`, `client_created`. */
  action: string;
  subject: string | null;
  detail: Record<string, unknown>;
  ip: string | null;
}
