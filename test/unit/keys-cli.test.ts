import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { systemClock } from '../../src/shared/clock.ts';
import { loadConfig } from '../../src/server/config/load.ts';
import { createServerContext } from '../../src/server/context.ts';
import { KeyEncryption } from '../../src/server/keys/key-encryption.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { assertOneLineError, assertSucceeded, onlyEnv, runGatehouse as runCli } from '../support/gatehouse-cli.ts';

/**
 * `gatehouse keys list | rotate`, the key-encryption key and the client options of tokens for
 * APIs, run as users run them: a separate `node bin/gatehouse.js` process against its own SQLite
 * file. Each spawn costs a second or two, so tests run concurrently and so do independent
 * commands within a test.
 */


interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Cli {
  dir: string;
  databaseUrl: string;
  databaseFile: string;
  /** The key-encryption key given to every command, unless the test removed it. */
  key: string;
  run(args: string[], env?: Record<string, string | undefined>): Promise<Run>;
}

function newKey(): string {
  return randomBytes(32).toString('base64url');
}

/** A fresh folder with a database and a key-encryption key for one test, removed when it ends. */
function cliWithOwnDatabase(t: TestContext): Cli {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const databaseFile = join(dir, 'g.db');
  const databaseUrl = `sqlite:${databaseFile}`;
  const key = newKey();
  return {
    dir,
    databaseUrl,
    databaseFile,
    key,
    run: (args, env = {}) => runGatehouse(args, { DATABASE_URL: databaseUrl, GATEHOUSE_KEY_ENCRYPTION_KEY: key, ...env }),
  };
}

function runGatehouse(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  // Only what the command needs: the test runner's own variables and the developer's shell
  // (PORT, GATEHOUSE_ISSUER, NODE_ENV …) must not leak in. An undefined value removes a variable.
  return runCli(args, { env: onlyEnv(env) });
}



interface KeyRow {
  kid: string;
  alg: string;
  state: string;
  created_at: string;
  published_until: string | null;
}

function keyRows(run: Run): KeyRow[] {
  assertSucceeded(run, 'keys list --json');
  return JSON.parse(run.stdout) as KeyRow[];
}

const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Writes a JSON configuration file into the test's folder and returns its path. */
function configFile(cli: Cli, options: Record<string, unknown>): string {
  const file = join(cli.dir, 'gatehouse.json');
  writeFileSync(file, JSON.stringify(options));
  return file;
}

describe('gatehouse keys and token options', { concurrency: true, timeout: 120_000 }, () => {
  test('keys list creates one active RS256 and one ES256 key; rotate replaces them and keeps the old ones published', async (t) => {
    const cli = cliWithOwnDatabase(t);
    const first = keyRows(await cli.run(['keys', 'list', '--json']));
    assert.equal(first.length, 2, JSON.stringify(first));
    assert.deepEqual(first.map((key) => key.alg).sort(), ['ES256', 'RS256']);
    for (const key of first) {
      assert.equal(key.state, 'active');
      assert.equal(key.published_until, null);
      assert.match(key.created_at, isoTime);
      assert.match(key.kid, /^[0-9a-f]{24}$/);
    }
    assert.notEqual(first[0]!.kid, first[1]!.kid);

    // Listing again creates nothing more, and the human-readable form shows the same keys.
    const text = await cli.run(['keys', 'list']);
    assertSucceeded(text, 'keys list');
    for (const key of first) {
      assert.match(text.stdout, new RegExp(`^${key.kid}  ${key.alg}  active   created ${key.created_at.replaceAll('.', '\\.')}$`, 'm'));
    }
    assert.equal(text.stdout.trim().split('\n').length, 2);

    const before = Date.now();
    const rotated = await cli.run(['keys', 'rotate']);
    const after = Date.now();
    assertSucceeded(rotated, 'keys rotate');
    const announced = [...rotated.stdout.matchAll(/^New (RS256|ES256) signing key ([0-9a-f]{24}) is active\.$/gm)].map((m) => [m[1]!, m[2]!]);
    assert.deepEqual(announced.map(([alg]) => alg).sort(), ['ES256', 'RS256']);
    assert.match(rotated.stdout, /stay published/);

    const keys = keyRows(await cli.run(['keys', 'list', '--json']));
    assert.equal(keys.length, 4);
    const active = keys.filter((key) => key.state === 'active');
    assert.deepEqual(active.map((key) => key.alg).sort(), ['ES256', 'RS256']);
    assert.deepEqual(active.map((key) => key.kid).sort(), announced.map(([, kid]) => kid).sort(), 'the announced keys are the active ones');
    for (const old of first) {
      const now = keys.find((key) => key.kid === old.kid);
      assert.ok(now, `key ${old.kid} is still listed`);
      assert.equal(now.state, 'retired');
      assert.ok(now.published_until !== null, 'a retired key has a published-until time');
      assert.match(now.published_until, isoTime);
      // Published for the longest lifetime of anything it signed: an hour with the defaults.
      const until = Date.parse(now.published_until);
      assert.ok(until >= before + 3600_000 - 1000 && until <= after + 3600_000, `published until ${now.published_until}`);
    }

    // The server signs with the new keys and still publishes the old ones.
    const storage = await openStorage(cli.databaseUrl);
    try {
      const config = loadConfig({ env: { DATABASE_URL: cli.databaseUrl, GATEHOUSE_KEY_ENCRYPTION_KEY: cli.key } });
      const ctx = createServerContext(config, storage, systemClock, new KeyEncryption(Buffer.from(cli.key, 'base64url')));
      const signing = await ctx.keys.activeKey('RS256');
      assert.equal(signing.kid, active.find((key) => key.alg === 'RS256')!.kid);
      const published = (await ctx.keys.publicJwks()).keys.map((key) => key.kid).sort();
      assert.deepEqual(published, keys.map((key) => key.kid).sort());
    } finally {
      await storage.close();
    }
  });

  test('the signing keys cannot be used with another key-encryption key', async (t) => {
    const cli = cliWithOwnDatabase(t);
    keyRows(await cli.run(['keys', 'list', '--json']));
    const storage = await openStorage(cli.databaseUrl);
    try {
      const config = loadConfig({ env: { DATABASE_URL: cli.databaseUrl } });
      const wrong = createServerContext(config, storage, systemClock, new KeyEncryption(randomBytes(32)));
      await assert.rejects(wrong.keys.activeKey('RS256'), /key-encryption key is not the one they were encrypted with/);
      await assert.rejects(wrong.keys.activeKey('ES256'), /key-encryption key/);
      // The right key opens them, so the failure above is the key's and nothing else's.
      const right = createServerContext(config, storage, systemClock, new KeyEncryption(Buffer.from(cli.key, 'base64url')));
      assert.equal((await right.keys.activeKey('ES256')).alg, 'ES256');
      // Nothing was created in the failed attempts.
      assert.equal((await storage.listSigningKeys()).length, 2);
    } finally {
      await storage.close();
    }
  });

  test('production mode refuses to start without a key-encryption key, with one line naming the variable', async (t) => {
    const cli = cliWithOwnDatabase(t);
    const withoutKey = { GATEHOUSE_KEY_ENCRYPTION_KEY: undefined, PORT: '0' };
    const runs = await Promise.all([
      cli.run(['start'], { ...withoutKey, GATEHOUSE_PRODUCTION: '1' }),
      cli.run(['start'], { ...withoutKey, NODE_ENV: 'production' }),
    ]);
    for (const run of runs) assertOneLineError(run, /GATEHOUSE_KEY_ENCRYPTION_KEY/);
    assert.equal(existsSync(cli.databaseFile), false, 'nothing was created');
  });

  test('outside production without a key, a development key is created once (mode 0600) and reused', async (t) => {
    const cli = cliWithOwnDatabase(t);
    const keyFile = join(cli.dir, 'secrets', 'dev.key');
    const config = configFile(cli, { keyEncryptionKeyFile: keyFile });
    const withoutKey = { GATEHOUSE_KEY_ENCRYPTION_KEY: undefined };

    const first = keyRows(await cli.run(['--config', config, 'keys', 'list', '--json'], withoutKey));
    assert.equal(first.length, 2);
    assert.ok(existsSync(keyFile), 'the development key file was created');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const devKey = readFileSync(keyFile, 'utf8').trim();
    assert.match(devKey, /^[A-Za-z0-9_-]{43}$/);

    // The next run reuses the file: the keys it creates are sealed with the same key.
    assertSucceeded(await cli.run(['--config', config, 'keys', 'rotate'], withoutKey), 'keys rotate');
    assert.equal(readFileSync(keyFile, 'utf8').trim(), devKey);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);

    const storage = await openStorage(cli.databaseUrl);
    try {
      const ctx = createServerContext(
        loadConfig({ env: { DATABASE_URL: cli.databaseUrl } }),
        storage,
        systemClock,
        new KeyEncryption(Buffer.from(devKey, 'base64url')),
      );
      const all = await storage.listSigningKeys();
      assert.equal(all.length, 4);
      const rotatedRs = await ctx.keys.activeKey('RS256');
      assert.ok(!first.some((key) => key.kid === rotatedRs.kid), 'the active key is one the second run created');
      assert.equal((await ctx.keys.activeKey('ES256')).alg, 'ES256');
    } finally {
      await storage.close();
    }
  });

  test('clients create: client_credentials without a redirect URI; JWT format and resources round-trip', async (t) => {
    const cli = cliWithOwnDatabase(t);
    const config = configFile(cli, { scopes: { 'calendar.read': { description: 'Read your calendar' } } });
    // Creates the schema before the commands below run side by side.
    await (await openStorage(cli.databaseUrl)).close();
    const [machine, jwt] = await Promise.all([
      cli.run(['--config', config, 'clients', 'create', '--name', 'Sync job', '--grant-type', 'client_credentials', '--scope', 'calendar.read', '--json']),
      cli.run([
        '--config', config, 'clients', 'create', '--name', 'Calendar app', '--redirect-uri', 'https://client.example/cb',
        '--access-token-format', 'jwt', '--resource', 'https://api.example/cal', '--resource', 'https://api.example/contacts', '--json',
      ]),
    ]);
    assertSucceeded(machine, 'clients create --grant-type client_credentials');
    const machineJson = JSON.parse(machine.stdout) as Record<string, unknown>;
    assert.deepEqual(machineJson.grant_types, ['client_credentials']);
    assert.deepEqual(machineJson.redirect_uris, []);
    assert.equal(machineJson.scope, 'calendar.read');
    assert.equal(machineJson.client_type, 'confidential');
    assert.match(machineJson.client_secret as string, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(machineJson.access_token_format, 'opaque');
    assert.deepEqual(machineJson.resources, []);

    assertSucceeded(jwt, 'clients create --access-token-format jwt');
    const jwtId = (JSON.parse(jwt.stdout) as { client_id: string }).client_id;
    const shown = await cli.run(['--config', config, 'clients', 'show', jwtId, '--json']);
    assertSucceeded(shown, 'clients show --json');
    const shownJson = JSON.parse(shown.stdout) as Record<string, unknown>;
    assert.equal(shownJson.client_id, jwtId);
    assert.equal(shownJson.access_token_format, 'jwt');
    assert.deepEqual(shownJson.resources, ['https://api.example/cal', 'https://api.example/contacts']);
    assert.deepEqual(shownJson.grant_types, ['authorization_code', 'refresh_token']);
    assert.equal('client_secret' in shownJson, false);
  });

  test('clients create: bad token options are one line on stderr and register nothing', async (t) => {
    const cli = cliWithOwnDatabase(t);
    const config = configFile(cli, { scopes: { 'calendar.read': { description: 'Read your calendar' } } });
    await (await openStorage(cli.databaseUrl)).close();
    const create = (...extra: string[]) => ['--config', config, 'clients', 'create', '--name', 'Bad', ...extra];
    const cases: Array<[name: string, args: string[], message: RegExp]> = [
      ['a public client with client_credentials', create('--public', '--grant-type', 'client_credentials', '--scope', 'calendar.read'), /public client cannot use client_credentials/],
      ['an unknown token format', create('--access-token-format', 'paseto', '--redirect-uri', 'https://client.example/cb'), /access token format must be "opaque" or "jwt"/],
      ['a relative resource', create('--resource', 'api/cal', '--redirect-uri', 'https://client.example/cb'), /resource "api\/cal" must be an absolute URI/],
    ];
    const runs = await Promise.all(cases.map(([, args]) => cli.run(args)));
    for (const [index, [name, , message]] of cases.entries()) {
      await t.test(name, () => assertOneLineError(runs[index]!, message));
    }
    const storage = await openStorage(cli.databaseUrl);
    try {
      assert.deepEqual(await storage.listClients(), []);
    } finally {
      await storage.close();
    }
  });
});
