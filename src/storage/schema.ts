/**
 * Table shapes as Kysely sees them. Booleans are 0/1 integers and lists are JSON text so that one
 * schema runs on SQLite and PostgreSQL; times are epoch milliseconds (bigint).
 */
export interface Database {
  clients: ClientsTable;
  accounts: AccountsTable;
  sessions: SessionsTable;
  grants: GrantsTable;
  authorization_codes: AuthorizationCodesTable;
  access_tokens: AccessTokensTable;
  refresh_tokens: RefreshTokensTable;
  signing_keys: SigningKeysTable;
  audit_events: AuditEventsTable;
}

export interface ClientsTable {
  id: string;
  secret_hash: string | null;
  name: string;
  type: string;
  redirect_uris: string;
  grant_types: string;
  scopes: string;
  access_token_ttl_seconds: number | null;
  refresh_token_ttl_seconds: number | null;
  access_token_format: string;
  resources: string;
  token_endpoint_auth_method: string;
  consent_policy: string;
  can_introspect: number;
  served_resources: string;
  created_at: number;
}

export interface AccountsTable {
  id: string;
  username: string;
  /** `usernameKey(username)` (username-key.ts), unique: what login and the duplicate check compare. */
  username_key: string;
  password_hash: string;
  name: string | null;
  email: string | null;
  email_verified: number;
  is_admin: number;
  disabled_at: number | null;
  created_at: number;
}

export interface SessionsTable {
  id_hash: string;
  account_id: string;
  auth_time: number;
  expires_at: number;
  created_at: number;
}

export interface GrantsTable {
  id: string;
  account_id: string;
  client_id: string;
  scopes: string;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
}

export interface AuthorizationCodesTable {
  hash: string;
  family_id: string;
  grant_id: string;
  client_id: string;
  account_id: string;
  redirect_uri: string;
  scopes: string;
  code_challenge: string | null;
  nonce: string | null;
  resources: string | null;
  auth_time: number;
  expires_at: number;
  consumed_at: number | null;
  retain_until: number;
  created_at: number;
}

export interface AccessTokensTable {
  hash: string;
  family_id: string;
  client_id: string;
  account_id: string | null;
  scopes: string;
  audience: string | null;
  expires_at: number;
  revoked_at: number | null;
  created_at: number;
}

export interface RefreshTokensTable {
  hash: string;
  family_id: string;
  grant_id: string;
  family_created_at: number;
  client_id: string;
  account_id: string;
  scopes: string;
  auth_time: number;
  expires_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
  resources: string | null;
  created_at: number;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk_encrypted: string;
  state: string;
  created_at: number;
  retired_at: number | null;
  publish_until: number | null;
}

export interface AuditEventsTable {
  id: string;
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  detail: string;
  ip: string | null;
}
