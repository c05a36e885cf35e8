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
  created_at: number;
}

export interface AccountsTable {
  id: string;
  username: string;
  password_hash: string;
  name: string | null;
  email: string | null;
  email_verified: number;
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
  account_id: string;
  client_id: string;
  scopes: string;
  created_at: number;
  updated_at: number;
}

export interface AuthorizationCodesTable {
  hash: string;
  family_id: string;
  client_id: string;
  account_id: string;
  redirect_uri: string;
  scopes: string;
  code_challenge: string | null;
  auth_time: number;
  expires_at: number;
  consumed_at: number | null;
  created_at: number;
}

export interface AccessTokensTable {
  hash: string;
  family_id: string;
  client_id: string;
  account_id: string | null;
  scopes: string;
  expires_at: number;
  revoked_at: number | null;
  created_at: number;
}

export interface RefreshTokensTable {
  hash: string;
  family_id: string;
  client_id: string;
  account_id: string;
  scopes: string;
  auth_time: number;
  expires_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
  created_at: number;
}
