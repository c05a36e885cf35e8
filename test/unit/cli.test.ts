import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { verifyPassword } from '../../src/server/accounts/password.ts';
import { hashSecret, secretMatchesHash } from '../../src/server/keys/opaque-secret.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { assertOneLineError, assertSucceeded, onlyEnv, runGatehouse as runCli } from '../support/gatehouse-cli.ts';

/**
 * The `gatehouse` command run as its users run it: a separate `node bin/gatehouse.js` process
 * against its own SQLite file. Each spawn costs about a second of CPU, so the tests run
 * concurrently and independent commands within a test run side by side.
 */


interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Cli {
  databaseUrl: string;
  databaseFile: string;
  run(args: string[], stdin?: string): Promise<Run>;
}

/** A fresh database folder for one test, removed when the test ends. */
function cliWithOwnDatabase(t: TestContext): Cli {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const databaseFile = join(dir, 'g.db');
  const databaseUrl = `sqlite:${databaseFile}`;
  return { databaseUrl, databaseFile, run: (args, stdin) => runGatehouse(args, databaseUrl, stdin) };
}

function runGatehouse(args: string[], databaseUrl: string, stdin?: string): Promise<Run> {
  // Only what the command needs: the test runner's own variables (NODE_TEST_CONTEXT, …) and
  // any PORT or GATEHOUSE_ISSUER of the developer's shell must not leak in.
  return runCli(args, { env: onlyEnv({ DATABASE_URL: databaseUrl }), stdin });
}



/** The raw bytes of the SQLite database, with its write-ahead log if one is left. */
function rawDatabaseBytes(databaseFile: string): string {
  const files = [databaseFile, `${databaseFile}-wal`].filter((file) => existsSync(file));
  return files.map((file) => readFileSync(file).toString('latin1')).join('');
}

const secretPattern = /^[A-Za-z0-9_-]{43}$/;

describe('gatehouse CLI', { concurrency: true, timeout: 180_000 }, () => {
  test('clients: create prints the secret once; show and list never do; rotate-secret and delete work', async (t) => {
    const cli = cliWithOwnDatabase(t);
    const created = await cli.run([
      'clients', 'create', '--name', 'Mine', '--redirect-uri', 'https://mine.example/callback', '--json',
    ]);
    assertSucceeded(created, 'clients create');
    const registration = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.equal(typeof registration.client_id, 'string');
    assert.equal(typeof registration.client_secret, 'string');
    const clientId = registration.client_id as string;
    const secret = registration.client_secret as string;
    assert.match(secret, secretPattern);
    assert.equal(registration.client_name, 'Mine');
    assert.equal(registration.client_type, 'confidential');
    assert.deepEqual(registration.redirect_uris, ['https://mine.example/callback']);
    assert.equal(registration.scope, 'profile');

    const [show, showJson, list] = await Promise.all([
      cli.run(['clients', 'show', clientId]),
      cli.run(['clients', 'show', clientId, '--json']),
      cli.run(['clients', 'list']),
    ]);
    for (const [name, run] of Object.entries({ show, showJson, list })) {
      assertSucceeded(run, name);
      assert.ok(run.stdout.includes(clientId), `${name} names the client`);
      assert.ok(!run.stdout.includes(secret), `${name} must not print the secret`);
      assert.doesNotMatch(run.stdout, /client_secret"?:/, `${name} must not print a secret field`);
    }
    assert.match(show.stdout, /name:\s+Mine/);
    assert.match(show.stdout, /redirect_uris:\s+https:\/\/mine\.example\/callback/);
    assert.equal((JSON.parse(showJson.stdout) as { client_id: string }).client_id, clientId);
    assert.match(list.stdout, new RegExp(`^${clientId}\\s+confidential\\s+Mine$`, 'm'));

    // The printed secret is the one the server will accept, and it is stored only as a hash.
    const storage = await openStorage(cli.databaseUrl);
    try {
      const stored = await storage.findClient(clientId);
      assert.ok(stored?.secretHash, 'the client has a stored secret hash');
      assert.equal(secretMatchesHash(secret, stored.secretHash), true);
      assert.equal(secretMatchesHash(`${secret}x`, stored.secretHash), false);
    } finally {
      await storage.close();
    }
    const bytes = rawDatabaseBytes(cli.databaseFile);
    assert.ok(bytes.includes(clientId), 'the raw bytes hold the client (so the check below means something)');
    assert.ok(bytes.includes(hashSecret(secret)), 'the raw bytes hold the secret hash');
    assert.ok(!bytes.includes(secret), 'the secret must not be stored in the clear');

    const rotated = await cli.run(['clients', 'rotate-secret', clientId, '--json']);
    assertSucceeded(rotated, 'clients rotate-secret');
    const rotation = JSON.parse(rotated.stdout) as { client_id: string; client_secret: string };
    assert.equal(rotation.client_id, clientId);
    assert.match(rotation.client_secret, secretPattern);
    assert.notEqual(rotation.client_secret, secret);
    const afterRotation = await openStorage(cli.databaseUrl);
    try {
      const stored = await afterRotation.findClient(clientId);
      assert.equal(secretMatchesHash(rotation.client_secret, stored!.secretHash!), true, 'the new secret works');
      assert.equal(secretMatchesHash(secret, stored!.secretHash!), false, 'the old secret stops working');
    } finally {
      await afterRotation.close();
    }
    assert.ok(!rawDatabaseBytes(cli.databaseFile).includes(rotation.client_secret), 'the new secret is not stored in the clear');

    const deleted = await cli.run(['clients', 'delete', clientId]);
    assertSucceeded(deleted, 'clients delete');
    assert.match(deleted.stdout, new RegExp(`Deleted client ${clientId}`));
    assertOneLineError(await cli.run(['clients', 'show', clientId]), /^gatehouse: no client with ID "[^"]+"\n$/);
  });

  test('clients: --public registers a client without a secret, and rotate-secret refuses it', async (t) => {
    const cli = cliWithOwnDatabase(t);
    const created = await cli.run([
      'clients', 'create', '--name', 'Native app', '--public', '--redirect-uri', 'http://127.0.0.1/callback',
      '--redirect-uri', 'com.example.app:/cb', '--scope', 'profile email', '--json',
    ]);
    assertSucceeded(created, 'clients create --public');
    const registration = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.equal(registration.client_type, 'public');
    assert.equal(registration.token_endpoint_auth_method, 'none');
    assert.equal(registration.consent_policy, 'always_ask', 'a public client asks for consent every time (RFC 8252 §8.6)');
    assert.equal(registration.can_introspect, false);
    assert.equal('client_secret' in registration, false, 'a public client has no secret to print');
    assert.deepEqual(registration.redirect_uris, ['http://127.0.0.1/callback', 'com.example.app:/cb']);
    assert.equal(registration.scope, 'profile email');

    const rotate = await cli.run(['clients', 'rotate-secret', registration.client_id as string]);
    assertOneLineError(rotate, /is public and has no secret/);
  });

  test('clients: the auth method, consent policy and introspection permission are set at creation and shown', async (t) => {
    const cli = cliWithOwnDatabase(t);
    const created = await cli.run([
      'clients', 'create', '--name', 'Notes API', '--grant-type', 'client_credentials', '--token-endpoint-auth-method', 'client_secret_post',
      '--consent-policy', 'always_ask', '--can-introspect', '--served-resource', 'https://api.example/notes', '--json',
    ]);
    assertSucceeded(created, 'clients create');
    const registration = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.equal(registration.token_endpoint_auth_method, 'client_secret_post');
    assert.equal(registration.consent_policy, 'always_ask');
    assert.equal(registration.can_introspect, true);
    assert.deepEqual(registration.served_resources, ['https://api.example/notes']);
    const show = await cli.run(['clients', 'show', registration.client_id as string]);
    assertSucceeded(show, 'clients show');
    assert.match(show.stdout, /^auth_method:\s+client_secret_post$/m);
    assert.match(show.stdout, /^introspects:\s+yes, serves https:\/\/api\.example\/notes$/m);
  });

  test('clients: the human-readable create prints the ID and the secret with a warning', async (t) => {
    const cli = cliWithOwnDatabase(t);
    const created = await cli.run(['clients', 'create', '--name', 'Mine', '--redirect-uri', 'https://client.example/cb']);
    assertSucceeded(created, 'clients create');
    assert.match(created.stdout, /^client_id:\s+[A-Za-z0-9_-]+$/m);
    assert.match(created.stdout, /^client_secret: [A-Za-z0-9_-]{43}$/m);
    assert.match(created.stdout, /shown only once/);
  });

  test('users: create with --password-stdin, list, delete', async (t) => {
    const cli = cliWithOwnDatabase(t);
    const created = await cli.run(['users', 'create', '--username', 'bob', '--password-stdin'], 'correct horse battery\n');
    assertSucceeded(created, 'users create');
    assert.match(created.stdout, /Created user "bob"/);

    const [list, duplicate] = await Promise.all([
      cli.run(['users', 'list']),
      cli.run(['users', 'create', '--username', 'bob', '--password-stdin'], 'another password\n'),
    ]);
    assertSucceeded(list, 'users list');
    assert.match(list.stdout, /\bbob\b/);
    assert.doesNotMatch(list.stdout, /argon2|correct horse/);
    assertOneLineError(duplicate, /^gatehouse: username "bob" is already taken\n$/);

    // The password came from stdin without its trailing newline, and is stored only as a hash.
    const storage = await openStorage(cli.databaseUrl);
    try {
      const bob = await storage.findAccountByUsername('bob');
      assert.ok(bob, 'bob exists');
      assert.match(bob.passwordHash, /^\$argon2id\$/);
      assert.equal(await verifyPassword('correct horse battery', bob.passwordHash), true);
      assert.equal(await verifyPassword('another password', bob.passwordHash), false);
    } finally {
      await storage.close();
    }
    assert.ok(!rawDatabaseBytes(cli.databaseFile).includes('correct horse battery'), 'no password in the clear');

    const deleted = await cli.run(['users', 'delete', 'bob']);
    assertSucceeded(deleted, 'users delete');
    assert.match(deleted.stdout, /Deleted user "bob"/);
    assertOneLineError(await cli.run(['users', 'delete', 'bob']), /^gatehouse: no user "bob"\n$/);
  });

  test('bad input: one line on stderr starting with "gatehouse: " and a non-zero exit code', async (t) => {
    const cli = cliWithOwnDatabase(t);
    // Creates the schema before the commands below run side by side.
    await (await openStorage(cli.databaseUrl)).close();
    const create = (...extra: string[]) => ['clients', 'create', '--name', 'Bad', ...extra];
    // (`clients show` of an unknown ID is checked after the delete in the first test.)
    const cases: Array<[name: string, args: string[], message: RegExp, stdin?: string]> = [
      ['an http redirect URI that is not loopback', create('--redirect-uri', 'http://client.example/callback'), /uses http, which is allowed only for loopback/],
      ['a redirect URI with a fragment', create('--redirect-uri', 'https://client.example/callback#x'), /must not contain a fragment/],
      ['loopback http for a web client', create('--redirect-uri', 'http://127.0.0.1:3000/callback'), /only native \(public\) clients may use/],
      ['localhost for a native client', create('--public', '--redirect-uri', 'http://localhost/cb'), /must use an IP literal \(127\.0\.0\.1 or \[::1\]\)/],
      ['no auth method for a web client', create('--redirect-uri', 'https://client.example/cb', '--token-endpoint-auth-method', 'none'), /use client_secret_basic or client_secret_post/],
      ['an unknown consent policy', create('--redirect-uri', 'https://client.example/cb', '--consent-policy', 'never'), /consent policy must be one of remember, always_ask/],
      ['an unknown scope', create('--redirect-uri', 'https://client.example/cb', '--scope', 'profile calendar.write'), /unknown scope "calendar\.write"/],
      ['an unknown client ID to delete', ['clients', 'delete', 'no-such-client'], /no client with ID "no-such-client"/],
      ['an unknown client ID to rotate', ['clients', 'rotate-secret', 'no-such-client'], /no client with ID "no-such-client"/],
      ['a password too short', ['users', 'create', '--username', 'carol', '--password-stdin'], /password must be 8–1024 characters/, 'short\n'],
      ['no terminal to prompt for a password', ['users', 'create', '--username', 'carol'], /--password-stdin/],
    ];
    const runs = await Promise.all(cases.map(([, args, , stdin]) => cli.run(args, stdin)));
    for (const [index, [name, , message]] of cases.entries()) {
      await t.test(name, () => assertOneLineError(runs[index]!, message));
    }

    // Nothing was half-written by the failed commands.
    const storage = await openStorage(cli.databaseUrl);
    try {
      assert.deepEqual(await storage.listClients(), []);
      assert.deepEqual(await storage.listAccounts(), []);
    } finally {
      await storage.close();
    }
  });
});
