import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Kysely, Migrator, sql } from 'kysely';
import { openSqlite } from '../../src/storage/dialects/sqlite.ts';
import { migrationProvider } from '../../src/storage/migrations/index.ts';
import { openStorage } from '../../src/storage/open-storage.ts';

/*
 * Migration 2026-12-04T02-client-policies on a database that already has clients: public clients
 * get `none` and `always_ask`, confidential ones `client_secret_basic` (RFC 7591 §2's default) and
 * `remember`, and nobody may introspect other clients' tokens until an operator says so.
 */

test('existing clients get the policies of their type', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-client-policies-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'gatehouse.db');
  const { dialect } = openSqlite(path);
  const db = new Kysely<unknown>({ dialect });
  const before = await new Migrator({ db, provider: migrationProvider }).migrateTo('2026-11-28T01-partial-token-indexes');
  assert.equal(before.error, undefined);
  for (const [id, type, secret] of [['web', 'confidential', 'h'.repeat(43)], ['app', 'public', null]] as const) {
    await sql`insert into clients (id, secret_hash, name, type, redirect_uris, grant_types, scopes, created_at)
      values (${id}, ${secret}, ${id}, ${type}, '[]', '["authorization_code"]', '["profile"]', 1)`.execute(db);
  }
  await db.destroy();

  const storage = await openStorage(`sqlite:${path}`);
  t.after(() => storage.close());
  const web = (await storage.findClient('web'))!;
  const app = (await storage.findClient('app'))!;
  assert.deepEqual(
    [web.tokenEndpointAuthMethod, web.consentPolicy, web.canIntrospect, web.servedResources],
    ['client_secret_basic', 'remember', false, []],
  );
  assert.deepEqual([app.tokenEndpointAuthMethod, app.consentPolicy, app.canIntrospect, app.servedResources], ['none', 'always_ask', false, []]);
});
