import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import { openStorage } from '../../src/storage/open-storage.ts';
import { migrationProvider } from '../../src/storage/migrations/index.ts';
import { createTestSchema, testPostgresUrl, type TestSchema } from '../support/postgres.ts';
import { runGatehouse } from '../support/gatehouse-cli.ts';

/*
 * The schema's life cycle on PostgreSQL through the real command line: `gatehouse migrate`
 * creates and upgrades it, `gatehouse start --no-migrate` refuses an outdated one, and a schema
 * written by a newer Gatehouse is never touched by this one. Each test has a schema of its own,
 * so they run at the same time (every `gatehouse` command costs a Node start-up).
 */

const keyEncryptionKey = randomBytes(32).toString('base64url');
const knownMigrations = Object.keys(await migrationProvider.getMigrations());
const futureMigration = '2099-01-01T00-future';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one `gatehouse …` command against `databaseUrl`; a command still running after 60 s is killed and fails. */
function gatehouse(args: string[], databaseUrl: string): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    GATEHOUSE_KEY_ENCRYPTION_KEY: keyEncryptionKey,
    LOG_LEVEL: 'silent',
    // `start` must not get as far as listening on a port in use; 0 picks a free one if it does.
    PORT: '0',
    HOST: '127.0.0.1',
  };
  delete env.NODE_TEST_CONTEXT;
  return runGatehouse(args, { env });
}

async function query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function tablesOf(schema: TestSchema): Promise<string[]> {
  const rows = await query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1 order by table_name', [
    schema.name,
  ]);
  return rows.map((row) => row.table_name);
}

async function appliedMigrations(schema: TestSchema): Promise<{ name: string; timestamp: string }[]> {
  return query(`select name, timestamp from ${schema.name}.kysely_migration order by name`);
}

async function freshSchema(t: TestContext): Promise<TestSchema> {
  const schema = await createTestSchema();
  t.after(() => schema.drop());
  return schema;
}

/** The lines of a command's error output. */
function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** The advisory lock Kysely's PostgreSQL adapter takes around migrations (kysely/dist/esm/dialect/postgres/postgres-adapter.js). */
const kyselyMigrationLockId = '3853314791062309107';

/** How many connections of `applicationName` wait for a lock right now. */
async function waitingForLock(applicationName: string): Promise<number> {
  const rows = await query<{ count: string }>(
    `select count(*) from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock' and wait_event = 'advisory'`,
    [applicationName],
  );
  return Number(rows[0]!.count);
}

const gatehouseTables = ['access_tokens', 'accounts', 'authorization_codes', 'clients', 'grants', 'refresh_tokens', 'sessions', 'signing_keys'];

describe('the database schema on PostgreSQL', { concurrency: true }, () => {
  test('gatehouse migrate creates the schema and says it is up to date; running it again is harmless', async (t) => {
    const [schema, neighbour] = await Promise.all([freshSchema(t), freshSchema(t)]);
    // Another deployment in the same database, with migration tables of its own, must not be
    // taken for this one.
    await (await openStorage(neighbour.url)).close();
    assert.deepEqual(await tablesOf(schema), []);

    const first = await gatehouse(['migrate'], schema.url);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'The database schema is up to date.\n');
    assert.equal(first.stderr, '');
    const tables = await tablesOf(schema);
    for (const table of [...gatehouseTables, 'kysely_migration', 'kysely_migration_lock']) assert.ok(tables.includes(table), `table ${table} exists`);
    const applied = await appliedMigrations(schema);
    assert.deepEqual(
      applied.map((row) => row.name),
      knownMigrations,
    );

    const second = await gatehouse(['migrate'], schema.url);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, 'The database schema is up to date.\n');
    assert.deepEqual(await appliedMigrations(schema), applied, 'nothing was applied again');
    assert.deepEqual(await tablesOf(schema), tables);

    // What `start --no-migrate` checks now passes.
    const storage = await openStorage(schema.url, { migrate: false });
    await storage.close();
  });

  test('start --no-migrate on an empty schema exits non-zero with one line telling to run gatehouse migrate', async (t) => {
    const schema = await freshSchema(t);
    const result = await gatehouse(['start', '--no-migrate'], schema.url);
    assert.equal(result.code, 1, result.stdout);
    assert.doesNotMatch(result.stdout, /listening/);
    const errors = lines(result.stderr);
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0]!, /^gatehouse: /);
    assert.match(errors[0]!, /run `gatehouse migrate`/);
    for (const name of knownMigrations) assert.ok(errors[0]!.includes(name), `the message names the missing migration ${name}`);
    // It refused without creating anything.
    assert.deepEqual(await tablesOf(schema), []);
  });

  test('a schema with a migration this code does not know: start and migrate refuse and say the schema is newer', async (t) => {
    const schema = await freshSchema(t);
    await (await openStorage(schema.url)).close();
    await query(`insert into ${schema.name}.kysely_migration (name, timestamp) values ($1, $2)`, [futureMigration, new Date().toISOString()]);
    const before = await appliedMigrations(schema);

    const [start, migrate] = await Promise.all([gatehouse(['start'], schema.url), gatehouse(['migrate'], schema.url)]);
    for (const [command, result] of [['start', start], ['migrate', migrate]] as const) {
      assert.equal(result.code, 1, `${command}: ${result.stdout}${result.stderr}`);
      assert.doesNotMatch(result.stdout, /listening|up to date/);
      const errors = lines(result.stderr);
      assert.equal(errors.length, 1, result.stderr);
      assert.match(errors[0]!, /^gatehouse: the database schema is newer than this Gatehouse/, command);
      assert.ok(errors[0]!.includes(futureMigration), `${command} names the unknown migration`);
      assert.match(errors[0]!, /upgrade Gatehouse/);
    }
    // Nothing was rolled back or re-applied.
    assert.deepEqual(await appliedMigrations(schema), before);
  });

  test('two gatehouse migrate processes started at the same time on one fresh schema both succeed', async (t) => {
    const schema = await freshSchema(t);
    const results = await Promise.all([gatehouse(['migrate'], schema.url), gatehouse(['migrate'], schema.url)]);
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'The database schema is up to date.\n');
    }
    // Each migration ran once: a second run would have failed on tables that already exist.
    assert.deepEqual(
      (await appliedMigrations(schema)).map((row) => row.name),
      knownMigrations,
    );
    const tables = await tablesOf(schema);
    for (const table of gatehouseTables) assert.ok(tables.includes(table), `table ${table} exists`);
  });

  test('migrating waits for a migration in progress elsewhere for longer than a request may take, then succeeds', async (t) => {
    const schema = await freshSchema(t);
    // Named, so that this test finds its own connections among everyone's.
    const applicationName = `${schema.name}_migrate`;
    const url = `${schema.url}&application_name=${applicationName}`;

    // Another migration holds Kysely's lock (one for the whole database).
    const holder = new pg.Client({ connectionString: testPostgresUrl });
    await holder.connect();
    t.after(() => holder.end());
    await holder.query(`select pg_advisory_lock(${kyselyMigrationLockId})`);
    let settled = false;
    const migrating = Promise.allSettled([openStorage(url), openStorage(url)]).finally(() => (settled = true));
    try {
      const deadline = Date.now() + 20_000;
      while (!settled && (await waitingForLock(applicationName)) < 2) {
        assert.ok(Date.now() < deadline, 'both wait for the migration lock');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(settled, false, 'both wait for the migration lock');
      // Longer than request queries may take (5 s on the server, 6 s on the client).
      await new Promise((resolve) => setTimeout(resolve, 6_500));
      assert.equal(settled, false, 'still waiting');
    } finally {
      await holder.query(`select pg_advisory_unlock(${kyselyMigrationLockId})`);
    }
    const results = await migrating;
    for (const result of results) {
      assert.equal(result.status, 'fulfilled', result.status === 'rejected' ? String(result.reason) : '');
      if (result.status === 'fulfilled') await result.value.close();
    }
    assert.deepEqual(
      (await appliedMigrations(schema)).map((row) => row.name),
      knownMigrations,
    );
  });
});
