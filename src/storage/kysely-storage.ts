import { Kysely, Migrator, sql, type Transaction } from 'kysely';
import { OAuthError } from '../shared/oauth-error.ts';
import { migrateToLatest } from './migrate-to-latest.ts';
import { migrationProvider } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { usernameKey } from './username-key.ts';
import type {
  AccessTokenFormat,
  AccessTokenRecord,
  AuditEventRecord,
  AccountRecord,
  AuthorizationCodeRecord,
  ClientRecord,
  ClientType,
  ConsentPolicy,
  TokenEndpointAuthMethod,
  ConsumeResult,
  GrantRecord,
  RefreshTokenRecord,
  SessionRecord,
  SigningAlgorithm,
  SigningKeyRecord,
  Storage,
} from './storage.ts';

type Row<T extends keyof Database> = Database[T];

/** `Storage` on any Kysely dialect. */
export class KyselyStorage implements Storage {
  readonly #db: Kysely<Database>;
  /** True for the view a transaction's work receives: its writes join that transaction. */
  protected readonly inTransaction: boolean;

  constructor(db: Kysely<Database>, inTransaction = false) {
    this.#db = db;
    this.inTransaction = inTransaction;
  }

  /**
   * Which migrations this database has and lacks. `unknown` lists migrations applied by a newer
   * Gatehouse than this one: its code must not run on that schema.
   */
  async schemaStatus(): Promise<{ pending: string[]; unknown: string[] }> {
    const known = Object.keys(await migrationProvider.getMigrations());
    let applied: string[] = [];
    try {
      const rows = await sql<{ name: string }>`select name from kysely_migration`.execute(this.#db);
      applied = rows.rows.map((row) => row.name);
    } catch {
      // No migration table yet: a new, empty database.
    }
    return { pending: known.filter((name) => !applied.includes(name)), unknown: applied.filter((name) => !known.includes(name)) };
  }

  /** Answers when the database does; for readiness checks. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  /** Applies every pending migration; throws with the failing migration's name. */
  async migrate(): Promise<void> {
    const { unknown } = await this.schemaStatus();
    if (unknown.length > 0) {
      throw new Error(
        `the database schema is newer than this Gatehouse (it has migration ${unknown.join(', ')}); upgrade Gatehouse or restore a backup of the matching version`,
      );
    }
    const schema = await this.#postgresSchema();
    const migrator = new Migrator({ db: this.#db, provider: migrationProvider, ...(schema === undefined ? {} : { migrationTableSchema: schema }) });
    const { error, results } = await migrateToLatest(migrator);
    if (error !== undefined) {
      const failed = results?.find((result) => result.status === 'Error');
      throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * On PostgreSQL, the schema this connection works in (`?schema=` sets it). Without it Kysely's
   * migrator takes a `kysely_migration` table in any other schema of the database for its own,
   * skips creating one here, and fails on the missing lock table.
   */
  async #postgresSchema(): Promise<string | undefined> {
    try {
      const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(this.#db);
      return rows[0]?.schema ?? undefined;
    } catch {
      return undefined; // SQLite: no current_schema(), and no schemas to confuse
    }
  }

  async transaction<T>(work: (tx: Storage) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    return this.#db.transaction().execute((trx: Transaction<Database>) => work(new KyselyStorage(trx, true)));
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  // Clients

  async insertClient(client: ClientRecord): Promise<void> {
    await this.#db.insertInto('clients').values(clientToRow(client)).execute();
  }

  async findClient(id: string): Promise<ClientRecord | undefined> {
    const row = await this.#db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst();
    return row && clientFromRow(row);
  }

  async listClients(): Promise<ClientRecord[]> {
    const rows = await this.#db.selectFrom('clients').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(clientFromRow);
  }

  async deleteClient(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('clients').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async updateClient(client: ClientRecord): Promise<boolean> {
    const { id: _id, secret_hash: _secret, created_at: _created, ...fields } = clientToRow(client);
    const result = await this.#db.updateTable('clients').set(fields).where('id', '=', client.id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async updateClientSecret(id: string, secretHash: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('clients')
      .set({ secret_hash: secretHash })
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  // Accounts

  async insertAccount(account: AccountRecord): Promise<void> {
    try {
      await this.#db.insertInto('accounts').values(accountToRow(account)).execute();
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new OAuthError('conflict', `username "${account.username}" is already taken`);
      }
      throw error;
    }
  }

  async findAccount(id: string): Promise<AccountRecord | undefined> {
    const row = await this.#db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return row && accountFromRow(row);
  }

  async findAccountByUsername(username: string): Promise<AccountRecord | undefined> {
    // By the key (username-key.ts); an exact match first, for accounts that shared a key before
    // the key existed (see the migration 2026-12-04T00-usernames).
    const rows = await this.#db
      .selectFrom('accounts')
      .selectAll()
      .where((eb) => eb.or([eb('username_key', '=', usernameKey(username)), eb('username', '=', username)]))
      .execute();
    const row = rows.find((candidate) => candidate.username === username) ?? rows[0];
    return row && accountFromRow(row);
  }

  async listAccounts(): Promise<AccountRecord[]> {
    const rows = await this.#db.selectFrom('accounts').selectAll().orderBy('username').execute();
    return rows.map(accountFromRow);
  }

  async deleteAccount(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('accounts').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async updateAccountPassword(id: string, passwordHash: string): Promise<boolean> {
    const result = await this.#db.updateTable('accounts').set({ password_hash: passwordHash }).where('id', '=', id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setAccountDisabled(id: string, disabledAt: number | null): Promise<boolean> {
    const result = await this.#db.updateTable('accounts').set({ disabled_at: disabledAt }).where('id', '=', id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setAccountAdmin(id: string, isAdmin: boolean): Promise<boolean> {
    const result = await this.#db.updateTable('accounts').set({ is_admin: isAdmin ? 1 : 0 }).where('id', '=', id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  // Sessions

  async insertSession(session: SessionRecord): Promise<void> {
    await this.#db
      .insertInto('sessions')
      .values({
        id_hash: session.idHash,
        account_id: session.accountId,
        auth_time: session.authTime,
        expires_at: session.expiresAt,
        created_at: session.createdAt,
      })
      .execute();
  }

  async findSession(idHash: string): Promise<SessionRecord | undefined> {
    const row = await this.#db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return row && sessionFromRow(row);
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.#db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteSessionsOfAccount(accountId: string, exceptIdHash?: string): Promise<void> {
    let query = this.#db.deleteFrom('sessions').where('account_id', '=', accountId);
    if (exceptIdHash !== undefined) query = query.where('id_hash', '!=', exceptIdHash);
    await query.execute();
  }

  async countActiveSessions(now: number): Promise<number> {
    const row = await this.#db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where('expires_at', '>', now)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  // Remembered consent

  async findGrant(accountId: string, clientId: string): Promise<GrantRecord | undefined> {
    const row = await this.#db
      .selectFrom('grants')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row && grantFromRow(row);
  }

  async listGrantsOfAccount(accountId: string): Promise<GrantRecord[]> {
    const rows = await this.#db.selectFrom('grants').selectAll().where('account_id', '=', accountId).orderBy('updated_at', 'desc').execute();
    return rows.map(grantFromRow).sort((a, b) => (b.lastUsedAt ?? b.updatedAt) - (a.lastUsedAt ?? a.updatedAt));
  }

  async deleteGrant(accountId: string, clientId: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('grants').where('account_id', '=', accountId).where('client_id', '=', clientId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async touchGrant(accountId: string, clientId: string, grantId: string, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('grants')
      .set({ last_used_at: now })
      .where('account_id', '=', accountId)
      .where('client_id', '=', clientId)
      .where('id', '=', grantId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeTokensOf(accountId: string, clientId: string | undefined, now: number): Promise<void> {
    for (const table of ['access_tokens', 'refresh_tokens'] as const) {
      let query = this.#db
        .updateTable(table)
        .set({ revoked_at: now })
        .where('account_id', '=', accountId)
        .where('account_id', 'is not', null) // lets SQLite use the partial index
        .where('revoked_at', 'is', null);
      if (clientId !== undefined) query = query.where('client_id', '=', clientId);
      await query.execute();
    }
  }

  async saveGrant(grant: GrantRecord): Promise<string> {
    const scopes = JSON.stringify(grant.scopes);
    // On conflict the stored grant is extended and keeps its id: what descends from it stays valid.
    const saved = await this.#db
      .insertInto('grants')
      .values({
        id: grant.id,
        account_id: grant.accountId,
        client_id: grant.clientId,
        scopes,
        created_at: grant.createdAt,
        updated_at: grant.updatedAt,
        last_used_at: grant.lastUsedAt,
      })
      .onConflict((oc) => oc.columns(['account_id', 'client_id']).doUpdateSet({ scopes, updated_at: grant.updatedAt }))
      .returning('id')
      .executeTakeFirstOrThrow();
    return saved.id;
  }

  async deleteUnredeemedCodes(accountId: string, clientId: string | undefined): Promise<void> {
    let query = this.#db.deleteFrom('authorization_codes').where('account_id', '=', accountId).where('consumed_at', 'is', null);
    if (clientId !== undefined) query = query.where('client_id', '=', clientId);
    await query.execute();
  }

  // Authorization codes

  async insertAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    await this.#db.insertInto('authorization_codes').values(codeToRow(code)).execute();
  }

  async consumeAuthorizationCode(hash: string, now: number, retainUntil: number): Promise<ConsumeResult<AuthorizationCodeRecord>> {
    const consumed = await this.#db
      .updateTable('authorization_codes')
      .set({ consumed_at: now, retain_until: retainUntil })
      .where('hash', '=', hash)
      .where('consumed_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (consumed !== undefined) return { outcome: 'consumed', record: codeFromRow(consumed) };
    const existing = await this.#db.selectFrom('authorization_codes').selectAll().where('hash', '=', hash).executeTakeFirst();
    return existing === undefined ? { outcome: 'unknown' } : { outcome: 'already-consumed', record: codeFromRow(existing) };
  }

  // Tokens

  async insertAccessToken(token: AccessTokenRecord): Promise<void> {
    await this.#db.insertInto('access_tokens').values(accessTokenToRow(token)).execute();
  }

  async findAccessToken(hash: string): Promise<AccessTokenRecord | undefined> {
    const row = await this.#db.selectFrom('access_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && accessTokenFromRow(row);
  }

  async revokeAccessToken(hash: string, now: number): Promise<void> {
    await this.#db.updateTable('access_tokens').set({ revoked_at: now }).where('hash', '=', hash).where('revoked_at', 'is', null).execute();
  }

  async findRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.#db.selectFrom('refresh_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && refreshTokenFromRow(row);
  }

  async insertRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.#db.insertInto('refresh_tokens').values(refreshTokenToRow(token)).execute();
  }

  async rotateRefreshToken(hash: string, now: number): Promise<ConsumeResult<RefreshTokenRecord>> {
    const rotated = await this.#db
      .updateTable('refresh_tokens')
      .set({ rotated_at: now })
      .where('hash', '=', hash)
      .where('rotated_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (rotated !== undefined) return { outcome: 'consumed', record: refreshTokenFromRow(rotated) };
    const existing = await this.#db.selectFrom('refresh_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return existing === undefined
      ? { outcome: 'unknown' }
      : { outcome: 'already-consumed', record: refreshTokenFromRow(existing) };
  }

  async revokeFamily(familyId: string, now: number): Promise<void> {
    for (const table of ['access_tokens', 'refresh_tokens'] as const) {
      await this.#db
        .updateTable(table)
        .set({ revoked_at: now })
        .where('family_id', '=', familyId)
        // Families are users' (codes and refresh tokens); the condition matches the partial index.
        .where('account_id', 'is not', null)
        .where('revoked_at', 'is', null)
        .execute();
    }
  }

  // Audit trail

  async insertAuditEvent(event: AuditEventRecord): Promise<void> {
    await this.#db
      .insertInto('audit_events')
      .values({
        id: event.id,
        at: event.at,
        actor: event.actor,
        action: event.action,
        subject: event.subject,
        detail: JSON.stringify(event.detail),
        ip: event.ip,
      })
      .execute();
  }

  async listAuditEvents(limit: number): Promise<AuditEventRecord[]> {
    const rows = await this.#db.selectFrom('audit_events').selectAll().orderBy('at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map((row) => ({
      id: row.id,
      at: Number(row.at),
      actor: row.actor,
      action: row.action,
      subject: row.subject,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
      ip: row.ip,
    }));
  }

  // Signing keys

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.#db
      .insertInto('signing_keys')
      .values({
        kid: key.kid,
        alg: key.alg,
        public_jwk: JSON.stringify(key.publicJwk),
        private_jwk_encrypted: key.privateJwkEncrypted,
        state: key.state,
        created_at: key.createdAt,
        retired_at: key.retiredAt,
        publish_until: key.publishUntil,
      })
      .execute();
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.#db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
    return rows.map(signingKeyFromRow);
  }

  async findActiveSigningKey(alg: SigningAlgorithm): Promise<SigningKeyRecord | undefined> {
    const row = await this.#db
      .selectFrom('signing_keys')
      .selectAll()
      .where('alg', '=', alg)
      .where('state', '=', 'active')
      .orderBy('created_at', 'desc')
      .orderBy('kid', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && signingKeyFromRow(row);
  }

  async retireSigningKey(kid: string, now: number, publishUntil: number): Promise<void> {
    await this.#db
      .updateTable('signing_keys')
      .set({ state: 'retired', retired_at: now, publish_until: publishUntil })
      .where('kid', '=', kid)
      .where('state', '=', 'active')
      .execute();
  }

  async deleteExpired(now: number, limit: number): Promise<number> {
    let deleted = 0;
    // A consumed code is a tombstone kept past its expiry, until what it issued has expired too
    // (`retain_until`), so that a late replay still revokes it.
    const codes = await this.#db
      .deleteFrom('authorization_codes')
      .where('hash', 'in', (qb) => qb.selectFrom('authorization_codes').select('hash').where('retain_until', '<', now).limit(limit))
      .executeTakeFirst();
    deleted += Number(codes.numDeletedRows);
    const tables = [
      ['access_tokens', 'hash'],
      ['refresh_tokens', 'hash'],
      ['sessions', 'id_hash'],
    ] as const;
    for (const [table, key] of tables) {
      // A bounded batch by key keeps each delete short, whatever the backlog.
      const result = await this.#db
        .deleteFrom(table)
        .where(key, 'in', (qb) => qb.selectFrom(table).select(key).where('expires_at', '<', now).limit(limit))
        .executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    // Retired signing keys are unpublished once every token they signed has expired.
    const keys = await this.#db.deleteFrom('signing_keys').where('state', '=', 'retired').where('publish_until', '<', now).executeTakeFirst();
    return deleted + Number(keys.numDeletedRows);
  }
}

export function signingKeyFromRow(row: Row<'signing_keys'>): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg as SigningAlgorithm,
    publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
    privateJwkEncrypted: row.private_jwk_encrypted,
    state: row.state as SigningKeyRecord['state'],
    createdAt: Number(row.created_at),
    retiredAt: nullableNumber(row.retired_at),
    publishUntil: nullableNumber(row.publish_until),
  };
}

export function sessionFromRow(row: Row<'sessions'>): SessionRecord {
  return {
    idHash: row.id_hash,
    accountId: row.account_id,
    authTime: Number(row.auth_time),
    expiresAt: Number(row.expires_at),
    createdAt: Number(row.created_at),
  };
}

export function clientToRow(client: ClientRecord): Row<'clients'> {
  return {
    id: client.id,
    secret_hash: client.secretHash,
    name: client.name,
    type: client.type,
    redirect_uris: JSON.stringify(client.redirectUris),
    grant_types: JSON.stringify(client.grantTypes),
    scopes: JSON.stringify(client.scopes),
    access_token_ttl_seconds: client.accessTokenTtlSeconds,
    refresh_token_ttl_seconds: client.refreshTokenTtlSeconds,
    access_token_format: client.accessTokenFormat,
    resources: JSON.stringify(client.resources),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    consent_policy: client.consentPolicy,
    can_introspect: client.canIntrospect ? 1 : 0,
    served_resources: JSON.stringify(client.servedResources),
    created_at: client.createdAt,
  };
}

export function clientFromRow(row: Row<'clients'>): ClientRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    name: row.name,
    type: row.type as ClientType,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    grantTypes: JSON.parse(row.grant_types) as string[],
    scopes: JSON.parse(row.scopes) as string[],
    accessTokenTtlSeconds: nullableNumber(row.access_token_ttl_seconds),
    refreshTokenTtlSeconds: nullableNumber(row.refresh_token_ttl_seconds),
    accessTokenFormat: row.access_token_format as AccessTokenFormat,
    resources: JSON.parse(row.resources) as string[],
    tokenEndpointAuthMethod: row.token_endpoint_auth_method as TokenEndpointAuthMethod,
    consentPolicy: row.consent_policy as ConsentPolicy,
    canIntrospect: Number(row.can_introspect) === 1,
    servedResources: JSON.parse(row.served_resources) as string[],
    createdAt: Number(row.created_at),
  };
}

function accountToRow(account: AccountRecord): Row<'accounts'> {
  return {
    id: account.id,
    username: account.username,
    username_key: usernameKey(account.username),
    password_hash: account.passwordHash,
    name: account.name,
    email: account.email,
    email_verified: account.emailVerified ? 1 : 0,
    is_admin: account.isAdmin ? 1 : 0,
    disabled_at: account.disabledAt,
    created_at: account.createdAt,
  };
}

export function accountFromRow(row: Row<'accounts'>): AccountRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    name: row.name,
    email: row.email,
    emailVerified: Number(row.email_verified) === 1,
    isAdmin: Number(row.is_admin) === 1,
    disabledAt: nullableNumber(row.disabled_at),
    createdAt: Number(row.created_at),
  };
}

export function grantFromRow(row: Row<'grants'>): GrantRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    clientId: row.client_id,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    lastUsedAt: nullableNumber(row.last_used_at),
  };
}

export function codeToRow(code: AuthorizationCodeRecord): Row<'authorization_codes'> {
  return {
    hash: code.hash,
    family_id: code.familyId,
    grant_id: code.grantId,
    client_id: code.clientId,
    account_id: code.accountId,
    redirect_uri: code.redirectUri,
    scopes: JSON.stringify(code.scopes),
    code_challenge: code.codeChallenge,
    nonce: code.nonce,
    resources: nullableJson(code.resources),
    auth_time: code.authTime,
    expires_at: code.expiresAt,
    consumed_at: code.consumedAt,
    retain_until: code.retainUntil,
    created_at: code.createdAt,
  };
}

export function codeFromRow(row: Row<'authorization_codes'>): AuthorizationCodeRecord {
  return {
    hash: row.hash,
    familyId: row.family_id,
    grantId: row.grant_id,
    clientId: row.client_id,
    accountId: row.account_id,
    redirectUri: row.redirect_uri,
    scopes: JSON.parse(row.scopes) as string[],
    codeChallenge: row.code_challenge,
    nonce: row.nonce,
    resources: parseNullableJson(row.resources),
    authTime: Number(row.auth_time),
    expiresAt: Number(row.expires_at),
    consumedAt: nullableNumber(row.consumed_at),
    retainUntil: Number(row.retain_until),
    createdAt: Number(row.created_at),
  };
}

export function accessTokenToRow(token: AccessTokenRecord): Row<'access_tokens'> {
  return {
    hash: token.hash,
    family_id: token.familyId,
    client_id: token.clientId,
    account_id: token.accountId,
    scopes: JSON.stringify(token.scopes),
    audience: nullableJson(token.audience),
    expires_at: token.expiresAt,
    revoked_at: token.revokedAt,
    created_at: token.createdAt,
  };
}

export function accessTokenFromRow(row: Row<'access_tokens'>): AccessTokenRecord {
  return {
    hash: row.hash,
    familyId: row.family_id,
    clientId: row.client_id,
    accountId: row.account_id,
    scopes: JSON.parse(row.scopes) as string[],
    audience: parseNullableJson(row.audience),
    expiresAt: Number(row.expires_at),
    revokedAt: nullableNumber(row.revoked_at),
    createdAt: Number(row.created_at),
  };
}

export function refreshTokenToRow(token: RefreshTokenRecord): Row<'refresh_tokens'> {
  return {
    hash: token.hash,
    family_id: token.familyId,
    grant_id: token.grantId,
    family_created_at: token.familyCreatedAt,
    client_id: token.clientId,
    account_id: token.accountId,
    scopes: JSON.stringify(token.scopes),
    auth_time: token.authTime,
    expires_at: token.expiresAt,
    rotated_at: token.rotatedAt,
    revoked_at: token.revokedAt,
    resources: nullableJson(token.resources),
    created_at: token.createdAt,
  };
}

export function refreshTokenFromRow(row: Row<'refresh_tokens'>): RefreshTokenRecord {
  return {
    hash: row.hash,
    familyId: row.family_id,
    grantId: row.grant_id,
    familyCreatedAt: Number(row.family_created_at),
    clientId: row.client_id,
    accountId: row.account_id,
    scopes: JSON.parse(row.scopes) as string[],
    authTime: Number(row.auth_time),
    expiresAt: Number(row.expires_at),
    rotatedAt: nullableNumber(row.rotated_at),
    revokedAt: nullableNumber(row.revoked_at),
    resources: parseNullableJson(row.resources),
    createdAt: Number(row.created_at),
  };
}

function nullableJson(value: string[] | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function parseNullableJson(value: string | null): string[] | null {
  return value === null ? null : (JSON.parse(value) as string[]);
}

// PostgreSQL returns bigint columns as strings; SQLite returns numbers. Both become numbers.
function nullableNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
