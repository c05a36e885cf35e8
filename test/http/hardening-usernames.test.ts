/**
 * Issue 13 item 16: usernames compare after NFKC and case folding, with Cyrillic and Greek
 * look-alikes read as the Latin letter (src/storage/username-key.ts). A look-alike of an existing
 * name is refused at creation, through the admin API, the console and the command line; login
 * finds the account whichever way its name is typed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import { assertOneLineError, assertSucceeded, onlyEnv, runGatehouse } from '../support/gatehouse-cli.ts';
import { CookieJar, buildTestServer, createTestUser, form, formFields, password, type TestServer } from '../support/test-server.ts';

/** Each is `alice` to a reader: case, fullwidth forms, Cyrillic а (U+0430), е (U+0435), і (U+0456), Greek α (U+03B1). */
const looksLikeAlice = ['Alice', 'ALICE', 'ａｌｉｃｅ', 'Ａlice', '\u0430lice', 'alic\u0435', 'al\u0456ce', '\u03b1lice', '\u0410LICE'];

async function setup(t: TestContext): Promise<TestServer> {
  const server = await buildTestServer({ loginAttemptsPerIp: 1000, loginAttemptsPerAccount: 1000 });
  t.after(() => server.close());
  return server;
}

async function adminToken(server: TestServer): Promise<string> {
  const { client, clientSecret } = await registerClient({ name: 'Ops', redirectUris: [], grantTypes: ['client_credentials'], scopes: ['admin'] }, server.ctx);
  const body = form({ grant_type: 'client_credentials' });
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(clientSecret!)}`).toString('base64')}`;
  const response = await server.app.inject({ method: 'POST', url: '/token', ...body, headers: { ...body.headers, authorization: basic } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json().access_token as string;
}

async function signIn(server: TestServer, username: string, secret = password): Promise<LightMyRequestResponse> {
  const jar = new CookieJar();
  const page = await server.app.inject({ method: 'GET', url: '/login' });
  jar.store(page);
  const body = form({ _csrf: formFields(page.body).get('_csrf')!, return_to: '/account', username, password: secret });
  return server.app.inject({ method: 'POST', url: '/login', ...body, headers: { ...body.headers, cookie: jar.header() } });
}

test('the admin API answers 409 conflict to a username that reads the same as an existing one', async (t) => {
  const server = await setup(t);
  const token = await adminToken(server);
  const create = (username: string) =>
    server.app.inject({
      method: 'POST',
      url: '/admin/api/users',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ username, password }),
    });
  assert.equal((await create('alice')).statusCode, 201);
  for (const username of looksLikeAlice) {
    const response = await create(username);
    assert.equal(response.statusCode, 409, `${username}: ${response.body}`);
    assert.equal(response.json().error, 'conflict');
    // The JSON description keeps to RFC 6749's characters (quotes as ', non-ASCII left out).
    assert.match(response.json().error_description, /^username '[^']*' is already taken: it reads the same as 'alice'$/);
  }
  const list = await server.app.inject({ method: 'GET', url: '/admin/api/users', headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual(list.json().users.map((user: { username: string }) => user.username), ['alice']);
  // A name that only resembles is still a name of its own.
  assert.equal((await create('alicia')).statusCode, 201);
});

test('the console refuses a look-alike username with the same conflict', async (t) => {
  const server = await setup(t);
  await createAccount({ username: 'root', password, isAdmin: true }, server.ctx);
  await createTestUser(server, 'alice');
  const login = await signIn(server, 'root');
  assert.equal(login.statusCode, 303);
  const jar = new CookieJar();
  jar.store(login);
  const page = await server.app.inject({ method: 'GET', url: '/admin/users/new', headers: { cookie: jar.header() } });
  jar.store(page);
  const body = form({ _csrf: formFields(page.body).get('_csrf')!, username: '\u0430lice', password });
  const taken = await server.app.inject({ method: 'POST', url: '/admin/users', ...body, headers: { ...body.headers, cookie: jar.header() } });
  assert.equal(taken.statusCode, 409, taken.body);
  assert.match(taken.body, /username &quot;\u0430lice&quot; is already taken: it reads the same as &quot;alice&quot;/);
});

test('login finds the account by its name typed in another case, width or look-alike letters', async (t) => {
  const server = await setup(t);
  const alice = await createTestUser(server, 'alice');
  for (const typed of ['alice', ...looksLikeAlice]) {
    const response = await signIn(server, typed);
    assert.equal(response.statusCode, 303, `${typed}: ${response.body}`);
    assert.equal(response.headers.location, '/account');
    const session = response.cookies.find((cookie) => cookie.name === 'gatehouse_session')!;
    const account = await server.app.inject({ method: 'GET', url: '/account', headers: { cookie: `gatehouse_session=${session.value}` } });
    assert.match(account.body, /Signed in as <strong>alice<\/strong>/, typed);
  }
  assert.equal((await signIn(server, 'ALICE', 'wrong password')).statusCode, 401);
  assert.equal((await server.storage.findAccountByUsername('ａｌｉｃｅ'))?.id, alice.id);
});

test('the command line refuses a look-alike username with one line on stderr and a non-zero exit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = onlyEnv({ DATABASE_URL: `sqlite:${join(dir, 'g.db')}` });
  assertSucceeded(await runGatehouse(['users', 'create', '--username', 'alice', '--password-stdin'], { env, stdin: `${password}\n` }), 'users create');
  const [upper, cyrillic] = await Promise.all([
    runGatehouse(['users', 'create', '--username', 'Alice', '--password-stdin'], { env, stdin: `${password}\n` }),
    runGatehouse(['users', 'create', '--username', '\u0430lice', '--password-stdin'], { env, stdin: `${password}\n` }),
  ]);
  assertOneLineError(upper, /^gatehouse: username "Alice" is already taken: it reads the same as "alice"\n$/);
  assertOneLineError(cyrillic, /^gatehouse: username "\u0430lice" is already taken: it reads the same as "alice"\n$/);
  const list = await runGatehouse(['users', 'list'], { env });
  assertSucceeded(list, 'users list');
  assert.equal(list.stdout.trim().split('\n').length, 1, list.stdout);
});
