import type {
  AccessTokenRecord,
  AccountRecord,
  AuthorizationCodeRecord,
  ClientRecord,
  ConsumeResult,
  GrantRecord,
  RefreshTokenRecord,
  SessionRecord,
  SigningAlgorithm,
  SigningKeyRecord,
  AuditEventRecord,
} from './records.ts';

export type * from './records.ts';

/**
 * The only way domain code reaches the database. One implementation (`KyselyStorage`) serves
 * every dialect; the conformance suite in test/storage runs against each.
 */
export interface Storage {
  /** Runs `work` in one database transaction; a throw rolls everything back. */
  transaction<T>(work: (tx: Storage) => Promise<T>): Promise<T>;
  close(): Promise<void>;

  insertClient(client: ClientRecord): Promise<void>;
  findClient(id: string): Promise<ClientRecord | undefined>;
  listClients(): Promise<ClientRecord[]>;
  /** Deletes the client with its codes, tokens and grants; false when there was none. */
  deleteClient(id: string): Promise<boolean>;
  /** Replaces the client's registration (all fields but id, secret and creation time). */
  updateClient(client: ClientRecord): Promise<boolean>;
  updateClientSecret(id: string, secretHash: string): Promise<boolean>;

  /** Throws `OAuthError('conflict')` when the username is taken. */
  /** Refuses (`conflict`) a username whose key (username-key.ts) an account already has. */
  insertAccount(account: AccountRecord): Promise<void>;
  findAccount(id: string): Promise<AccountRecord | undefined>;
  /** The account whose username is `username` or, failing that, has the same key (username-key.ts). */
  findAccountByUsername(username: string): Promise<AccountRecord | undefined>;
  listAccounts(): Promise<AccountRecord[]>;
  /** Deletes the account with its sessions, grants, codes and tokens. */
  deleteAccount(id: string): Promise<boolean>;
  updateAccountPassword(id: string, passwordHash: string): Promise<boolean>;
  setAccountDisabled(id: string, disabledAt: number | null): Promise<boolean>;
  setAccountAdmin(id: string, isAdmin: boolean): Promise<boolean>;

  insertSession(session: SessionRecord): Promise<void>;
  findSession(idHash: string): Promise<SessionRecord | undefined>;
  deleteSession(idHash: string): Promise<void>;
  /** Ends every session of an account but `exceptIdHash` (after a password change). */
  deleteSessionsOfAccount(accountId: string, exceptIdHash?: string): Promise<void>;
  /** Sessions not yet expired, for the active-sessions metric. */
  countActiveSessions(now: number): Promise<number>;

  findGrant(accountId: string, clientId: string): Promise<GrantRecord | undefined>;
  /**
   * Inserts the grant of this account and client, or, when there is one, extends it with
   * `grant`'s scopes and update time, keeping its id and creation time. Returns the id the stored
   * grant has.
   */
  saveGrant(grant: GrantRecord): Promise<string>;
  /** Every app the account has authorized, most recently used first. */
  listGrantsOfAccount(accountId: string): Promise<GrantRecord[]>;
  deleteGrant(accountId: string, clientId: string): Promise<boolean>;
  /**
   * Records that the client obtained tokens with the grant `grantId`, with one conditional update
   * (which, on PostgreSQL, also holds the grant's row until the transaction ends, so a concurrent
   * revocation waits and then sees what was issued). False when that grant is gone: revoked, or
   * replaced by a consent given anew.
   */
  touchGrant(accountId: string, clientId: string, grantId: string, now: number): Promise<boolean>;
  /** Revokes every access and refresh token the client holds for the account. */
  revokeTokensOf(accountId: string, clientId: string | undefined, now: number): Promise<void>;
  /** Deletes the codes not yet redeemed that the account has given the client (or any client). */
  deleteUnredeemedCodes(accountId: string, clientId: string | undefined): Promise<void>;

  insertAuthorizationCode(code: AuthorizationCodeRecord): Promise<void>;
  /**
   * Marks the code consumed with one conditional update (DESIGN invariant 3), so of any number of
   * concurrent callers exactly one gets `consumed`; the row is then kept until `retainUntil`.
   */
  consumeAuthorizationCode(hash: string, now: number, retainUntil: number): Promise<ConsumeResult<AuthorizationCodeRecord>>;

  insertAccessToken(token: AccessTokenRecord): Promise<void>;
  findAccessToken(hash: string): Promise<AccessTokenRecord | undefined>;

  revokeAccessToken(hash: string, now: number): Promise<void>;

  insertRefreshToken(token: RefreshTokenRecord): Promise<void>;
  findRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined>;
  /** Marks a live refresh token rotated with one conditional update; as `consumeAuthorizationCode`. */
  rotateRefreshToken(hash: string, now: number): Promise<ConsumeResult<RefreshTokenRecord>>;

  /**
   * Revokes every access and refresh token of a family. Families are users': a client's own
   * tokens (client_credentials) are revoked one by one.
   */
  revokeFamily(familyId: string, now: number): Promise<void>;

  insertAuditEvent(event: AuditEventRecord): Promise<void>;
  /** Newest first. */
  listAuditEvents(limit: number): Promise<AuditEventRecord[]>;

  insertSigningKey(key: SigningKeyRecord): Promise<void>;
  /** Every stored key, active and retired, oldest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** The newest active key of an algorithm: the one new tokens are signed with. */
  findActiveSigningKey(alg: SigningAlgorithm): Promise<SigningKeyRecord | undefined>;
  /** Moves an active key to `retired`, to stay published until `publishUntil`. */
  retireSigningKey(kid: string, now: number, publishUntil: number): Promise<void>;

  /**
   * Deletes up to `limit` expired codes (past `retainUntil`), tokens and sessions per table, and
   * retired signing keys past their publication; returns how many rows went.
   */
  deleteExpired(now: number, limit: number): Promise<number>;
}
