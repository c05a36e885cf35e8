import { randomUUID } from 'node:crypto';
import { Kysely } from 'kysely';
import { systemClock, type Clock } from '../../shared/clock.ts';
import { OAuthError } from '../../shared/oauth-error.ts';
import { createPostgresDialect, isPostgresUrl } from '../../storage/dialects/postgres.ts';
import { createSqliteDialect, sqlitePathFromUrl } from '../../storage/dialects/sqlite.ts';
import type { Provider } from '../provider.ts';
import { requestTokens, TokenEndpointError, type TokenSet } from '../token-endpoint.ts';
import { VaultEncryption, type VaultKeys } from './vault-encryption.ts';
import { migrateVault, type VaultDatabase } from './vault-schema.ts';

/** The user must sign in with the provider again: the grant is gone (revoked, expired, `invalid_grant`). */
export class ReauthenticationRequired extends OAuthError {
  constructor(readonly provider: string, description: string) {
    super('invalid_grant', description);
  }
}

/** What is stored for a user × provider, without the secrets. */
export interface StoredTokenInfo {
  scopes: string[];
  /** Epoch milliseconds; null for tokens that do not expire. */
  expiresAt: number | null;
  hasRefreshToken: boolean;
  /** How many times the tokens were refreshed (or stored again) since the first sign-in. */
  refreshCount: number;
  /** When the tokens were last written, epoch milliseconds. */
  updatedAt: number;
}

export interface TokenVaultOptions {
  /** `sqlite:PATH` or `postgres://…`; several processes may share it. */
  databaseUrl: string;
  keys: VaultKeys;
  providers: Provider[];
  clock?: Clock;
  fetch?: typeof fetch;
  /** Refresh this many seconds before expiry, so a token never expires in flight (default 60). */
  refreshSkewSeconds?: number;
  /** How long one process may hold the refresh lease before others may take over (default 30). */
  leaseSeconds?: number;
}

/**
 * The seed's step 6–8 done safely: tokens per user × provider, encrypted at rest; a valid access
 * token on request, refreshed shortly before expiry by exactly one caller — concurrent callers
 * in this process share one promise, and across processes a lease row lets one refresh while
 * the others wait for its result. The rotated refresh token is written in the same statement as
 * the new access token, so a crash cannot lose it.
 */
export class TokenVault {
  readonly #db: Kysely<VaultDatabase>;
  readonly #encryption: VaultEncryption;
  readonly #providers: Map<string, Provider>;
  readonly #clock: Clock;
  readonly #fetch: typeof fetch;
  readonly #skewMs: number;
  readonly #leaseMs: number;
  readonly #owner = randomUUID();
  readonly #inflight = new Map<string, Promise<string>>();

  private constructor(db: Kysely<VaultDatabase>, options: TokenVaultOptions) {
    this.#db = db;
    this.#encryption = new VaultEncryption(options.keys);
    this.#providers = new Map(options.providers.map((provider) => [provider.id, provider]));
    this.#clock = options.clock ?? systemClock;
    this.#fetch = options.fetch ?? fetch;
    this.#skewMs = (options.refreshSkewSeconds ?? 60) * 1000;
    this.#leaseMs = (options.leaseSeconds ?? 30) * 1000;
  }

  static async open(options: TokenVaultOptions): Promise<TokenVault> {
    const postgres = isPostgresUrl(options.databaseUrl);
    const dialect = postgres
      ? createPostgresDialect(options.databaseUrl, { maxConnections: 5, connectionTimeoutMs: 3000, statementTimeoutMs: 5000 }).dialect
      : createSqliteDialect(sqlitePathFromUrl(options.databaseUrl));
    const db = new Kysely<VaultDatabase>({ dialect });
    try {
      if (postgres) {
        // Kysely's migration lock is one advisory lock for the whole database, shared with every
        // other migrator there (Gatehouse's own included): waiting for it must not hit the 5 s
        // deadline of ordinary queries, so migrations get connections without one.
        const migrating = new Kysely<VaultDatabase>({
          dialect: createPostgresDialect(options.databaseUrl, { maxConnections: 2, connectionTimeoutMs: 3000, statementTimeoutMs: 0 }).dialect,
        });
        try {
          await migrateVault(migrating);
        } finally {
          await migrating.destroy();
        }
      } else {
        await migrateVault(db);
      }
    } catch (error) {
      await db.destroy();
      throw error;
    }
    return new TokenVault(db, options);
  }

  /** The database, for the accounts of the same app (see `Accounts`). */
  get database(): Kysely<VaultDatabase> {
    return this.#db;
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  /** Step 6: keeps the tokens of a sign-in (or a new consent) for this user and provider. */
  async store(userId: string, providerId: string, tokens: TokenSet): Promise<void> {
    const aad = `${userId}\u0000${providerId}`;
    const row = {
      access_token: this.#encryption.seal(tokens.accessToken, aad),
      refresh_token: tokens.refreshToken === undefined ? null : this.#encryption.seal(tokens.refreshToken, aad),
      scopes: JSON.stringify(tokens.scopes),
      expires_at: tokens.expiresAt ?? null,
      lease_owner: null,
      lease_until: null,
      updated_at: this.#clock.now(),
    };
    await this.#db
      .insertInto('client_tokens')
      .values({ user_id: userId, provider: providerId, version: 0, ...row })
      .onConflict((oc) => oc.columns(['user_id', 'provider']).doUpdateSet((eb) => ({ ...row, version: eb('client_tokens.version', '+', 1) })))
      .execute();
    await this.#db.updateTable('client_links').set({ needs_reauth: 0 }).where('user_id', '=', userId).where('provider', '=', providerId).execute();
  }

  /** The scopes and expiry of what is stored, without the secrets. */
  async describe(userId: string, providerId: string): Promise<StoredTokenInfo | undefined> {
    const row = await this.#row(userId, providerId);
    return (
      row && {
        scopes: JSON.parse(row.scopes) as string[],
        expiresAt: row.expires_at === null ? null : Number(row.expires_at),
        hasRefreshToken: row.refresh_token !== null,
        refreshCount: Number(row.version),
        updatedAt: Number(row.updated_at),
      }
    );
  }

  /** Step 7–8: a valid access token, refreshed first when it is about to expire. */
  async getAccessToken(userId: string, providerId: string): Promise<string> {
    const row = await this.#usableRow(userId, providerId);
    if (this.#fresh(row)) return this.#open(row.access_token, userId, providerId);
    return this.#singleFlight(userId, providerId, () => this.#refresh(userId, providerId));
  }

  /** Refreshes now, whatever the expiry says: for a token the API refused with 401. */
  async forceRefresh(userId: string, providerId: string, rejectedToken: string): Promise<string> {
    return this.#singleFlight(userId, providerId, () => this.#refresh(userId, providerId, rejectedToken));
  }

  /**
   * Calls an API with the user's token in the `Authorization` header (RFC 6750 §2.1); after a
   * 401 `invalid_token` it refreshes once and retries once, never more.
   */
  async fetch(userId: string, providerId: string, url: string | URL, init: RequestInit = {}): Promise<Response> {
    const call = (token: string) => this.#fetch(url, { ...init, headers: { ...headersObject(init.headers), authorization: `Bearer ${token}` } });
    const token = await this.getAccessToken(userId, providerId);
    const response = await call(token);
    if (response.status !== 401 || !/invalid_token/.test(response.headers.get('www-authenticate') ?? '')) return response;
    return call(await this.forceRefresh(userId, providerId, token));
  }

  /** Key rotation: re-seals every stored token with the current key; returns how many rows moved. */
  async reencrypt(): Promise<number> {
    const rows = await this.#db.selectFrom('client_tokens').selectAll().execute();
    let moved = 0;
    for (const row of rows) {
      if (this.#encryption.keyIdOf(row.access_token) === this.#encryption.currentKeyId) continue;
      const aad = `${row.user_id}\u0000${row.provider}`;
      const reseal = (value: string | null) => (value === null ? null : this.#encryption.seal(this.#encryption.open(value, aad), aad));
      const result = await this.#db
        .updateTable('client_tokens')
        .set({ access_token: reseal(row.access_token)!, refresh_token: reseal(row.refresh_token) })
        .where('user_id', '=', row.user_id)
        .where('provider', '=', row.provider)
        .where('version', '=', row.version)
        .executeTakeFirst();
      moved += Number(result.numUpdatedRows);
    }
    return moved;
  }

  async #row(userId: string, providerId: string) {
    return this.#db.selectFrom('client_tokens').selectAll().where('user_id', '=', userId).where('provider', '=', providerId).executeTakeFirst();
  }

  async #usableRow(userId: string, providerId: string) {
    const link = await this.#db
      .selectFrom('client_links')
      .select('needs_reauth')
      .where('user_id', '=', userId)
      .where('provider', '=', providerId)
      .executeTakeFirst();
    if (link !== undefined && Number(link.needs_reauth) === 1) {
      throw new ReauthenticationRequired(providerId, `sign in with ${providerId} again: the stored grant no longer works`);
    }
    const row = await this.#row(userId, providerId);
    if (row === undefined) throw new ReauthenticationRequired(providerId, `user ${userId} has no ${providerId} tokens; sign in first`);
    return row;
  }

  #fresh(row: { expires_at: number | null }): boolean {
    return row.expires_at === null || Number(row.expires_at) - this.#skewMs > this.#clock.now();
  }

  #open(sealed: string, userId: string, providerId: string): string {
    return this.#encryption.open(sealed, `${userId}\u0000${providerId}`);
  }

  #singleFlight(userId: string, providerId: string, work: () => Promise<string>): Promise<string> {
    const key = `${userId}\u0000${providerId}`;
    let flight = this.#inflight.get(key);
    if (flight === undefined) {
      flight = work().finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, flight);
    }
    return flight;
  }

  /**
   * One refresh across processes: take the lease with a conditional update; whoever does not get
   * it waits for the holder's result (a higher version) or for the lease to lapse.
   */
  async #refresh(userId: string, providerId: string, rejectedToken?: string): Promise<string> {
    const deadline = this.#clock.now() + this.#leaseMs * 2;
    for (;;) {
      const row = await this.#usableRow(userId, providerId);
      const current = this.#open(row.access_token, userId, providerId);
      if (rejectedToken === undefined ? this.#fresh(row) : current !== rejectedToken) return current;
      if (row.refresh_token === null) {
        // GitHub OAuth apps: no refresh token. A token without expiry stays until an API refuses it.
        if (row.expires_at === null && rejectedToken === undefined) return current;
        await this.#markNeedsReauth(userId, providerId);
        throw new ReauthenticationRequired(providerId, `the ${providerId} token expired and there is no refresh token; sign in again`);
      }
      const now = this.#clock.now();
      const leased = await this.#db
        .updateTable('client_tokens')
        .set({ lease_owner: this.#owner, lease_until: now + this.#leaseMs })
        .where('user_id', '=', userId)
        .where('provider', '=', providerId)
        .where('version', '=', row.version)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      if (Number(leased.numUpdatedRows) === 1) return this.#refreshHoldingLease(userId, providerId, row);
      if (this.#clock.now() > deadline) throw new OAuthError('temporarily_unavailable', 'another process is still refreshing this token');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async #refreshHoldingLease(
    userId: string,
    providerId: string,
    row: { refresh_token: string | null; scopes: string; version: number },
  ): Promise<string> {
    const provider = this.#providers.get(providerId);
    const release = () =>
      this.#db
        .updateTable('client_tokens')
        .set({ lease_owner: null, lease_until: null })
        .where('user_id', '=', userId)
        .where('provider', '=', providerId)
        .where('lease_owner', '=', this.#owner)
        .execute();
    if (provider === undefined) {
      await release();
      throw new OAuthError('invalid_request', `provider "${providerId}" is not configured in this vault`);
    }
    const refreshToken = this.#open(row.refresh_token!, userId, providerId);
    const scopes = JSON.parse(row.scopes) as string[];
    let tokens: TokenSet;
    try {
      // Half the lease: the new tokens are written while this process still holds it.
      tokens = await requestTokens(
        provider,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        scopes,
        this.#clock,
        this.#fetch,
        this.#leaseMs / 2,
      );
    } catch (error) {
      if (error instanceof TokenEndpointError && error.code === 'invalid_grant') {
        await this.#markNeedsReauth(userId, providerId);
        await release();
        throw new ReauthenticationRequired(providerId, `${provider.displayName} refused the refresh token (${error.description}); sign in again`);
      }
      await release();
      throw error;
    }
    const aad = `${userId}\u0000${providerId}`;
    // One statement: the new access token, the rotated refresh token (or the old one when the
    // provider does not rotate), the new version, and the lease released.
    await this.#db
      .updateTable('client_tokens')
      .set({
        access_token: this.#encryption.seal(tokens.accessToken, aad),
        refresh_token: this.#encryption.seal(tokens.refreshToken ?? refreshToken, aad),
        scopes: JSON.stringify(tokens.scopes),
        expires_at: tokens.expiresAt ?? null,
        version: row.version + 1,
        lease_owner: null,
        lease_until: null,
        updated_at: this.#clock.now(),
      })
      .where('user_id', '=', userId)
      .where('provider', '=', providerId)
      .where('lease_owner', '=', this.#owner)
      .execute();
    return tokens.accessToken;
  }

  async #markNeedsReauth(userId: string, providerId: string): Promise<void> {
    await this.#db.updateTable('client_links').set({ needs_reauth: 1 }).where('user_id', '=', userId).where('provider', '=', providerId).execute();
    await this.#db.deleteFrom('client_tokens').where('user_id', '=', userId).where('provider', '=', providerId).execute();
  }
}

function headersObject(headers: RequestInit['headers']): Record<string, string> {
  return Object.fromEntries(new Headers(headers).entries());
}
