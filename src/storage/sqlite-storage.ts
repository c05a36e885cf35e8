import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { GroupCommit } from './group-commit.ts';
import {
  KyselyStorage,
  accessTokenFromRow,
  accessTokenToRow,
  accountFromRow,
  grantFromRow,
  sessionFromRow,
  clientFromRow,
  codeFromRow,
  codeToRow,
  refreshTokenFromRow,
  refreshTokenToRow,
  signingKeyFromRow,
} from './kysely-storage.ts';
import type {
  AccessTokensTable,
  AccountsTable,
  AuthorizationCodesTable,
  ClientsTable,
  Database,
  GrantsTable,
  RefreshTokensTable,
  SessionsTable,
  SigningKeysTable,
} from './schema.ts';
import type {
  AccessTokenRecord,
  AccountRecord,
  GrantRecord,
  SessionRecord,
  AuthorizationCodeRecord,
  ClientRecord,
  ConsumeResult,
  RefreshTokenRecord,
  SigningAlgorithm,
  SigningKeyRecord,
  Storage,
} from './storage.ts';

/**
 * The statements of the token endpoint and introspection, prepared once. Through Kysely each call
 * would build and compile its query again, which costs more than SQLite's own work for these
 * one-row statements (bench/hotspots.ts measures both).
 */
class HotStatements {
  readonly #database: BetterSqlite3.Database;
  readonly #inserts = new Map<string, { statement: BetterSqlite3.Statement; columns: string[]; values: unknown[] }>();
  readonly findClient: BetterSqlite3.Statement<[string], ClientsTable>;
  readonly findAccessToken: BetterSqlite3.Statement<[string], AccessTokensTable>;
  readonly findRefreshToken: BetterSqlite3.Statement<[string], RefreshTokensTable>;
  readonly rotateRefreshToken: BetterSqlite3.Statement<[number, string], RefreshTokensTable>;
  readonly consumeCode: BetterSqlite3.Statement<[number, number, string], AuthorizationCodesTable>;
  readonly findCode: BetterSqlite3.Statement<[string], AuthorizationCodesTable>;
  readonly findActiveSigningKey: BetterSqlite3.Statement<[string], SigningKeysTable>;
  readonly findAccount: BetterSqlite3.Statement<[string], AccountsTable>;
  readonly findSession: BetterSqlite3.Statement<[string], SessionsTable>;
  readonly findGrant: BetterSqlite3.Statement<[string, string], GrantsTable>;
  readonly touchGrant: BetterSqlite3.Statement<[number, string, string, string]>;

  constructor(database: BetterSqlite3.Database) {
    this.#database = database;
    this.findClient = database.prepare('select * from clients where id = ?');
    this.findAccessToken = database.prepare('select * from access_tokens where hash = ?');
    this.findRefreshToken = database.prepare('select * from refresh_tokens where hash = ?');
    this.rotateRefreshToken = database.prepare('update refresh_tokens set rotated_at = ? where hash = ? and rotated_at is null returning *');
    this.consumeCode = database.prepare(
      'update authorization_codes set consumed_at = ?, retain_until = ? where hash = ? and consumed_at is null returning *',
    );
    this.findCode = database.prepare('select * from authorization_codes where hash = ?');
    this.findAccount = database.prepare('select * from accounts where id = ?');
    this.findSession = database.prepare('select * from sessions where id_hash = ?');
    this.findGrant = database.prepare('select * from grants where account_id = ? and client_id = ?');
    this.touchGrant = database.prepare('update grants set last_used_at = ? where account_id = ? and client_id = ? and id = ?');
    this.findActiveSigningKey = database.prepare(
      "select * from signing_keys where alg = ? and state = 'active' order by created_at desc, kid desc limit 1",
    );
  }

  /**
   * Inserts a row as the record mappers of kysely-storage.ts shape it (one statement per table).
   * Values are bound by position: better-sqlite3 binds an array faster than it looks up the
   * names of an object (~1.3 µs of ~7 per token row, bench/README.md).
   */
  insert(table: 'access_tokens' | 'refresh_tokens' | 'authorization_codes', row: object): void {
    let insert = this.#inserts.get(table);
    if (insert === undefined) {
      const columns = Object.keys(row);
      const statement = this.#database.prepare(`insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
      insert = { statement, columns, values: new Array<unknown>(columns.length) };
      this.#inserts.set(table, insert);
    }
    const { statement, columns, values } = insert;
    const fields = row as Record<string, unknown>;
    for (let i = 0; i < columns.length; i++) values[i] = fields[columns[i]!];
    statement.run(values);
  }
}

/** Most clients kept (`SqliteStorage.findClient`); past it the cache starts over. */
const clientCacheSize = 10_000;

/** Most access tokens kept (`SqliteStorage.findAccessToken`); past it the cache starts over. */
const accessTokenCacheSize = 10_000;

/** A cached record is shared by every caller, so none may change it. */
function deepFreeze<T extends object>(record: T): T {
  for (const value of Object.values(record)) if (typeof value === 'object' && value !== null) Object.freeze(value);
  return Object.freeze(record);
}

/**
 * Writing methods that are one SQL statement each (see `SqliteStorage.insert` and the hot
 * statements), so that alone they are atomic without a savepoint.
 */
const singleStatementWrites = new Set(['insertAccessToken', 'insertRefreshToken', 'insertAuthorizationCode', 'touchGrant']);

/**
 * Writing methods that leave every stored access-token row as it was (inserting a new one changes
 * no row already read), so the access-token cache survives them. Every other write drops it: a
 * method added later is assumed to change token rows, the safe default.
 */
const keepAccessTokenRows = new Set([
  ...singleStatementWrites,
  'consumeAuthorizationCode',
  'rotateRefreshToken',
  'insertSession',
  'deleteSession',
  'deleteSessionsOfAccount',
  'saveGrant',
  'deleteUnredeemedCodes',
  'insertAuditEvent',
  'insertClient',
  'insertAccount',
  'updateAccountPassword',
  'setAccountAdmin',
  'insertSigningKey',
  'retireSigningKey',
]);

/** Storage methods that only read; every other method writes (see `SqliteStorage`). */
const readOnly = /^(find|list|count|schemaStatus$|ping$)/;

/**
 * `Storage` on the embedded SQLite database: `KyselyStorage` made fast for the token endpoint,
 * with nothing of it visible through the interface.
 * - Transactions are group-committed (`GroupCommit`): concurrent requests share one commit, and
 *   each still returns only after its own writes are on disk.
 * - Reads outside a transaction share one read transaction per event-loop turn.
 * - The statements of the hot paths run as prepared statements, without Kysely's query building.
 * - Clients, the active signing keys and access tokens are cached, and dropped whenever they may
 *   have changed.
 *
 * Every write made outside a transaction runs as a transaction of its own, so it too returns only
 * once committed. Otherwise it would join a batch that commits later, and a failed commit would
 * lose a write the caller had already been told succeeded.
 */
export class SqliteStorage extends KyselyStorage {
  readonly #group: GroupCommit;
  readonly #statements: { database: BetterSqlite3.Database; prepared?: HotStatements };
  /**
   * Clients by id, as read. Every token request authenticates its client, and clients change
   * rarely. Dropped whole on any write to clients, on any rollback, and whenever another
   * connection has committed (`GroupCommit.onStale`), so a read never returns what the database
   * would not.
   */
  readonly #clients: Map<string, ClientRecord>;
  /** The active signing key per algorithm, read on every JWT; kept like `#clients`. */
  readonly #activeKeys: Map<SigningAlgorithm, SigningKeyRecord>;
  /**
   * Access tokens by hash, as read: introspection and every Bearer request look one up, and the
   * lookup was a tenth of introspection's CPU (bench/README.md). Kept like `#clients`, and dropped
   * after every write that may change a token row (`keepAccessTokenRows` says which do not):
   * after, not before, because a lookup running between the two would cache the old row. Only
   * rows found are kept; whether a token is still live is decided by its reader, with the clock.
   */
  readonly #accessTokens: Map<string, AccessTokenRecord>;
  readonly #transactionView: SqliteStorage;

  constructor(db: Kysely<Database>, database: BetterSqlite3.Database, shared?: SqliteStorage) {
    super(db, shared !== undefined);
    this.#group = shared === undefined ? new GroupCommit(database) : shared.#group;
    this.#statements = shared === undefined ? { database } : shared.#statements;
    this.#clients = shared === undefined ? new Map() : shared.#clients;
    this.#activeKeys = shared === undefined ? new Map() : shared.#activeKeys;
    this.#accessTokens = shared === undefined ? new Map() : shared.#accessTokens;
    if (shared === undefined) {
      this.#group.onStale(() => {
        this.#clients.clear();
        this.#activeKeys.clear();
        this.#accessTokens.clear();
      });
    }
    this.#transactionView = shared === undefined ? new SqliteStorage(db, database, this) : this;
  }

  /** One row by a prepared statement, in this turn's read snapshot (or the open batch). */
  #read<P extends unknown[], R, T>(statement: BetterSqlite3.Statement<P, R>, parameters: P, fromRow: (row: R) => T): Promise<T | undefined> {
    this.#group.beginRead();
    const row = statement.get(...parameters);
    return Promise.resolve(row === undefined ? undefined : fromRow(row));
  }

  /** Prepared on first use: the tables exist only once migrations have run. */
  get #sql(): HotStatements {
    this.#statements.prepared ??= new HotStatements(this.#statements.database);
    return this.#statements.prepared;
  }

  /** Largest number of transactions one commit has carried so far. */
  get largestGroupCommit(): number {
    return this.#group.largestBatch;
  }

  override async transaction<T>(work: (tx: Storage) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    const view = this.#transactionView;
    return this.#group.run(() => work(view));
  }

  /** @internal A write of one statement, made outside a transaction: a transaction of its own, without a savepoint. */
  singleStatementWrite<T>(work: (tx: Storage) => Promise<T>): Promise<T> {
    const view = this.#transactionView;
    return this.#group.run(() => work(view), true);
  }

  override async migrate(): Promise<void> {
    await this.#group.flush(); // Kysely's migrator opens transactions of its own
    await super.migrate();
  }

  /** @internal Before each write inside a transaction: throws once the database has lost it. */
  assertWritable(): void {
    this.#group.assertWritable();
  }

  override async close(): Promise<void> {
    await this.#group.close();
    await super.close();
  }

  override async findClient(id: string): Promise<ClientRecord | undefined> {
    return this.#readThrough(this.#clients, clientCacheSize, id, this.#sql.findClient, clientFromRow);
  }

  /**
   * The record under `key` from `cache`, or else read by `statement`, frozen and kept; a full
   * cache starts over.
   */
  #readThrough<R, T extends object>(
    cache: Map<string, T>,
    size: number,
    key: string,
    statement: BetterSqlite3.Statement<[string], R>,
    fromRow: (row: R) => T,
  ): T | undefined {
    this.#group.beginRead(); // first: it may find the cache stale
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const row = statement.get(key);
    if (row === undefined) return undefined;
    const record = deepFreeze(fromRow(row));
    if (cache.size >= size) cache.clear();
    cache.set(key, record);
    return record;
  }

  override async insertClient(client: ClientRecord): Promise<void> {
    this.#clients.clear();
    await super.insertClient(client);
  }

  override async updateClient(client: ClientRecord): Promise<boolean> {
    this.#clients.clear();
    return super.updateClient(client);
  }

  override async updateClientSecret(id: string, secretHash: string): Promise<boolean> {
    this.#clients.clear();
    return super.updateClientSecret(id, secretHash);
  }

  override async deleteClient(id: string): Promise<boolean> {
    this.#clients.clear();
    return super.deleteClient(id);
  }

  override async insertAccessToken(token: AccessTokenRecord): Promise<void> {
    this.#sql.insert('access_tokens', accessTokenToRow(token));
  }

  override async findAccessToken(hash: string): Promise<AccessTokenRecord | undefined> {
    return this.#readThrough(this.#accessTokens, accessTokenCacheSize, hash, this.#sql.findAccessToken, accessTokenFromRow);
  }

  /** @internal After a write that may have changed access-token rows (see `keepAccessTokenRows`). */
  forgetAccessTokens(): void {
    this.#accessTokens.clear();
  }

  override async insertRefreshToken(token: RefreshTokenRecord): Promise<void> {
    this.#sql.insert('refresh_tokens', refreshTokenToRow(token));
  }

  override findRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined> {
    return this.#read(this.#sql.findRefreshToken, [hash], refreshTokenFromRow);
  }

  override async rotateRefreshToken(hash: string, now: number): Promise<ConsumeResult<RefreshTokenRecord>> {
    const rotated = this.#sql.rotateRefreshToken.get(now, hash);
    if (rotated !== undefined) return { outcome: 'consumed', record: refreshTokenFromRow(rotated) };
    const existing = this.#sql.findRefreshToken.get(hash);
    return existing === undefined ? { outcome: 'unknown' } : { outcome: 'already-consumed', record: refreshTokenFromRow(existing) };
  }

  override findAccount(id: string): Promise<AccountRecord | undefined> {
    return this.#read(this.#sql.findAccount, [id], accountFromRow);
  }

  override findSession(idHash: string): Promise<SessionRecord | undefined> {
    return this.#read(this.#sql.findSession, [idHash], sessionFromRow);
  }

  override findGrant(accountId: string, clientId: string): Promise<GrantRecord | undefined> {
    return this.#read(this.#sql.findGrant, [accountId, clientId], grantFromRow);
  }

  override async touchGrant(accountId: string, clientId: string, grantId: string, now: number): Promise<boolean> {
    return this.#sql.touchGrant.run(now, accountId, clientId, grantId).changes > 0;
  }

  override async findActiveSigningKey(alg: SigningAlgorithm): Promise<SigningKeyRecord | undefined> {
    this.#group.beginRead(); // first: it may find the cache stale
    const cached = this.#activeKeys.get(alg);
    if (cached !== undefined) return cached;
    const row = this.#sql.findActiveSigningKey.get(alg);
    const key = row && deepFreeze(signingKeyFromRow(row));
    if (key !== undefined) this.#activeKeys.set(alg, key);
    return key;
  }

  override async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    this.#activeKeys.clear();
    await super.insertSigningKey(key);
  }

  override async retireSigningKey(kid: string, now: number, publishUntil: number): Promise<void> {
    this.#activeKeys.clear();
    await super.retireSigningKey(kid, now, publishUntil);
  }

  override async insertAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    this.#sql.insert('authorization_codes', codeToRow(code));
  }

  override async consumeAuthorizationCode(hash: string, now: number, retainUntil: number): Promise<ConsumeResult<AuthorizationCodeRecord>> {
    const consumed = this.#sql.consumeCode.get(now, retainUntil, hash);
    if (consumed !== undefined) return { outcome: 'consumed', record: codeFromRow(consumed) };
    const existing = this.#sql.findCode.get(hash);
    return existing === undefined ? { outcome: 'unknown' } : { outcome: 'already-consumed', record: codeFromRow(existing) };
  }
}

// Every writing method, inherited or overridden, runs in a (group-committed) transaction of its
// own when called outside one. Reads run at once. A method added to `KyselyStorage` later is
// treated as a write unless its name says it reads, the safe default.
for (const name of Object.getOwnPropertyNames(KyselyStorage.prototype)) {
  if (name === 'constructor' || name === 'transaction' || name === 'close' || name === 'migrate' || readOnly.test(name)) continue;
  const method = (SqliteStorage.prototype as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name];
  if (typeof method !== 'function') continue;
  const singleStatement = singleStatementWrites.has(name);
  const write = keepAccessTokenRows.has(name) ? method : forgettingAccessTokens(method);
  Object.defineProperty(SqliteStorage.prototype, name, {
    configurable: true,
    writable: true,
    value: function writeThroughGroupCommit(this: SqliteStorage & { inTransaction: boolean }, ...args: unknown[]) {
      if (this.inTransaction) {
        this.assertWritable();
        return write.apply(this, args);
      }
      if (singleStatement) return this.singleStatementWrite((tx) => write.apply(tx, args));
      return this.transaction((tx) => write.apply(tx, args));
    },
  });
}

/** `method`, then the access-token cache dropped, whether it succeeded or not. */
function forgettingAccessTokens(method: (...args: unknown[]) => Promise<unknown>): (...args: unknown[]) => Promise<unknown> {
  return async function (this: SqliteStorage, ...args: unknown[]) {
    try {
      return await method.apply(this, args);
    } finally {
      this.forgetAccessTokens();
    }
  };
}
