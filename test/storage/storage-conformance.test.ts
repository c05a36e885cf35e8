import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { OAuthError } from '../../src/shared/oauth-error.ts';
import { Kysely, sql } from 'kysely';
import { createPostgresDialect } from '../../src/storage/dialects/postgres.ts';
import { createSqliteDialect } from '../../src/storage/dialects/sqlite.ts';
import { usernames } from '../../src/storage/migrations/2026-12-04T00-usernames.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { createTestSchema } from '../support/postgres.ts';
import type { AccessTokenRecord, ClientRecord, RefreshTokenRecord, Storage } from '../../src/storage/storage.ts';

/**
 * One body of tests for every storage dialect (DESIGN: "one conformance suite runs on every
 * dialect"). Each dialect supplies a factory that opens a fresh, migrated database.
 */
interface Dialect {
  name: string;
  open(): Promise<{ storage: Storage; dispose(): Promise<void> }>;
  /** The database of a fresh `open()`, straight through Kysely: for a migration's own test. */
  raw(): Promise<{ db: Kysely<unknown>; url: string; dispose(): Promise<void> }>;
}

const dialects: Dialect[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-storage-'));
      const storage = await openStorage(`sqlite:${join(dir, 'db.sqlite')}`);
      return {
        storage,
        async dispose() {
          await storage.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    async raw() {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-storage-'));
      const path = join(dir, 'db.sqlite');
      const db = new Kysely<unknown>({ dialect: createSqliteDialect(path) });
      return {
        db,
        url: `sqlite:${path}`,
        async dispose() {
          await db.destroy();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = await createTestSchema();
      const storage = await openStorage(schema.url);
      return {
        storage,
        async dispose() {
          await storage.close();
          await schema.drop();
        },
      };
    },
    async raw() {
      const schema = await createTestSchema();
      const { dialect } = createPostgresDialect(schema.url, { maxConnections: 2, connectionTimeoutMs: 3000, statementTimeoutMs: 5000 });
      const db = new Kysely<unknown>({ dialect });
      return {
        db,
        url: schema.url,
        async dispose() {
          await db.destroy();
          await schema.drop();
        },
      };
    },
  },
];

const t0 = Date.UTC(2026, 10, 27);

function client(id: string): ClientRecord {
  return {
    id,
    secretHash: 'h'.repeat(43),
    name: `Client ${id}`,
    type: 'confidential',
    redirectUris: ['https://a.example/cb', 'https://b.example/cb?x=1'],
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['profile', 'email'],
    accessTokenTtlSeconds: 600,
    refreshTokenTtlSeconds: null,
    accessTokenFormat: 'opaque',
    resources: ['https://api.example/calendar'],
    // Not the registration defaults, so that each field is seen to round-trip.
    tokenEndpointAuthMethod: 'client_secret_post',
    consentPolicy: 'always_ask',
    canIntrospect: true,
    servedResources: ['https://api.example/notes'],
    createdAt: t0,
  };
}

function account(id: string, username = id) {
  return {
    id,
    username,
    passwordHash: '$argon2id$x',
    name: null,
    email: `${username}@example.com`,
    emailVerified: true,
    isAdmin: false,
    disabledAt: null,
    createdAt: t0,
  };
}

function accessToken(hash: string, familyId: string, expiresAt = t0 + 3600_000): AccessTokenRecord {
  return { hash, familyId, clientId: 'c1', accountId: 'a1', scopes: ['profile'], audience: ['https://api.example/calendar'], expiresAt, revokedAt: null, createdAt: t0 };
}

function refreshToken(hash: string, familyId: string, expiresAt = t0 + 86_400_000): RefreshTokenRecord {
  return {
    hash,
    familyId,
    grantId: 'g1',
    familyCreatedAt: t0,
    clientId: 'c1',
    accountId: 'a1',
    scopes: ['profile', 'email'],
    authTime: t0,
    expiresAt,
    rotatedAt: null,
    revokedAt: null,
    resources: null,
    createdAt: t0,
  };
}

function code(hash: string, expiresAt = t0 + 60_000) {
  return {
    hash,
    familyId: `family-${hash}`,
    grantId: 'g1',
    clientId: 'c1',
    accountId: 'a1',
    redirectUri: 'https://a.example/cb',
    scopes: ['profile'],
    codeChallenge: null,
    nonce: 'n-0S6_WzA2Mj',
    resources: ['https://api.example/calendar'],
    authTime: t0,
    expiresAt,
    consumedAt: null,
    retainUntil: expiresAt,
    createdAt: t0,
  };
}

for (const dialect of dialects) {
  describe(`storage conformance: ${dialect.name}`, () => {
    async function withStorage(t: { after(fn: () => Promise<void>): void }) {
      const { storage, dispose } = await dialect.open();
      t.after(dispose);
      await storage.insertClient(client('c1'));
      await storage.insertAccount(account('a1'));
      return storage;
    }

    test('a client round-trips field for field, and lists in creation order', async (t) => {
      const storage = await withStorage(t);
      assert.deepEqual(await storage.findClient('c1'), client('c1'));
      await storage.insertClient({ ...client('c2'), createdAt: t0 + 1 });
      assert.deepEqual((await storage.listClients()).map((c) => c.id), ['c1', 'c2']);
      assert.equal(await storage.updateClientSecret('c2', 'new'), true);
      assert.equal((await storage.findClient('c2'))?.secretHash, 'new');
      assert.equal(await storage.updateClientSecret('nope', 'new'), false);
      assert.equal(await storage.findClient('nope'), undefined);
    });

    test('a taken username is a conflict, and nothing is written', async (t) => {
      const storage = await withStorage(t);
      await assert.rejects(storage.insertAccount(account('a2', 'a1')), (error: unknown) => {
        assert.ok(error instanceof OAuthError);
        assert.equal(error.code, 'conflict');
        return true;
      });
      assert.equal(await storage.findAccount('a2'), undefined);
      assert.deepEqual(await storage.findAccountByUsername('a1'), account('a1'));
    });

    test('usernames are one account whatever their case, width or look-alike letters (issue 13 item 16)', async (t) => {
      const storage = await withStorage(t);
      await storage.insertAccount({ ...account('alice-id', 'alice'), createdAt: t0 + 1 });
      // Upper case, fullwidth (NFKC), Cyrillic а (U+0430) and е (U+0435), Greek α (U+03B1); Greek ο (U+03BF) below.
      for (const duplicate of ['Alice', 'ALICE', 'ａｌｉｃｅ', '\u0430lice', 'Alic\u0435', '\u03b1LICE']) {
        await assert.rejects(storage.insertAccount(account(`x-${duplicate}`, duplicate)), (error: unknown) => {
          assert.ok(error instanceof OAuthError, duplicate);
          assert.equal(error.code, 'conflict', duplicate);
          return true;
        });
        assert.equal((await storage.findAccountByUsername(duplicate))?.id, 'alice-id', duplicate);
      }
      await storage.insertAccount({ ...account('bob-id', 'B\u03bfb'), createdAt: t0 + 2 });
      assert.equal((await storage.findAccountByUsername('bob'))?.id, 'bob-id');
      assert.equal((await storage.findAccountByUsername('BOB'))?.id, 'bob-id');
      // Different names stay different.
      await storage.insertAccount({ ...account('alicia-id', 'alicia'), createdAt: t0 + 3 });
      assert.equal(await storage.findAccountByUsername('alic'), undefined);
      assert.deepEqual((await storage.listAccounts()).map((a) => a.username), ['B\u03bfb', 'a1', 'alice', 'alicia'].sort());
    });

    test('the username migration back-fills keys, and accounts that already clash keep signing in by their exact name', async (t) => {
      const { db, url, dispose } = await dialect.raw();
      t.after(dispose);
      const migrated = await openStorage(url);
      await migrated.close();
      // The schema as it was before the migration, holding names that clash by its rules.
      await usernames.down!(db);
      for (const [id, username, createdAt] of [['old-1', 'alice', 1], ['old-2', 'Alice', 2], ['old-3', '\u0430lice', 3], ['old-4', 'Bob', 4]] as const) {
        await sql`insert into accounts (id, username, password_hash, name, email, email_verified, created_at) values (${id}, ${username}, ${'$argon2id$x'}, ${null}, ${null}, ${0}, ${createdAt})`.execute(db);
      }
      await usernames.up(db);
      const rows = await sql<{ id: string; username_key: string }>`select id, username_key from accounts order by id`.execute(db);
      assert.deepEqual(rows.rows, [
        { id: 'old-1', username_key: 'alice' },
        { id: 'old-2', username_key: 'alice#old-2' },
        { id: 'old-3', username_key: 'alice#old-3' },
        { id: 'old-4', username_key: 'bob' },
      ]);
      const storage = await openStorage(url, { migrate: false });
      t.after(() => storage.close());
      assert.equal((await storage.findAccountByUsername('alice'))?.id, 'old-1');
      assert.equal((await storage.findAccountByUsername('ALICE'))?.id, 'old-1');
      assert.equal((await storage.findAccountByUsername('Alice'))?.id, 'old-2');
      assert.equal((await storage.findAccountByUsername('\u0430lice'))?.id, 'old-3');
      assert.equal((await storage.findAccountByUsername('bob'))?.id, 'old-4');
      await assert.rejects(storage.insertAccount(account('new', 'ALICE')), (error: unknown) => error instanceof OAuthError && error.code === 'conflict');
    });

    test('of ten concurrent consumers of one code exactly one wins; later ones see it consumed', async (t) => {
      const storage = await withStorage(t);
      await storage.insertAuthorizationCode(code('k1'));
      const results = await Promise.all(
        Array.from({ length: 10 }, () => storage.transaction((tx) => tx.consumeAuthorizationCode('k1', t0 + 1, t0 + 1000))),
      );
      assert.equal(results.filter((r) => r.outcome === 'consumed').length, 1);
      assert.equal(results.filter((r) => r.outcome === 'already-consumed').length, 9);
      assert.deepEqual(await storage.consumeAuthorizationCode('missing', t0, t0), { outcome: 'unknown' });
    });

    test('a failed transaction leaves nothing behind', async (t) => {
      const storage = await withStorage(t);
      await storage.insertAuthorizationCode(code('k2'));
      await assert.rejects(
        storage.transaction(async (tx) => {
          await tx.consumeAuthorizationCode('k2', t0 + 1, t0 + 1000);
          await tx.insertAccessToken(accessToken('at-rolled-back', 'family-k2'));
          throw new Error('checks failed');
        }),
        /checks failed/,
      );
      assert.equal(await storage.findAccessToken('at-rolled-back'), undefined);
      assert.equal((await storage.consumeAuthorizationCode('k2', t0 + 2, t0 + 1000)).outcome, 'consumed');
    });

    test('refresh tokens rotate once; revoking a family revokes its access and refresh tokens only', async (t) => {
      const storage = await withStorage(t);
      await storage.insertRefreshToken(refreshToken('r1', 'f1'));
      await storage.insertRefreshToken(refreshToken('r-other', 'f2'));
      await storage.insertAccessToken(accessToken('at1', 'f1'));
      await storage.insertAccessToken(accessToken('at-other', 'f2'));
      const first = await storage.rotateRefreshToken('r1', t0 + 5);
      assert.equal(first.outcome, 'consumed');
      assert.deepEqual(first.outcome === 'consumed' && first.record.scopes, ['profile', 'email']);
      const second = await storage.rotateRefreshToken('r1', t0 + 6);
      assert.equal(second.outcome, 'already-consumed');
      assert.equal(second.outcome === 'already-consumed' && second.record.rotatedAt, t0 + 5);
      await storage.revokeFamily('f1', t0 + 7);
      assert.equal((await storage.findAccessToken('at1'))?.revokedAt, t0 + 7);
      assert.equal((await storage.findAccessToken('at-other'))?.revokedAt, null);
      const rotatedOther = await storage.rotateRefreshToken('r-other', t0 + 8);
      assert.equal(rotatedOther.outcome === 'consumed' && rotatedOther.record.revokedAt, null);
    });

    test('access tokens are revoked one by one; refresh tokens are found with their resources', async (t) => {
      const storage = await withStorage(t);
      await storage.insertAccessToken(accessToken('at-a', 'f9'));
      await storage.insertAccessToken(accessToken('at-b', 'f9'));
      await storage.revokeAccessToken('at-a', t0 + 3);
      assert.equal((await storage.findAccessToken('at-a'))?.revokedAt, t0 + 3);
      assert.equal((await storage.findAccessToken('at-b'))?.revokedAt, null);
      assert.deepEqual((await storage.findAccessToken('at-b'))?.audience, ['https://api.example/calendar']);
      await storage.insertRefreshToken({ ...refreshToken('r9', 'f9'), resources: ['https://api.example/calendar'] });
      assert.deepEqual((await storage.findRefreshToken('r9'))?.resources, ['https://api.example/calendar']);
      assert.equal(await storage.findRefreshToken('nope'), undefined);
    });

    test('signing keys: inserted, listed oldest first, retired with a publication end, then deleted', async (t) => {
      const storage = await withStorage(t);
      const key = (kid: string, createdAt: number) => ({
        kid,
        alg: 'ES256' as const,
        publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid },
        privateJwkEncrypted: 'v1.a.b.c',
        state: 'active' as const,
        createdAt,
        retiredAt: null,
        publishUntil: null,
      });
      assert.equal(await storage.findActiveSigningKey('ES256'), undefined);
      await storage.insertSigningKey(key('k-new', t0 + 1));
      await storage.insertSigningKey(key('k-old', t0));
      assert.deepEqual((await storage.listSigningKeys()).map((k) => k.kid), ['k-old', 'k-new']);
      assert.deepEqual(await storage.findActiveSigningKey('ES256'), key('k-new', t0 + 1), 'the newest active key');
      assert.equal(await storage.findActiveSigningKey('RS256'), undefined, 'only keys of the algorithm asked for');
      await storage.retireSigningKey('k-new', t0 + 5, t0 + 100);
      assert.equal((await storage.findActiveSigningKey('ES256'))?.kid, 'k-old', 'a retired key is never the active one');
      await storage.insertSigningKey(key('k-newest', t0 + 2));
      await storage.retireSigningKey('k-old', t0 + 10, t0 + 100);
      const [old] = await storage.listSigningKeys();
      assert.deepEqual(old, { ...key('k-old', t0), state: 'retired', retiredAt: t0 + 10, publishUntil: t0 + 100 });
      await storage.deleteExpired(t0 + 50, 10);
      assert.equal((await storage.listSigningKeys()).length, 3);
      await storage.deleteExpired(t0 + 101, 10);
      assert.deepEqual((await storage.listSigningKeys()).map((k) => k.kid), ['k-newest']);
      assert.equal((await storage.findActiveSigningKey('ES256'))?.kid, 'k-newest');
    });

    test('consent is saved and extended per account and client, keeping the id of the first consent', async (t) => {
      const storage = await withStorage(t);
      assert.equal(await storage.saveGrant({ id: 'g1', accountId: 'a1', clientId: 'c1', scopes: ['profile'], createdAt: t0, updatedAt: t0, lastUsedAt: null }), 'g1');
      const extended = { id: 'g-other', accountId: 'a1', clientId: 'c1', scopes: ['profile', 'email'], createdAt: t0 + 9, updatedAt: t0 + 9, lastUsedAt: null };
      assert.equal(await storage.saveGrant(extended), 'g1');
      assert.deepEqual(await storage.findGrant('a1', 'c1'), {
        id: 'g1',
        accountId: 'a1',
        clientId: 'c1',
        scopes: ['profile', 'email'],
        createdAt: t0,
        updatedAt: t0 + 9,
        lastUsedAt: null,
      });
      assert.equal(await storage.findGrant('a1', 'c2'), undefined);
      // Deleted, then given anew: the new consent has the new id.
      await storage.deleteGrant('a1', 'c1');
      assert.equal(await storage.saveGrant({ ...extended, id: 'g2' }), 'g2');
      assert.equal((await storage.findGrant('a1', 'c1'))?.id, 'g2');
    });

    test('grants are listed per account, touched when used, and deleted; tokens are revoked per account and client', async (t) => {
      const storage = await withStorage(t);
      await storage.insertClient({ ...client('c2'), createdAt: t0 + 1 });
      await storage.saveGrant({ id: 'g1', accountId: 'a1', clientId: 'c1', scopes: ['profile'], createdAt: t0, updatedAt: t0, lastUsedAt: null });
      await storage.saveGrant({ id: 'g2', accountId: 'a1', clientId: 'c2', scopes: ['email'], createdAt: t0, updatedAt: t0 + 1, lastUsedAt: null });
      assert.equal(await storage.touchGrant('a1', 'c1', 'g1', t0 + 50), true);
      // Another consent's id (one revoked and given anew) touches nothing.
      assert.equal(await storage.touchGrant('a1', 'c2', 'g1', t0 + 51), false);
      assert.equal(await storage.touchGrant('a1', 'c3', 'g1', t0 + 51), false);
      assert.deepEqual((await storage.listGrantsOfAccount('a1')).map((g) => [g.clientId, g.lastUsedAt]), [['c1', t0 + 50], ['c2', null]]);
      await storage.insertAccessToken(accessToken('at-c1', 'fa'));
      await storage.insertAccessToken({ ...accessToken('at-c2', 'fb'), clientId: 'c2' });
      await storage.insertRefreshToken(refreshToken('rt-c1', 'fa'));
      await storage.revokeTokensOf('a1', 'c1', t0 + 60);
      assert.equal((await storage.findAccessToken('at-c1'))?.revokedAt, t0 + 60);
      assert.equal((await storage.findRefreshToken('rt-c1'))?.revokedAt, t0 + 60);
      assert.equal((await storage.findAccessToken('at-c2'))?.revokedAt, null);
      assert.equal(await storage.deleteGrant('a1', 'c1'), true);
      assert.equal(await storage.deleteGrant('a1', 'c1'), false);
      assert.deepEqual((await storage.listGrantsOfAccount('a1')).map((g) => g.clientId), ['c2']);
    });

    test('accounts: password, disabled and admin flags; sessions of an account end together', async (t) => {
      const storage = await withStorage(t);
      assert.equal(await storage.updateAccountPassword('a1', '$argon2id$new'), true);
      assert.equal(await storage.setAccountDisabled('a1', t0 + 5), true);
      assert.equal(await storage.setAccountAdmin('a1', true), true);
      assert.deepEqual(await storage.findAccount('a1'), { ...account('a1'), passwordHash: '$argon2id$new', disabledAt: t0 + 5, isAdmin: true });
      assert.equal(await storage.setAccountDisabled('nobody', null), false);
      for (const idHash of ['s-keep', 's-a', 's-b']) {
        await storage.insertSession({ idHash, accountId: 'a1', authTime: t0, expiresAt: t0 + 1000, createdAt: t0 });
      }
      await storage.deleteSessionsOfAccount('a1', 's-keep');
      assert.ok(await storage.findSession('s-keep'));
      assert.equal(await storage.findSession('s-a'), undefined);
      await storage.deleteSessionsOfAccount('a1');
      assert.equal(await storage.findSession('s-keep'), undefined);
    });

    test('clients are updated in place; the audit trail lists newest first', async (t) => {
      const storage = await withStorage(t);
      const updated = {
        ...client('c1'),
        name: 'Renamed',
        redirectUris: ['https://c.example/cb'],
        scopes: ['profile'],
        accessTokenFormat: 'jwt' as const,
        tokenEndpointAuthMethod: 'client_secret_basic' as const,
        consentPolicy: 'remember' as const,
        canIntrospect: false,
        servedResources: [],
      };
      assert.equal(await storage.updateClient({ ...updated, secretHash: 'ignored', createdAt: 1 }), true);
      assert.deepEqual(await storage.findClient('c1'), updated);
      for (const [id, at] of [['e1', t0], ['e2', t0 + 2], ['e3', t0 + 1]] as const) {
        await storage.insertAuditEvent({ id, at, actor: 'account:a1', action: 'login', subject: null, detail: { n: id }, ip: '127.0.0.1' });
      }
      const events = await storage.listAuditEvents(2);
      assert.deepEqual(events.map((e) => e.id), ['e2', 'e3']);
      assert.deepEqual(events[0], { id: 'e2', at: t0 + 2, actor: 'account:a1', action: 'login', subject: null, detail: { n: 'e2' }, ip: '127.0.0.1' });
    });

    test('deleting a client or an account takes its codes, tokens, sessions and grants with it', async (t) => {
      const storage = await withStorage(t);
      await storage.insertAuthorizationCode(code('k3'));
      await storage.insertAccessToken(accessToken('at3', 'f3'));
      await storage.insertSession({ idHash: 's1', accountId: 'a1', authTime: t0, expiresAt: t0 + 1000, createdAt: t0 });
      await storage.saveGrant({ id: 'g1', accountId: 'a1', clientId: 'c1', scopes: ['profile'], createdAt: t0, updatedAt: t0, lastUsedAt: null });
      assert.equal(await storage.deleteClient('c1'), true);
      assert.equal(await storage.deleteClient('c1'), false);
      assert.equal(await storage.findAccessToken('at3'), undefined);
      assert.equal((await storage.consumeAuthorizationCode('k3', t0, t0)).outcome, 'unknown');
      assert.equal(await storage.findGrant('a1', 'c1'), undefined);
      assert.ok(await storage.findSession('s1'));
      assert.equal(await storage.deleteAccount('a1'), true);
      assert.equal(await storage.findSession('s1'), undefined);
    });

    test('codes and refresh tokens round-trip their lineage; a consumed code is kept until it may go', async (t) => {
      const storage = await withStorage(t);
      await storage.insertAuthorizationCode(code('k-lineage'));
      const consumed = await storage.consumeAuthorizationCode('k-lineage', t0 + 1, t0 + 90_000_000);
      assert.deepEqual(consumed, { outcome: 'consumed', record: { ...code('k-lineage'), consumedAt: t0 + 1, retainUntil: t0 + 90_000_000 } });
      await storage.insertRefreshToken({ ...refreshToken('r-lineage', 'f-lineage'), grantId: 'g7', familyCreatedAt: t0 - 5 });
      assert.deepEqual(await storage.findRefreshToken('r-lineage'), { ...refreshToken('r-lineage', 'f-lineage'), grantId: 'g7', familyCreatedAt: t0 - 5 });
      // Past its expiry but not its retention: a replay must still find it.
      await storage.deleteExpired(t0 + 3_600_000, 10);
      assert.equal((await storage.consumeAuthorizationCode('k-lineage', t0 + 3_600_000, t0)).outcome, 'already-consumed');
      await storage.deleteExpired(t0 + 90_000_001, 10);
      assert.equal((await storage.consumeAuthorizationCode('k-lineage', t0 + 90_000_001, t0)).outcome, 'unknown');
    });

    test('the codes not yet redeemed of an account (and client) are deleted; redeemed ones stay', async (t) => {
      const storage = await withStorage(t);
      await storage.insertClient({ ...client('c2'), createdAt: t0 + 1 });
      await storage.insertAccount(account('a2'));
      await storage.insertAuthorizationCode(code('k-c1'));
      await storage.insertAuthorizationCode(code('k-c1-redeemed'));
      await storage.consumeAuthorizationCode('k-c1-redeemed', t0 + 1, t0 + 1000);
      await storage.insertAuthorizationCode({ ...code('k-c2'), clientId: 'c2' });
      await storage.insertAuthorizationCode({ ...code('k-a2'), accountId: 'a2' });
      await storage.deleteUnredeemedCodes('a1', 'c1');
      assert.equal((await storage.consumeAuthorizationCode('k-c1', t0 + 2, t0)).outcome, 'unknown');
      assert.equal((await storage.consumeAuthorizationCode('k-c1-redeemed', t0 + 2, t0)).outcome, 'already-consumed');
      await storage.deleteUnredeemedCodes('a1', undefined);
      assert.equal((await storage.consumeAuthorizationCode('k-c2', t0 + 2, t0)).outcome, 'unknown');
      assert.equal((await storage.consumeAuthorizationCode('k-a2', t0 + 2, t0)).outcome, 'consumed');
    });

    test('expired rows are deleted in bounded batches, live ones stay', async (t) => {
      const storage = await withStorage(t);
      for (let i = 0; i < 5; i++) await storage.insertAccessToken(accessToken(`old${i}`, 'f', t0 + i));
      await storage.insertAccessToken(accessToken('live', 'f', t0 + 10_000));
      await storage.insertAuthorizationCode(code('old-code', t0));
      await storage.insertSession({ idHash: 'old-session', accountId: 'a1', authTime: t0, expiresAt: t0, createdAt: t0 });
      assert.equal(await storage.deleteExpired(t0 + 100, 3), 5); // 3 tokens + 1 code + 1 session
      assert.equal(await storage.deleteExpired(t0 + 100, 3), 2);
      assert.equal(await storage.deleteExpired(t0 + 100, 3), 0);
      assert.ok(await storage.findAccessToken('live'));
      assert.equal(await storage.findSession('old-session'), undefined);
    });
  });
}
