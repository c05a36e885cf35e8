import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Kysely, Migrator, sql, type Dialect } from 'kysely';
import { createPostgresDialect } from '../../src/storage/dialects/postgres.ts';
import { openSqlite } from '../../src/storage/dialects/sqlite.ts';
import { migrationProvider } from '../../src/storage/migrations/index.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { createTestSchema } from '../support/postgres.ts';

/*
 * Migration 2026-12-04T01-token-lineage on a database with rows written before it: the grants,
 * codes and refresh tokens already there keep working (they share the grant id `legacy`), a
 * family's lifetime starts at its token's creation, and a code is kept until its own expiry.
 */

const before = '2026-11-28T01-partial-token-indexes';
const t0 = Date.UTC(2026, 11, 1);

interface Database {
  url: string;
  dialect(): Dialect;
  migrationTableSchema: string | undefined;
  dispose(): Promise<void>;
}

const databases: { name: string; open(): Promise<Database> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-lineage-'));
      const path = join(dir, 'db.sqlite');
      return {
        url: `sqlite:${path}`,
        dialect: () => openSqlite(path).dialect,
        migrationTableSchema: undefined,
        async dispose() {
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = await createTestSchema();
      return {
        url: schema.url,
        dialect: () => createPostgresDialect(schema.url, { maxConnections: 1, connectionTimeoutMs: 3000, statementTimeoutMs: 0 }).dialect,
        migrationTableSchema: schema.name,
        dispose: () => schema.drop(),
      };
    },
  },
];

for (const database of databases) {
  describe(`token-lineage migration: ${database.name}`, () => {
    test('rows from before it keep working: grant, code and refresh token share the grant id "legacy"', async (t) => {
      const db = await database.open();
      t.after(() => db.dispose());
      const kysely = new Kysely<unknown>({ dialect: db.dialect() });
      const migrator = new Migrator({
        db: kysely,
        provider: migrationProvider,
        ...(db.migrationTableSchema === undefined ? {} : { migrationTableSchema: db.migrationTableSchema }),
      });
      const { error } = await migrator.migrateTo(before);
      assert.equal(error, undefined);
      await sql`insert into clients (id, secret_hash, name, type, redirect_uris, grant_types, scopes, created_at, access_token_format, resources)
        values ('c1', null, 'Mine', 'public', '[]', '[]', '[]', ${t0}, 'opaque', '[]')`.execute(kysely);
      await sql`insert into accounts (id, username, password_hash, created_at) values ('a1', 'alice', 'x', ${t0})`.execute(kysely);
      await sql`insert into grants (account_id, client_id, scopes, created_at, updated_at) values ('a1', 'c1', '["profile"]', ${t0}, ${t0})`.execute(kysely);
      await sql`insert into authorization_codes (hash, family_id, client_id, account_id, redirect_uri, scopes, auth_time, expires_at, created_at)
        values ('k1', 'f1', 'c1', 'a1', 'https://a.example/cb', '["profile"]', ${t0}, ${t0 + 60_000}, ${t0})`.execute(kysely);
      await sql`insert into refresh_tokens (hash, family_id, client_id, account_id, scopes, expires_at, created_at, auth_time)
        values ('r1', 'f0', 'c1', 'a1', '["profile"]', ${t0 + 86_400_000}, ${t0 - 5}, ${t0 - 10})`.execute(kysely);
      await kysely.destroy();

      const storage = await openStorage(db.url);
      t.after(() => storage.close());
      const grant = await storage.findGrant('a1', 'c1');
      assert.equal(grant?.id, 'legacy');
      const refresh = await storage.findRefreshToken('r1');
      assert.equal(refresh?.grantId, 'legacy');
      assert.equal(refresh?.familyCreatedAt, t0 - 5, 'the family starts at its token');
      assert.equal(await storage.touchGrant('a1', 'c1', refresh!.grantId, t0 + 1), true, 'the refresh token still descends from the grant');
      const consumed = await storage.consumeAuthorizationCode('k1', t0 + 1, t0 + 1000);
      assert.equal(consumed.outcome === 'consumed' && consumed.record.grantId, 'legacy');
      // Extending the grant keeps "legacy"; a grant given anew after a revocation gets a new id.
      const extended = { id: 'new', accountId: 'a1', clientId: 'c1', scopes: ['profile', 'email'], createdAt: t0, updatedAt: t0 + 2, lastUsedAt: null };
      assert.equal(await storage.saveGrant(extended), 'legacy');
      await storage.deleteGrant('a1', 'c1');
      assert.equal(await storage.saveGrant(extended), 'new');
      assert.equal(await storage.touchGrant('a1', 'c1', 'legacy', t0 + 3), false);
    });

    test('a code written before it is kept until its own expiry', async (t) => {
      const db = await database.open();
      t.after(() => db.dispose());
      const kysely = new Kysely<unknown>({ dialect: db.dialect() });
      const migrator = new Migrator({
        db: kysely,
        provider: migrationProvider,
        ...(db.migrationTableSchema === undefined ? {} : { migrationTableSchema: db.migrationTableSchema }),
      });
      assert.equal((await migrator.migrateTo(before)).error, undefined);
      await sql`insert into clients (id, secret_hash, name, type, redirect_uris, grant_types, scopes, created_at, access_token_format, resources)
        values ('c1', null, 'Mine', 'public', '[]', '[]', '[]', ${t0}, 'opaque', '[]')`.execute(kysely);
      await sql`insert into accounts (id, username, password_hash, created_at) values ('a1', 'alice', 'x', ${t0})`.execute(kysely);
      await sql`insert into authorization_codes (hash, family_id, client_id, account_id, redirect_uri, scopes, auth_time, expires_at, consumed_at, created_at)
        values ('k-used', 'f1', 'c1', 'a1', 'https://a.example/cb', '["profile"]', ${t0}, ${t0 + 60_000}, ${t0 + 1}, ${t0})`.execute(kysely);
      await kysely.destroy();

      const storage = await openStorage(db.url);
      t.after(() => storage.close());
      await storage.deleteExpired(t0 + 59_000, 10);
      assert.equal((await storage.consumeAuthorizationCode('k-used', t0 + 59_000, t0)).outcome, 'already-consumed');
      await storage.deleteExpired(t0 + 60_001, 10);
      assert.equal((await storage.consumeAuthorizationCode('k-used', t0 + 60_001, t0)).outcome, 'unknown');
    });
  });
}
