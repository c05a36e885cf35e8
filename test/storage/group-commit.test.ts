import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { openSqlite } from '../../src/storage/dialects/sqlite.ts';
import { isDatabaseUnavailable } from '../../src/storage/database-unavailable.ts';
import type { Database as Schema } from '../../src/storage/schema.ts';
import { SqliteStorage } from '../../src/storage/sqlite-storage.ts';
import type { AccessTokenRecord, AuditEventRecord, Storage } from '../../src/storage/storage.ts';

/*
 * The SQLite storage's group commit (src/storage/group-commit.ts), through the Storage interface:
 * concurrent transactions share one commit, and the rule that matters is "acknowledged ⇒ on disk".
 * What is on disk is read through a second connection, which sees only committed data. Disk full
 * is real: `max_page_count` makes SQLite fail with SQLITE_FULL and roll the whole transaction back.
 */

const t0 = Date.now();

async function open(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-group-commit-'));
  const path = join(dir, 'gatehouse.db');
  const { dialect, database } = openSqlite(path);
  const storage = new SqliteStorage(new Kysely<Schema>({ dialect }), database);
  await storage.migrate();
  await storage.insertClient({
    id: 'c1',
    secretHash: null,
    name: 'client',
    type: 'public',
    redirectUris: ['https://app.example/cb'],
    grantTypes: ['authorization_code'],
    scopes: ['profile'],
    accessTokenTtlSeconds: null,
    refreshTokenTtlSeconds: null,
    accessTokenFormat: 'opaque',
    resources: [],
    tokenEndpointAuthMethod: 'none',
    consentPolicy: 'always_ask',
    canIntrospect: false,
    servedResources: [],
    createdAt: t0,
  });
  const disk = new Database(path, { readonly: true });
  t.after(async () => {
    disk.close();
    await storage.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  const onDisk = (hash: string) => (disk.prepare('select count(*) as n from access_tokens where hash = ?').get(hash) as { n: number }).n === 1;
  return { storage, database, onDisk, path };
}

/** A second storage on the same file, as another process would have. */
async function openOther(t: TestContext, path: string): Promise<SqliteStorage> {
  const { dialect, database } = openSqlite(path);
  const storage = new SqliteStorage(new Kysely<Schema>({ dialect }), database);
  t.after(() => storage.close());
  return storage;
}

function token(hash: string): AccessTokenRecord {
  return { hash, familyId: `family-${hash}`, clientId: 'c1', accountId: null, scopes: ['profile'], audience: null, expiresAt: t0 + 3_600_000, revokedAt: null, createdAt: t0 };
}

/** An audit event far larger than a few free pages. */
function bigEvent(id: string): AuditEventRecord {
  return { id, at: t0, actor: 'test', action: 'big', subject: null, detail: { blob: 'x'.repeat(256 * 1024) }, ip: null };
}

const settle = <T>(promise: Promise<T>) => promise.then((value) => ({ ok: value }) as const, (error: unknown) => ({ error }) as const);

test('concurrent transactions share commits; each is acknowledged only once on disk, and one that throws leaves nothing', async (t) => {
  const { storage, onDisk } = await open(t);
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      settle(
        storage.transaction(async (tx) => {
          await tx.insertAccessToken(token(`t${i}`));
          if (i % 5 === 0) throw new Error(`transaction ${i} fails`);
          return i;
        }),
      ),
    ),
  );
  for (const [i, result] of results.entries()) {
    if (i % 5 === 0) {
      assert.ok('error' in result, `transaction ${i} fails`);
      assert.equal(onDisk(`t${i}`), false, `nothing of failed transaction ${i} is on disk`);
    } else {
      assert.deepEqual(result, { ok: i });
      assert.equal(onDisk(`t${i}`), true, `acknowledged transaction ${i} is on disk`);
    }
  }
  assert.ok(storage.largestGroupCommit > 1, `several transactions shared a commit (largest ${storage.largestGroupCommit})`);
});

test('a write outside a transaction returns only once it is on disk', async (t) => {
  const { storage, onDisk } = await open(t);
  const writes = Array.from({ length: 10 }, (_, i) => storage.insertAccessToken(token(`w${i}`)).then(() => onDisk(`w${i}`)));
  assert.deepEqual(await Promise.all(writes), Array(10).fill(true));
});

test('a one-statement write outside a transaction that fails takes nothing else with it', async (t) => {
  // insertAccessToken alone runs without a savepoint: SQLite backs out the failed statement.
  const { storage, onDisk } = await open(t);
  await storage.insertAccessToken(token('taken'));
  const results = await Promise.all([
    settle(storage.insertAccessToken(token('before'))),
    settle(storage.insertAccessToken(token('taken'))), // primary key taken: SQLITE_CONSTRAINT
    settle(storage.transaction(async (tx) => tx.insertAccessToken(token('inside')))),
    settle(storage.insertAccessToken(token('after'))),
  ]);
  assert.ok('ok' in results[0] && 'ok' in results[2] && 'ok' in results[3], 'the others are acknowledged');
  assert.ok('error' in results[1]);
  assert.match(String((results[1].error as { code?: string }).code), /^SQLITE_CONSTRAINT/);
  for (const hash of ['before', 'inside', 'after']) assert.equal(onDisk(hash), true, `${hash} is on disk`);
  assert.equal((await storage.findAccessToken('taken'))?.familyId, 'family-taken');
});

test('disk full under one-statement writes outside a transaction: the batch fails for every member', async (t) => {
  const { storage, database, onDisk } = await open(t);
  const pages = database.pragma('page_count', { simple: true }) as number;
  database.pragma(`max_page_count = ${pages + 3}`);
  const writes = Array.from({ length: 200 }, (_, i) => settle(storage.insertAccessToken({ ...token(`full${i}`), scopes: ['x'.repeat(2000)] })));
  const results = await Promise.all(writes);
  const failed = results.filter((result) => 'error' in result);
  assert.ok(failed.length > 0, 'the disk filled up');
  for (const [i, result] of results.entries()) {
    assert.equal(onDisk(`full${i}`), 'ok' in result, `write ${i} is on disk exactly when it was acknowledged`);
    if ('error' in result) assert.ok(isDatabaseUnavailable(result.error), `write ${i} gets a 503, not a 500`);
  }
  database.pragma('max_page_count = 1073741823');
  await storage.insertAccessToken(token('after'));
  assert.equal(onDisk('after'), true);
});

for (const withReads of [false, true]) {
  test(`disk full: the batch fails for every member, nothing of it is on disk, and the next transaction works${withReads ? ' (with reads running meanwhile)' : ''}`, async (t) => {
    const { storage, database, onDisk } = await open(t);
    const pages = database.pragma('page_count', { simple: true }) as number;
    database.pragma(`max_page_count = ${pages + 3}`);
    let readsDone = 0;
    const first = settle(storage.transaction(async (tx) => tx.insertAccessToken(token('first'))));
    const full = settle(
      storage.transaction(async (tx) => {
        if (withReads) {
          // Other requests authenticating their clients while this one fails.
          void (async () => {
            for (let i = 0; i < 20; i++) {
              await null;
              if ((await storage.findClient('c1')) !== undefined) readsDone++;
            }
          })();
        }
        await tx.insertAuditEvent(bigEvent('big'));
      }),
    );
    const [firstResult, fullResult] = await Promise.all([first, full]);
    assert.ok('error' in fullResult, 'the transaction that filled the disk fails');
    assert.equal((fullResult.error as { code?: string }).code, 'SQLITE_FULL');
    assert.ok('error' in firstResult, 'its batch-mate is not acknowledged: its write went with the rollback');
    assert.equal(onDisk('first'), false);
    assert.ok(isDatabaseUnavailable(firstResult.error), 'the batch-mate gets a 503 (temporarily_unavailable), not a 500');
    if (withReads) assert.ok(readsDone > 0, 'the reads ran');

    database.pragma('max_page_count = 1073741823');
    await storage.transaction(async (tx) => tx.insertAccessToken(token('after')));
    assert.equal(onDisk('after'), true);
  });
}

test('a transaction that catches the disk-full error cannot write on outside the transaction', async (t) => {
  const { storage, database, onDisk } = await open(t);
  await storage.insertAccessToken(token('seed'));
  const pages = database.pragma('page_count', { simple: true }) as number;
  database.pragma(`max_page_count = ${pages + 3}`);
  const result = await settle(
    storage.transaction(async (tx: Storage) => {
      await tx.insertAuditEvent(bigEvent('big')).catch(() => {});
      await tx.revokeAccessToken('seed', t0 + 1);
      await tx.insertAccessToken(token('later'));
    }),
  );
  assert.ok('error' in result);
  assert.ok(isDatabaseUnavailable(result.error));
  database.pragma('max_page_count = 1073741823');
  assert.equal((await storage.findAccessToken('seed'))?.revokedAt, null, 'the revocation after the failure did not happen');
  assert.equal(onDisk('later'), false);
});

test('close lets the transactions already waiting finish, then refuses new ones', async (t) => {
  const { storage, onDisk } = await open(t);
  const pending = Array.from({ length: 8 }, (_, i) => storage.transaction(async (tx) => tx.insertAccessToken(token(`p${i}`))));
  const closed = storage.close();
  await Promise.all(pending);
  await closed;
  for (let i = 0; i < 8; i++) assert.equal(onDisk(`p${i}`), true);
  await assert.rejects(storage.transaction(async (tx) => tx.insertAccessToken(token('too-late'))), /closed/);
});

test('clients are cached, but a change committed by another process is seen at the next turn', async (t) => {
  const { storage, path } = await open(t);
  assert.equal((await storage.findClient('c1'))?.name, 'client');
  // The CLI, say: another connection to the same file.
  const other = await openOther(t, path);
  await other.updateClient({ ...(await other.findClient('c1'))!, name: 'renamed' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal((await storage.findClient('c1'))?.name, 'renamed');
  await other.deleteClient('c1');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(await storage.findClient('c1'), undefined);
});

test('a client change that rolls back is never served from the cache, even if read meanwhile', async (t) => {
  const { storage } = await open(t);
  const original = (await storage.findClient('c1'))!;
  let readMeanwhile: string | undefined;
  const result = await settle(
    storage.transaction(async (tx) => {
      await tx.updateClient({ ...original, name: 'uncommitted' });
      readMeanwhile = (await storage.findClient('c1'))?.name; // another request, outside the transaction
      throw new Error('the change fails');
    }),
  );
  assert.ok('error' in result);
  assert.equal(readMeanwhile, 'uncommitted', 'a read outside the transaction saw the change in progress (documented)');
  assert.equal((await storage.findClient('c1'))?.name, 'client', 'after the rollback the database is what counts');
  assert.throws(() => ((original as { name: string }).name = 'x'), TypeError, 'a cached client cannot be changed by a caller');
});

test('access tokens are cached, but a revocation is seen as soon as it is acknowledged, and one by another process at the next turn', async (t) => {
  const { storage, path } = await open(t);
  await storage.insertAccessToken(token('a1'));
  await storage.insertAccessToken(token('a2'));
  const first = (await storage.findAccessToken('a1'))!;
  assert.equal(first.revokedAt, null);
  assert.equal(await storage.findAccessToken('a1'), first, 'the second lookup is served from the cache');
  assert.throws(() => ((first as { revokedAt: number | null }).revokedAt = 1), TypeError, 'a cached token cannot be changed by a caller');
  await storage.revokeAccessToken('a1', t0 + 5);
  assert.equal((await storage.findAccessToken('a1'))?.revokedAt, t0 + 5);
  // The CLI, say: another connection to the same file.
  assert.equal((await storage.findAccessToken('a2'))?.revokedAt, null);
  const other = await openOther(t, path);
  await other.revokeAccessToken('a2', t0 + 6);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal((await storage.findAccessToken('a2'))?.revokedAt, t0 + 6);
  await other.deleteClient('c1'); // its tokens go with it (on delete cascade)
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(await storage.findAccessToken('a2'), undefined);
});

test('a lookup that runs while a revocation is being written cannot leave the unrevoked row cached', async (t) => {
  const { storage } = await open(t);
  await storage.insertAccessToken(token('r1'));
  await storage.findAccessToken('r1');
  const revoked = storage.revokeAccessToken('r1', t0 + 5);
  // Other requests' lookups, interleaved with the revocation's own steps until it is acknowledged.
  let done = false;
  void revoked.then(() => (done = true));
  const seen: (number | null | undefined)[] = [];
  while (!done) {
    seen.push((await storage.findAccessToken('r1'))?.revokedAt);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await revoked;
  assert.ok(seen.includes(null), 'some lookups ran before the revocation was written');
  assert.equal((await storage.findAccessToken('r1'))?.revokedAt, t0 + 5);
});

test('a revocation that rolls back is never served from the cache, even if read meanwhile', async (t) => {
  const { storage } = await open(t);
  await storage.insertAccessToken(token('b1'));
  assert.equal((await storage.findAccessToken('b1'))?.revokedAt, null);
  let readMeanwhile: number | null | undefined;
  const result = await settle(
    storage.transaction(async (tx) => {
      await tx.revokeAccessToken('b1', t0 + 5);
      readMeanwhile = (await storage.findAccessToken('b1'))?.revokedAt; // another request, outside the transaction
      throw new Error('the revocation fails');
    }),
  );
  assert.ok('error' in result);
  assert.equal(readMeanwhile, t0 + 5, 'a read outside the transaction saw the change in progress (documented)');
  assert.equal((await storage.findAccessToken('b1'))?.revokedAt, null, 'after the rollback the database is what counts');
});

test('the active signing key is cached, and a rotation by another process is seen at the next turn', async (t) => {
  const { storage, path } = await open(t);
  const key = (kid: string, createdAt: number) => ({
    kid,
    alg: 'ES256' as const,
    publicJwk: { kty: 'EC', kid },
    privateJwkEncrypted: 'v1.a.b.c',
    state: 'active' as const,
    createdAt,
    retiredAt: null,
    publishUntil: null,
  });
  await storage.insertSigningKey(key('k1', t0));
  assert.equal((await storage.findActiveSigningKey('ES256'))?.kid, 'k1');
  await storage.insertSigningKey(key('k2', t0 + 1));
  assert.equal((await storage.findActiveSigningKey('ES256'))?.kid, 'k2', 'a rotation through this storage is seen at once');
  const other = await openOther(t, path);
  await other.insertSigningKey(key('k3', t0 + 2));
  await other.retireSigningKey('k2', t0 + 2, t0 + 10);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal((await storage.findActiveSigningKey('ES256'))?.kid, 'k3', 'a rotation by another process is seen at the next turn');
});
