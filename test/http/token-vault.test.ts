/**
 * The token vault and the accounts of "Mine", on a real SQLite file and on PostgreSQL, with a
 * real listening Gatehouse as the provider: tokens from real sign-ins, encrypted at rest,
 * refreshed by exactly one caller (in one process and across two), `invalid_grant` turned into
 * "sign in again", key rotation, and the API helper's single retry. Time in the vault is a
 * `ManualClock`, moved past expiry instead of waiting; requests are counted by a wrapper around
 * the real `fetch` and, on the provider's side, by Gatehouse's own metrics.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import {
  Accounts,
  beginSignIn,
  completeSignIn,
  discoverProvider,
  ReauthenticationRequired,
  requestTokens,
  TokenVault,
  type Profile,
  type Provider,
  type TokenSet,
  type VaultKeys,
} from '../../src/client/index.ts';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { OAuthError } from '../../src/shared/oauth-error.ts';
import { startListeningServer, type ListeningServer } from '../support/listening-server.ts';
import { createTestSchema, testPostgresUrl } from '../support/postgres.ts';
import type { VaultChildGo, VaultChildInput, VaultChildOutput } from '../support/vault-child.ts';

const password = 'correct horse battery staple';
const redirectUri = 'https://mine.example/callback';
const scopes = ['openid', 'profile', 'email', 'offline_access'];
const newKey = () => randomBytes(32).toString('base64url');

// ---------------------------------------------------------------------------------------------
// The browser at Gatehouse: a signed-in session per user, so later sign-ins skip the login form.

class Browser {
  readonly #cookies = new Map<string, string>();
  constructor(readonly origin: string) {}

  #store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.#cookies.delete(pair.slice(0, eq).trim());
      else this.#cookies.set(pair.slice(0, eq).trim(), value);
    }
  }

  async request(url: string | URL, form?: Map<string, string>): Promise<Response> {
    const cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(new URL(url, this.origin), {
      redirect: 'manual',
      ...(form === undefined
        ? { headers: { cookie } }
        : { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams([...form]) }),
    });
    this.#store(response);
    return response;
  }
}

function hiddenFields(page: string): Map<string, string> {
  const unescape = (text: string) => text.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
  return new Map([...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((match) => [unescape(match[1]!), unescape(match[2]!)]));
}

function location(response: Response): string {
  const value = response.headers.get('location');
  assert.ok(value !== null, `expected a redirect, got ${response.status} at ${response.url}`);
  return value;
}

/** A Gatehouse with its "Mine" client registered and users who sign in through a browser each. */
interface Gatehouse {
  server: ListeningServer;
  provider: Provider;
  clientSecret: string;
  accountIds: Map<string, string>;
  browsers: Map<string, Browser>;
}

async function startGatehouse(providerId: string, users: { username: string; email: string }[]): Promise<Gatehouse> {
  const server = await startListeningServer({ metricsEnabled: true });
  const { ctx, close } = await server.openContext();
  try {
    const client = await registerClient({ name: 'Mine', redirectUris: [redirectUri], scopes: [...scopes, 'calendar.read'] }, ctx);
    const accounts = await Promise.all(users.map((user) => createAccount({ ...user, password, name: user.username }, ctx)));
    const accountIds = new Map(accounts.map((account) => [account.username, account.id]));
    const provider = await discoverProvider(server.url, { id: providerId, clientId: client.client.id, clientSecret: client.clientSecret! });
    return { server, provider, clientSecret: client.clientSecret!, accountIds, browsers: new Map() };
  } finally {
    await close();
  }
}

/** The user's part of a sign-in: log in (once per user), allow (once per scope set); the callback URL. */
async function approve(gatehouse: Gatehouse, username: string, authorizationUrl: string): Promise<URL> {
  let browser = gatehouse.browsers.get(username);
  if (browser === undefined) {
    browser = new Browser(gatehouse.server.url);
    gatehouse.browsers.set(username, browser);
  }
  let response = await browser.request(authorizationUrl);
  const loginUrl = response.status === 302 ? new URL(location(response), gatehouse.server.url) : undefined;
  if (loginUrl?.pathname === '/login') {
    const fields = hiddenFields(await (await browser.request(loginUrl)).text());
    const loggedIn = await browser.request(
      '/login',
      new Map([['_csrf', fields.get('_csrf')!], ['return_to', fields.get('return_to')!], ['username', username], ['password', password]]),
    );
    assert.equal(loggedIn.status, 303);
    response = await browser.request(location(loggedIn));
  }
  // The consent page, unless this user already allowed these scopes for this client.
  if (response.status === 200) {
    const consent = hiddenFields(await response.text());
    consent.set('decision', 'allow');
    response = await browser.request('/authorize/decision', consent);
  }
  const target = new URL(location(response));
  assert.ok(target.href.startsWith(redirectUri) && target.searchParams.has('code'), `expected a code at the redirect URI, got ${target.href}`);
  return target;
}

/** A whole sign-in with the client library, timed by the vault's clock. */
async function signIn(gatehouse: Gatehouse, username: string, clock: ManualClock): Promise<{ profile: Profile; tokens: TokenSet }> {
  const { url, transaction } = beginSignIn(gatehouse.provider, redirectUri, scopes, { clock });
  return completeSignIn(gatehouse.provider, await approve(gatehouse, username, url), transaction, { clock });
}

/** What Gatehouse itself counted: token responses for `refresh_token`, and all requests to /token. */
async function gatehouseCounts(gatehouse: Gatehouse): Promise<{ refreshesIssued: number; tokenRequests: number }> {
  const text = await (await fetch(`${gatehouse.server.url}/metrics`)).text();
  const refreshesIssued = Number(/^gatehouse_tokens_issued_total\{grant_type="refresh_token"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  let tokenRequests = 0;
  for (const match of text.matchAll(/^gatehouse_http_requests_total\{([^}]*)\} (\d+)$/gm)) {
    if (match[1]!.includes('route="/token"')) tokenRequests += Number(match[2]);
  }
  return { refreshesIssued, tokenRequests };
}

/** RFC 7009 revocation by the client, as an app does when a user unlinks. */
async function revoke(gatehouse: Gatehouse, token: string): Promise<void> {
  const basic = Buffer.from(`${encodeURIComponent(gatehouse.provider.clientId)}:${encodeURIComponent(gatehouse.clientSecret)}`).toString('base64');
  const response = await fetch(`${gatehouse.server.url}/revoke`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  assert.equal(response.status, 200);
}

/** The real `fetch`, counting requests by URL, optionally slowed down on the way to the token endpoint. */
class CountingFetch {
  readonly urls: string[] = [];
  tokenEndpointDelayMs = 0;
  constructor(readonly tokenEndpoint: string) {}

  readonly fetch: typeof fetch = async (resource, init) => {
    const url = String(resource instanceof Request ? resource.url : resource);
    this.urls.push(url);
    if (url === this.tokenEndpoint && this.tokenEndpointDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.tokenEndpointDelayMs));
    return fetch(resource, init);
  };

  count(url: string): number {
    return this.urls.filter((seen) => seen === url).length;
  }

  get tokenRequests(): number {
    return this.count(this.tokenEndpoint);
  }
}

// ---------------------------------------------------------------------------------------------
// The two databases.

interface VaultDatabase {
  url: string;
  /** Everything stored, as text: the database files for SQLite, every client row for PostgreSQL. */
  rawContents(vault: TokenVault): Promise<string>;
  drop(): Promise<void>;
}

const backends: { name: string; create(): Promise<VaultDatabase> }[] = [
  {
    name: 'SQLite',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-vault-'));
      const path = join(dir, 'mine.db');
      return {
        url: `sqlite:${path}`,
        async rawContents() {
          // WAL mode: recent pages live in the -wal file until a checkpoint.
          return [path, `${path}-wal`, `${path}-shm`].filter((file) => existsSync(file)).map((file) => readFileSync(file).toString('latin1')).join('\n');
        },
        async drop() {
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async create() {
      const schema = await createTestSchema();
      return {
        url: schema.url,
        async rawContents(vault) {
          const rows = await sql<{ row: string }>`
            select t::text as row from client_tokens t
            union all select l::text from client_links l
            union all select u::text from client_users u`.execute(vault.database);
          return rows.rows.map((row) => row.row).join('\n');
        },
        drop: () => schema.drop(),
      };
    },
  },
];

interface VaultSetup {
  vault: TokenVault;
  accounts: Accounts;
  clock: ManualClock;
  counter: CountingFetch;
  database: VaultDatabase;
  keys: VaultKeys;
  open(keys: VaultKeys): Promise<TokenVault>;
}

async function openVault(t: TestContext, backend: (typeof backends)[number], gatehouses: Gatehouse[]): Promise<VaultSetup> {
  const database = await backend.create();
  const clock = new ManualClock(Date.now());
  const counter = new CountingFetch(gatehouses[0]!.provider.tokenEndpoint);
  const opened: TokenVault[] = [];
  const open = async (keys: VaultKeys) => {
    const vault = await TokenVault.open({ databaseUrl: database.url, keys, providers: gatehouses.map((g) => g.provider), clock, fetch: counter.fetch });
    opened.push(vault);
    return vault;
  };
  t.after(async () => {
    for (const vault of opened) await vault.close().catch(() => {});
    await database.drop();
  });
  const keys: VaultKeys = { current: 'k1', keys: { k1: newKey() } };
  const vault = await open(keys);
  return { vault, accounts: new Accounts(vault.database, clock), clock, counter, database, keys, open };
}

// ---------------------------------------------------------------------------------------------

let primary: Gatehouse;
let secondary: Gatehouse;

before(async () => {
  [primary, secondary] = await Promise.all([
    startGatehouse('gatehouse', [
      { username: 'alice', email: 'alice@example.com' },
      { username: 'bob', email: 'bob@example.com' },
    ]),
    startGatehouse('elsewhere', [
      { username: 'carol', email: 'alice@example.com' },
      { username: 'dave', email: 'dave@example.com' },
    ]),
  ]);
});

after(async () => {
  await Promise.all([primary?.server.close(), secondary?.server.close()]);
});

for (const backend of backends) {
  describe(`token vault on ${backend.name}`, () => {
    test('stores the tokens of a real sign-in encrypted at rest and hands back a fresh token without a request', async (t) => {
      const { vault, accounts, clock, counter, database } = await openVault(t, backend, [primary]);
      const { profile, tokens } = await signIn(primary, 'alice', clock);
      const { userId } = await accounts.signIn('gatehouse', profile);
      await vault.store(userId, 'gatehouse', tokens);

      const raw = await database.rawContents(vault);
      assert.ok(raw.includes(userId), 'the raw contents are readable at all (the check below could not pass vacuously)');
      assert.equal(raw.includes(tokens.accessToken), false, 'the access token is not stored in the clear');
      assert.equal(raw.includes(tokens.refreshToken!), false, 'the refresh token is not stored in the clear');

      assert.equal(await vault.getAccessToken(userId, 'gatehouse'), tokens.accessToken);
      clock.advance(3600 - 61); // still more than the 60 s refresh skew from expiry
      assert.equal(await vault.getAccessToken(userId, 'gatehouse'), tokens.accessToken);
      assert.equal(counter.urls.length, 0, 'a fresh token needs no request');
      const info = await vault.describe(userId, 'gatehouse');
      assert.deepEqual(info?.scopes, scopes);
      assert.equal(info?.expiresAt, tokens.expiresAt);
    });

    test('50 concurrent calls for an expired token cause exactly one refresh, and the rotated refresh token is kept', async (t) => {
      const { vault, accounts, clock, counter } = await openVault(t, backend, [primary]);
      const { profile, tokens } = await signIn(primary, 'alice', clock);
      const { userId } = await accounts.signIn('gatehouse', profile);
      await vault.store(userId, 'gatehouse', tokens);
      const before = await gatehouseCounts(primary);

      clock.advance(3600 - 30); // inside the refresh skew: refreshed shortly before expiry
      const results = await Promise.all(Array.from({ length: 50 }, () => vault.getAccessToken(userId, 'gatehouse')));
      assert.equal(counter.tokenRequests, 1);
      const afterFirst = await gatehouseCounts(primary);
      assert.equal(afterFirst.tokenRequests - before.tokenRequests, 1, 'Gatehouse saw one token request');
      assert.equal(afterFirst.refreshesIssued - before.refreshesIssued, 1);
      const fresh = results[0]!;
      assert.notEqual(fresh, tokens.accessToken);
      assert.ok(results.every((token) => token === fresh), 'all 50 callers got the same new token');

      const userinfo = await fetch(primary.provider.userinfoEndpoint!, { headers: { authorization: `Bearer ${fresh}` } });
      assert.equal(userinfo.status, 200);
      assert.equal(((await userinfo.json()) as { sub: string }).sub, primary.accountIds.get('alice'));

      // The next expiry refreshes with the rotated refresh token. Had the vault kept the first one,
      // Gatehouse would see a replay, answer invalid_grant and revoke the whole family.
      clock.advance(3600);
      const second = await vault.getAccessToken(userId, 'gatehouse');
      assert.notEqual(second, fresh);
      assert.equal(counter.tokenRequests, 2);
      assert.equal((await gatehouseCounts(primary)).refreshesIssued - before.refreshesIssued, 2);
      assert.equal(await vault.getAccessToken(userId, 'gatehouse'), second);
      assert.equal(counter.tokenRequests, 2);
    });

    test('two processes sharing the database, 25 calls each: exactly one refresh in total', async (t) => {
      const { vault, accounts, clock, counter, database, keys } = await openVault(t, backend, [primary]);
      // The other process starts first (it takes a while to load) and opens the same vault.
      const input: VaultChildInput = {
        databaseUrl: database.url,
        keys,
        issuer: primary.server.url,
        providerId: 'gatehouse',
        clientId: primary.provider.clientId,
        clientSecret: primary.clientSecret,
        count: 25,
        // Network latency on the way to the token endpoint, so that the two processes overlap.
        tokenEndpointDelayMs: 300,
      };
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/vault-child.ts')], {
        env: { ...process.env, VAULT_CHILD_INPUT: JSON.stringify(input) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      t.after(() => child.kill());
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.startsWith('ready\n')) resolve();
        });
        void exited.then((code) => reject(new Error(`the child exited (${code}) before it was ready: ${stderr}`)));
      });

      const { profile, tokens } = await signIn(primary, 'alice', clock);
      const { userId } = await accounts.signIn('gatehouse', profile);
      await vault.store(userId, 'gatehouse', tokens);
      clock.advance(3600);
      const before = await gatehouseCounts(primary);
      await ready;

      counter.tokenEndpointDelayMs = 300;
      child.stdin.write(`${JSON.stringify({ userId, now: clock.now() } satisfies VaultChildGo)}\n`);
      const mine = await Promise.all(Array.from({ length: 25 }, () => vault.getAccessToken(userId, 'gatehouse')));
      assert.equal(await exited, 0, stderr);
      const theirs = JSON.parse(stdout.slice('ready\n'.length)) as VaultChildOutput;
      assert.deepEqual(theirs.errors, []);
      assert.equal(theirs.tokens.length, 25);

      assert.equal(counter.tokenRequests + theirs.tokenRequests, 1, 'one refresh request from both processes together');
      const afterwards = await gatehouseCounts(primary);
      assert.equal(afterwards.tokenRequests - before.tokenRequests, 1);
      assert.equal(afterwards.refreshesIssued - before.refreshesIssued, 1);
      const all = [...mine, ...theirs.tokens];
      assert.notEqual(all[0], tokens.accessToken);
      assert.ok(all.every((token) => token === all[0]), 'all 50 callers in both processes got the same new token');
    });

    test('invalid_grant marks the link for a new sign-in; later calls fail at once without a request', async (t) => {
      const { vault, accounts, clock, counter } = await openVault(t, backend, [primary]);
      const { profile, tokens } = await signIn(primary, 'alice', clock);
      const { userId } = await accounts.signIn('gatehouse', profile);
      await vault.store(userId, 'gatehouse', tokens);
      await revoke(primary, tokens.refreshToken!);
      clock.advance(3600);

      const isReauth = (error: unknown) => error instanceof ReauthenticationRequired && error.provider === 'gatehouse' && error.code === 'invalid_grant';
      await assert.rejects(vault.getAccessToken(userId, 'gatehouse'), isReauth);
      assert.equal(counter.tokenRequests, 1);
      assert.deepEqual(
        (await accounts.links(userId)).map((link) => ({ provider: link.provider, needsReauthentication: link.needsReauthentication })),
        [{ provider: 'gatehouse', needsReauthentication: true }],
      );

      const requestsSoFar = counter.urls.length;
      const attempts = await Promise.allSettled(Array.from({ length: 10 }, () => vault.getAccessToken(userId, 'gatehouse')));
      assert.ok(attempts.every((attempt) => attempt.status === 'rejected' && isReauth(attempt.reason)));
      await assert.rejects(vault.fetch(userId, 'gatehouse', primary.provider.userinfoEndpoint!), isReauth);
      assert.equal(counter.urls.length, requestsSoFar, 'no request at all once the link needs a new sign-in');

      // Signing in again stores new tokens and clears the mark.
      const again = await signIn(primary, 'alice', clock);
      assert.equal((await accounts.signIn('gatehouse', again.profile)).userId, userId);
      await vault.store(userId, 'gatehouse', again.tokens);
      assert.equal((await accounts.links(userId))[0]!.needsReauthentication, false);
      assert.equal(await vault.getAccessToken(userId, 'gatehouse'), again.tokens.accessToken);
    });

    test('key rotation: stored with A, read with {A, B}, reencrypt() moves every row to B, then B alone reads them', async (t) => {
      const { vault, accounts, clock, database, open } = await openVault(t, backend, [primary]);
      const keyA = newKey();
      const keyB = newKey();
      const withA = await open({ current: 'a', keys: { a: keyA } });
      const users: { userId: string; tokens: TokenSet }[] = [];
      for (const subject of ['s1', 's2']) {
        const { userId } = await accounts.signIn('gatehouse', { subject, emailVerified: false, raw: {} });
        const tokens: TokenSet = { accessToken: `at-${randomBytes(16).toString('hex')}`, refreshToken: `rt-${randomBytes(16).toString('hex')}`, scopes, expiresAt: clock.now() + 3600_000 };
        await withA.store(userId, 'gatehouse', tokens);
        users.push({ userId, tokens });
      }
      const stored = async () => (await vault.database.selectFrom('client_tokens').select(['access_token', 'refresh_token']).execute()).flatMap((row) => [row.access_token, row.refresh_token!]);
      assert.ok((await stored()).every((value) => value.startsWith('a.')));

      const onlyB = await open({ current: 'b', keys: { b: keyB } });
      await assert.rejects(onlyB.getAccessToken(users[0]!.userId, 'gatehouse'), (error: unknown) => error instanceof OAuthError && /unknown key "a"/.test(error.description));

      const rotating = await open({ current: 'b', keys: { a: keyA, b: keyB } });
      for (const { userId, tokens } of users) assert.equal(await rotating.getAccessToken(userId, 'gatehouse'), tokens.accessToken);
      assert.equal(await rotating.reencrypt(), 2);
      assert.equal(await rotating.reencrypt(), 0, 'nothing left to move');
      assert.ok((await stored()).every((value) => value.startsWith('b.')));
      const raw = await database.rawContents(vault);
      for (const { tokens } of users) assert.equal(raw.includes(tokens.accessToken) || raw.includes(tokens.refreshToken!), false);

      for (const { userId, tokens } of users) assert.equal(await onlyB.getAccessToken(userId, 'gatehouse'), tokens.accessToken);

      // The ciphertext is bound to its row: copied to another user, it does not open.
      const first = await vault.database.selectFrom('client_tokens').select('access_token').where('user_id', '=', users[0]!.userId).executeTakeFirstOrThrow();
      await vault.database.updateTable('client_tokens').set({ access_token: first.access_token }).where('user_id', '=', users[1]!.userId).execute();
      await assert.rejects(onlyB.getAccessToken(users[1]!.userId, 'gatehouse'), (error: unknown) => error instanceof OAuthError && /integrity/.test(error.description));
    });

    test('fetch() retries once after a 401 invalid_token by refreshing, and never after a 403 or a second 401', async (t) => {
      const { vault, accounts, clock, counter } = await openVault(t, backend, [primary]);
      const { profile, tokens } = await signIn(primary, 'alice', clock);
      const { userId } = await accounts.signIn('gatehouse', profile);
      await vault.store(userId, 'gatehouse', tokens);
      const userinfoUrl = primary.provider.userinfoEndpoint!;

      // The provider revoked the access token before it expired: /userinfo answers 401 invalid_token.
      await revoke(primary, tokens.accessToken);
      const response = await vault.fetch(userId, 'gatehouse', userinfoUrl, { headers: { accept: 'application/json' } });
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { sub: string }).sub, primary.accountIds.get('alice'));
      assert.equal(counter.count(userinfoUrl), 2);
      assert.equal(counter.tokenRequests, 1);
      const refreshed = await vault.getAccessToken(userId, 'gatehouse');
      assert.notEqual(refreshed, tokens.accessToken);
      assert.equal(counter.tokenRequests, 1, 'the refreshed token was stored');

      // A token without a userinfo scope: 403 insufficient_scope is not fixed by refreshing.
      const { url, transaction } = beginSignIn(primary.provider, redirectUri, ['calendar.read', 'offline_access'], { clock });
      const callback = await approve(primary, 'bob', url);
      const narrow = await requestTokens(
        primary.provider,
        { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: transaction.codeVerifier },
        transaction.scopes,
        clock,
      );
      const bob = await accounts.signIn('gatehouse', { subject: primary.accountIds.get('bob')!, emailVerified: false, raw: {} });
      await vault.store(bob.userId, 'gatehouse', narrow);
      const before = counter.urls.length;
      const forbidden = await vault.fetch(bob.userId, 'gatehouse', userinfoUrl);
      assert.equal(forbidden.status, 403);
      assert.match(forbidden.headers.get('www-authenticate') ?? '', /insufficient_scope/);
      assert.deepEqual(counter.urls.slice(before), [userinfoUrl], 'one request, no refresh, no retry');

      // An API that refuses every token: one refresh and one retry, then its 401 is returned.
      const refusing = await listen((request, reply) => {
        reply.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token", error_description="no token is good enough"' }).end();
      });
      t.after(() => new Promise<void>((resolve) => refusing.server.close(() => resolve())));
      const tokenRequestsBefore = counter.tokenRequests;
      const refused = await vault.fetch(userId, 'gatehouse', refusing.url, { method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(refused.status, 401);
      assert.equal(counter.count(refusing.url), 2);
      assert.equal(counter.tokenRequests - tokenRequestsBefore, 1);
      assert.equal(refusing.authorizations.length, 2);
      assert.notEqual(refusing.authorizations[0], refusing.authorizations[1], 'the retry carries the refreshed token');
      assert.deepEqual(refusing.bodies, ['x=1', 'x=1'], 'the retry sends the same request');
      // A 401 without invalid_token (another kind of challenge) is returned as is.
      const basicOnly = await listen((request, reply) => reply.writeHead(401, { 'www-authenticate': 'Basic realm="api"' }).end());
      t.after(() => new Promise<void>((resolve) => basicOnly.server.close(() => resolve())));
      const tokenRequestsNow = counter.tokenRequests;
      assert.equal((await vault.fetch(userId, 'gatehouse', basicOnly.url)).status, 401);
      assert.equal(counter.count(basicOnly.url), 1);
      assert.equal(counter.tokenRequests, tokenRequestsNow);
    });

    test('accounts: two providers on one user; an identity of another user is a conflict; the same email elsewhere is a new user', async (t) => {
      const { accounts, clock } = await openVault(t, backend, [primary, secondary]);
      const alice = (await signIn(primary, 'alice', clock)).profile;
      const bob = (await signIn(primary, 'bob', clock)).profile;
      const carol = (await signIn(secondary, 'carol', clock)).profile; // same email as alice, another provider
      const dave = (await signIn(secondary, 'dave', clock)).profile;
      assert.equal(carol.email, alice.email);

      const userA = await accounts.signIn('gatehouse', alice);
      assert.equal(userA.created, true);
      assert.equal(await accounts.displayName(userA.userId), 'alice');

      // Never linked by email: carol's identity makes a user of its own.
      const userC = await accounts.signIn('elsewhere', carol);
      assert.equal(userC.created, true);
      assert.notEqual(userC.userId, userA.userId);
      assert.deepEqual((await accounts.links(userA.userId)).map((link) => link.provider), ['gatehouse']);

      // Bob links a second provider while signed in; later either identity signs him in.
      const userB = await accounts.signIn('gatehouse', bob);
      clock.advance(1); // links are listed in the order they were made
      const linked = await accounts.signIn('elsewhere', dave, userB.userId);
      assert.deepEqual(linked, { userId: userB.userId, created: false });
      assert.deepEqual(
        (await accounts.links(userB.userId)).map((link) => [link.provider, link.subject, link.email]),
        [
          ['gatehouse', primary.accountIds.get('bob'), 'bob@example.com'],
          ['elsewhere', secondary.accountIds.get('dave'), 'dave@example.com'],
        ],
      );
      assert.deepEqual(await accounts.signIn('elsewhere', dave), { userId: userB.userId, created: false });

      // Signed in as Bob, signing in with Alice's identity (or carol's) does not move it to Bob.
      await assert.rejects(accounts.signIn('gatehouse', alice, userB.userId), (error: unknown) => error instanceof OAuthError && error.code === 'conflict');
      await assert.rejects(accounts.signIn('elsewhere', carol, userA.userId), (error: unknown) => error instanceof OAuthError && error.code === 'conflict');
      assert.deepEqual(await accounts.signIn('gatehouse', alice), { userId: userA.userId, created: false });
      // A second identity of a provider the user already has linked is refused too.
      await assert.rejects(
        accounts.signIn('elsewhere', { ...dave, subject: 'another-elsewhere-subject' }, userB.userId),
        (error: unknown) => error instanceof OAuthError && error.code === 'conflict' && /already has/.test(error.description),
      );
    });
  });
}

/** A tiny real API on a free port, recording the Authorization header and body of each request. */
async function listen(
  handler: (request: IncomingMessage, reply: ServerResponse) => void,
): Promise<{ server: Server; url: string; authorizations: string[]; bodies: string[] }> {
  const authorizations: string[] = [];
  const bodies: string[] = [];
  const server = createServer((request, reply) => {
    authorizations.push(request.headers.authorization ?? '');
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push(body);
      handler(request, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, authorizations, bodies };
}

test('PostgreSQL: opening a vault waits for another migrator longer than the 5 s query deadline', async (t) => {
  // Kysely takes one advisory lock for migrations in the whole database, whatever the schema:
  // while another process (a Gatehouse starting up, another app) migrates, the vault must wait.
  // A database of its own, so that holding its lock blocks no other test.
  const name = `gh_vault_lock_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  const migrator = new pg.Client({ connectionString: url.toString() });
  t.after(async () => {
    await migrator.end().catch(() => {});
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
  await migrator.connect();
  await migrator.query('select pg_advisory_lock(3853314791062309107)');

  let settled = false;
  const opening = TokenVault.open({ databaseUrl: url.toString(), keys: { current: 'k', keys: { k: newKey() } }, providers: [] }).finally(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 5200));
  assert.equal(settled, false, 'the vault waits while the lock is held');
  await migrator.query('select pg_advisory_unlock(3853314791062309107)');
  const vault = await opening;
  assert.deepEqual(await vault.database.selectFrom('client_users').selectAll().execute(), []);
  await vault.close();
});
