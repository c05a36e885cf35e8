import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import { loadConfig } from '../../src/server/config/load.ts';
import { createServerContext } from '../../src/server/context.ts';
import { KeyEncryption } from '../../src/server/keys/key-encryption.ts';
import { hashSecret } from '../../src/server/keys/opaque-secret.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import type { Storage } from '../../src/storage/storage.ts';
import pg from 'pg';
import { createTestSchema, testPostgresUrl } from '../support/postgres.ts';
import { runGatehouse, startGatehouse } from '../support/gatehouse-cli.ts';
import { Browser, hiddenFields, location, pkceAuthorizationRequest, type PkceAuthorization } from '../support/http-browser.ts';

/*
 * DESIGN "Scale-out": N stateless Gatehouse processes on one PostgreSQL behave as one server.
 * Two real `gatehouse start` processes share one schema and one key-encryption key; a single
 * cookie jar plays the browser behind a load balancer that sends each request to either of them
 * (browsers scope cookies by host, not port, so a real browser would do the same here).
 */

const password = 'correct horse battery staple';
const redirectUri = 'https://mine.example/callback';

// Child processes

function cliEnv(databaseUrl: string, keyEncryptionKey: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, GATEHOUSE_KEY_ENCRYPTION_KEY: keyEncryptionKey, LOG_LEVEL: 'silent', ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return runGatehouse(args, { env });
}



/** `gatehouse start` on its own port and issuer; resolves with the issuer once it is listening. */
async function startInstance(t: TestContext, databaseUrl: string, keyEncryptionKey: string): Promise<string> {
  return (await startGatehouse(t, cliEnv(databaseUrl, keyEncryptionKey))).issuer;
}

// The client's side of the protocol

interface Client {
  id: string;
  secret: string;
}

type Authorization = PkceAuthorization;

function authorizationRequest(issuer: string, client: Client, scope: string): Authorization {
  return pkceAuthorizationRequest(issuer, client.id, redirectUri, scope);
}

/** The same request sent to another instance. */
function at(issuer: string, authorization: Authorization): URL {
  return new URL(`${authorization.url.pathname}${authorization.url.search}`, issuer);
}

/** The code of a redirect to the client, checking it came from `issuer` (RFC 9207). */
function codeFrom(response: Response, issuer: string): string {
  assert.ok(response.status === 302 || response.status === 303, `expected a redirect, got ${response.status}`);
  const callback = new URL(location(response));
  assert.equal(`${callback.origin}${callback.pathname}`, redirectUri);
  assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description') ?? '');
  assert.equal(callback.searchParams.get('iss'), issuer);
  const code = callback.searchParams.get('code');
  assert.ok(code, 'the redirect carries a code');
  return code;
}

function basic(client: Client): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`;
}

function postForm(url: string, client: Client, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
}

function redeem(issuer: string, client: Client, code: string, verifier: string): Promise<Response> {
  return postForm(`${issuer}/token`, client, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
}

function refresh(issuer: string, client: Client, refreshToken: string): Promise<Response> {
  return postForm(`${issuer}/token`, client, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

interface Tokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope: string;
}

async function tokensOf(response: Response): Promise<Tokens> {
  const body = (await response.json()) as Tokens & { error?: string; error_description?: string };
  assert.equal(response.status, 200, `${body.error}: ${body.error_description}`);
  return body;
}

function userinfo(issuer: string, accessToken: string): Promise<Response> {
  return fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
}

async function userinfoStatus(issuer: string, accessToken: string): Promise<number> {
  const response = await userinfo(issuer, accessToken);
  await response.arrayBuffer();
  return response.status;
}

/** Statuses and error codes of two responses, in a stable order, for `deepEqual`. */
async function outcomes(responses: Response[]): Promise<{ outcomes: string[]; winner: Tokens; winnerIndex: number }> {
  const bodies = await Promise.all(responses.map(async (response) => ({ status: response.status, body: (await response.json()) as Record<string, unknown> })));
  const winnerIndex = bodies.findIndex((entry) => entry.status === 200);
  return {
    outcomes: bodies.map((entry) => (entry.status === 200 ? '200' : `${entry.status} ${String(entry.body.error)}`)).sort(),
    winner: bodies[winnerIndex]?.body as unknown as Tokens,
    winnerIndex,
  };
}

// The two instances and what they share

interface Cluster {
  a: string;
  b: string;
  databaseUrl: string;
  keyEncryptionKey: string;
  client: Client;
  /** A second client, which nobody has consented to yet. */
  calendar: Client;
  sub: string;
  /** A browser logged in (through A) that has consented to every scope of `client`. */
  browser: Browser;
}

const clientScopes = 'openid profile email offline_access';

/** Logs `browser` in through `issuer`'s login form, starting from an authorization request that needs it. */
async function logIn(browser: Browser, issuer: string, authorization: URL): Promise<string> {
  const first = await browser.get(authorization);
  assert.equal(first.status, 302);
  const loginUrl = new URL(location(first), issuer);
  assert.equal(loginUrl.pathname, '/login');
  const loginPage = await browser.get(loginUrl);
  assert.equal(loginPage.status, 200);
  const fields = hiddenFields(await loginPage.text());
  const loggedIn = await browser.post(
    `${issuer}/login`,
    new Map([['_csrf', fields.get('_csrf')!], ['return_to', fields.get('return_to')!], ['username', 'alice'], ['password', password]]),
  );
  assert.equal(loggedIn.status, 303);
  return location(loggedIn);
}

/** Answers the consent page `page` (a 200 from /authorize) at `issuer`; returns the redirect. */
async function allow(browser: Browser, issuer: string, page: Response): Promise<Response> {
  assert.equal(page.status, 200, 'a consent page');
  const fields = hiddenFields(await page.text());
  assert.ok(fields.has('_csrf'), 'the consent form carries a CSRF token');
  fields.set('decision', 'allow');
  const decided = await browser.post(`${issuer}/authorize/decision`, fields);
  assert.equal(decided.status, 303);
  return decided;
}

async function startCluster(t: TestContext): Promise<Cluster> {
  const schema = await createTestSchema();
  t.after(() => schema.drop());
  const keyEncryptionKey = randomBytes(32).toString('base64url');

  // Both instances and this process meet an empty schema at the same time, as N instances of a
  // fresh deployment do: each migrates (under Kysely's lock) and makes sure signing keys exist.
  const config = loadConfig({ env: { DATABASE_URL: schema.url, GATEHOUSE_KEY_ENCRYPTION_KEY: keyEncryptionKey } });
  const setUp = (async () => {
    const storage = await openStorage(schema.url);
    try {
      const ctx = createServerContext(config, storage, systemClock, new KeyEncryption(Buffer.from(keyEncryptionKey, 'base64url')));
      const mine = await registerClient({ name: 'Mine', redirectUris: [redirectUri], scopes: clientScopes.split(' ') }, ctx);
      const calendar = await registerClient({ name: 'Calendar', redirectUris: [redirectUri], scopes: ['profile', 'email'] }, ctx);
      const account = await createAccount({ username: 'alice', password, name: 'Alice Kim', email: 'alice@example.com' }, ctx);
      return {
        client: { id: mine.client.id, secret: mine.clientSecret! },
        calendar: { id: calendar.client.id, secret: calendar.clientSecret! },
        sub: account.id,
      };
    } finally {
      await storage.close();
    }
  })();
  const [a, b, { client, calendar, sub }] = await Promise.all([
    startInstance(t, schema.url, keyEncryptionKey),
    startInstance(t, schema.url, keyEncryptionKey),
    setUp,
  ]);

  // One login and one consent, through A; every code after that is one GET of /authorize.
  const browser = new Browser(a); // one cookie jar for both instances: every URL here is absolute
  const first = authorizationRequest(a, client, clientScopes);
  const returnTo = await logIn(browser, a, first.url);
  codeFrom(await allow(browser, a, await browser.get(new URL(returnTo, a))), a);
  return { a, b, databaseUrl: schema.url, keyEncryptionKey, client, calendar, sub, browser };
}

/** A fresh code issued by `issuer` without any page (the browser is logged in and has consented). */
async function freshCode(cluster: Cluster, issuer: string, scope: string): Promise<{ code: string; verifier: string }> {
  const authorization = authorizationRequest(issuer, cluster.client, scope);
  return { code: codeFrom(await cluster.browser.get(authorization.url), issuer), verifier: authorization.verifier };
}

async function tokensFrom(cluster: Cluster, issuer: string, scope: string): Promise<Tokens> {
  const { code, verifier } = await freshCode(cluster, issuer, scope);
  return tokensOf(await redeem(issuer, cluster.client, code, verifier));
}

test('two gatehouse processes on one PostgreSQL schema act as one server', async (t) => {
  const cluster = await startCluster(t);
  const { a, b, client } = cluster;
  // An operator registers a client with the CLI while both instances serve the tests below
  // (started now because every command costs a Node start-up; the test of it waits for it).
  const lateRegistration = runCli(
    ['clients', 'create', '--name', 'Late Arrival', '--redirect-uri', redirectUri, '--scope', 'profile', '--json'],
    cliEnv(cluster.databaseUrl, cluster.keyEncryptionKey),
  );

  await t.test('one authorization code redeemed at both at once: exactly one succeeds, and the race revokes nothing else', async () => {
    // A bystander: tokens of another grant of the same client and user, which no race may touch.
    const bystander = await tokensFrom(cluster, b, 'profile');
    for (let round = 0; round < 10; round++) {
      const { code, verifier } = await freshCode(cluster, round % 2 === 0 ? a : b, 'profile email');
      const race = await outcomes(await Promise.all([redeem(a, client, code, verifier), redeem(b, client, code, verifier)]));
      assert.deepEqual(race.outcomes, ['200', '400 invalid_grant'], `round ${round}`);
      // The loser presented a used code: to the server that is a replay, which revokes what the
      // code issued (RFC 6749 §4.1.2) — on both instances alike — and nothing else.
      assert.equal(await userinfoStatus(a, race.winner.access_token), 401, `round ${round}`);
      assert.equal(await userinfoStatus(b, race.winner.access_token), 401, `round ${round}`);
      assert.equal((await refresh(a, client, race.winner.refresh_token!)).status, 400, `round ${round}`);
    }
    assert.equal(await userinfoStatus(a, bystander.access_token), 200);
    assert.equal(await userinfoStatus(b, bystander.access_token), 200);
    const stillGood = await tokensOf(await refresh(a, client, bystander.refresh_token!));
    assert.equal(await userinfoStatus(b, stillGood.access_token), 200);
  });

  await t.test('one refresh token presented at both at once: exactly one rotation; a later replay still fails and the family is revoked', async () => {
    const bystander = await tokensFrom(cluster, a, 'profile');
    for (let round = 0; round < 5; round++) {
      const original = await tokensFrom(cluster, round % 2 === 0 ? a : b, 'profile email');
      const race = await outcomes(await Promise.all([refresh(a, client, original.refresh_token!), refresh(b, client, original.refresh_token!)]));
      assert.deepEqual(race.outcomes, ['200', '400 invalid_grant'], `round ${round}`);
      assert.notEqual(race.winner.refresh_token, original.refresh_token);

      const replay = await refresh(round % 2 === 0 ? b : a, client, original.refresh_token!);
      assert.equal(replay.status, 400);
      assert.equal(((await replay.json()) as { error: string }).error, 'invalid_grant');
      for (const issuer of [a, b]) {
        assert.equal(await userinfoStatus(issuer, race.winner.access_token), 401, `round ${round}: the rotated family is revoked at ${issuer}`);
        assert.equal(await userinfoStatus(issuer, original.access_token), 401, `round ${round}`);
      }
      const winnersRefresh = await refresh(b, client, race.winner.refresh_token!);
      assert.equal(winnersRefresh.status, 400);
      assert.equal(((await winnersRefresh.json()) as { error: string }).error, 'invalid_grant');
    }
    assert.equal(await userinfoStatus(a, bystander.access_token), 200);
    assert.equal(await userinfoStatus(b, bystander.access_token), 200);
  });

  await t.test('a login session made at A is honoured at B, and consent remembered at A lets B issue a code at once', async () => {
    const { calendar } = cluster;
    // A browser of its own, with no session yet.
    const browser = new Browser(a); // one cookie jar for both instances: every URL here is absolute
    const authorization = authorizationRequest(a, calendar, 'profile');
    const returnTo = await logIn(browser, a, authorization.url);
    assert.match(returnTo, /^\/authorize\?/);

    // B knows the session: it shows the consent page, not the login page.
    const consentAtB = await browser.get(new URL(returnTo, b));
    assert.equal(consentAtB.status, 200);
    const pageAtB = await consentAtB.text();
    assert.match(pageAtB, /action="\/authorize\/decision"/);
    assert.match(pageAtB, /Signed in as <strong>alice<\/strong>/);
    assert.doesNotMatch(pageAtB, /name="password"/);

    // Consent given at A …
    const codeAtA = codeFrom(await allow(browser, a, await browser.get(new URL(returnTo, a))), a);
    // … is remembered at B, which redirects with a code straight away.
    const again = authorizationRequest(b, calendar, 'profile');
    const codeAtB = codeFrom(await browser.get(again.url), b);
    assert.notEqual(codeAtB, codeAtA);
    // Each code redeems at the other instance.
    const fromB = await tokensOf(await redeem(a, calendar, codeAtB, again.verifier));
    const fromA = await tokensOf(await redeem(b, calendar, codeAtA, authorization.verifier));
    assert.equal(fromA.scope, 'profile');
    assert.equal(fromB.scope, 'profile');

    // A scope not yet consented to still asks, at either instance.
    const wider = await browser.get(at(b, authorizationRequest(a, calendar, 'profile email')));
    assert.equal(wider.status, 200);
    assert.match(await wider.text(), /action="\/authorize\/decision"/);

    // Signing out at B ends the session at A too.
    const home = await (await browser.get(`${b}/`)).text();
    assert.match(home, /Signed in as <strong>alice<\/strong>/);
    const signedOut = await browser.post(`${b}/logout`, hiddenFields(home));
    assert.equal(signedOut.status, 303);
    const afterLogout = await browser.get(authorizationRequest(a, calendar, 'profile').url);
    assert.equal(afterLogout.status, 302);
    assert.equal(new URL(location(afterLogout), a).pathname, '/login');
  });

  await t.test('a client registered by the CLI while both run is usable at both at once', async () => {
    const created = await lateRegistration;
    assert.equal(created.code, 0, created.stderr);
    const json = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
    const late: Client = { id: json.client_id, secret: json.client_secret };

    // Both instances know it at the same moment: each shows its consent page.
    const requests = [authorizationRequest(a, late, 'profile'), authorizationRequest(b, late, 'profile')];
    const pages = await Promise.all(requests.map((request) => cluster.browser.get(request.url)));
    const [pageAtA, pageAtB] = await Promise.all(pages.map((page) => (assert.equal(page.status, 200), page.text())));
    assert.match(pageAtA!, /Late Arrival/);
    assert.match(pageAtB!, /Late Arrival/);
    // The form A served, answered at B: its CSRF token holds there too (no per-process secret).
    const fields = hiddenFields(pageAtA!);
    fields.set('decision', 'allow');
    const decided = await cluster.browser.post(`${b}/authorize/decision`, fields);
    assert.equal(decided.status, 303);
    await tokensOf(await redeem(a, late, codeFrom(decided, b), requests[0]!.verifier));

    // Codes from both at once, each redeemed at the other with the new client's secret.
    const [atA, atB] = [authorizationRequest(a, late, 'profile'), authorizationRequest(b, late, 'profile')];
    const [codeA, codeB] = await Promise.all([cluster.browser.get(atA.url), cluster.browser.get(atB.url)]);
    const [tokensA, tokensB] = await Promise.all([
      redeem(b, late, codeFrom(codeA, a), atA.verifier).then(tokensOf),
      redeem(a, late, codeFrom(codeB, b), atB.verifier).then(tokensOf),
    ]);
    assert.equal(await userinfoStatus(a, tokensB.access_token), 200);
    assert.equal(await userinfoStatus(b, tokensA.access_token), 200);
    // The secret is checked alike at both.
    const wrong = await redeem(a, { id: late.id, secret: `${late.secret}x` }, 'no-such-code', atA.verifier);
    assert.equal(wrong.status, 401);
  });

  await t.test('a token issued by A is valid at B: userinfo and introspection', async () => {
    const tokens = await tokensFrom(cluster, a, 'openid profile email offline_access');
    const info = await userinfo(b, tokens.access_token);
    assert.equal(info.status, 200);
    assert.deepEqual(await info.json(), {
      sub: cluster.sub,
      preferred_username: 'alice',
      name: 'Alice Kim',
      email: 'alice@example.com',
      email_verified: false,
    });
    const introspection = await postForm(`${b}/introspect`, client, { token: tokens.access_token });
    assert.equal(introspection.status, 200);
    const body = (await introspection.json()) as Record<string, unknown>;
    assert.equal(body.active, true);
    assert.equal(body.sub, cluster.sub);
    assert.equal(body.client_id, client.id);
    assert.equal(body.scope, 'openid profile email offline_access');
    const refreshIntrospection = await postForm(`${b}/introspect`, client, { token: tokens.refresh_token!, token_type_hint: 'refresh_token' });
    assert.equal(((await refreshIntrospection.json()) as { active: boolean }).active, true);

    // Revoked at B, it is dead at A too.
    const revoked = await postForm(`${b}/revoke`, client, { token: tokens.access_token });
    assert.equal(revoked.status, 200);
    assert.equal(await userinfoStatus(a, tokens.access_token), 401);
    const after = await postForm(`${a}/introspect`, client, { token: tokens.access_token });
    assert.deepEqual(await after.json(), { active: false });
  });

  await t.test('a key rotation by the CLI is published by both at once and used by both for new ID tokens', async () => {
    const jwks = async (issuer: string) => (await (await fetch(`${issuer}/jwks`)).json()) as JSONWebKeySet;
    const kids = (set: JSONWebKeySet) => set.keys.map((key) => key.kid).sort();
    const [beforeA, beforeB] = await Promise.all([jwks(a), jwks(b)]);
    assert.deepEqual(kids(beforeA), kids(beforeB));
    const oldIdToken = (await tokensFrom(cluster, a, 'openid profile')).id_token!;
    const oldKid = decodeProtectedHeader(oldIdToken).kid;
    assert.ok(kids(beforeA).includes(oldKid));

    const rotated = await runCli(['keys', 'rotate'], cliEnv(cluster.databaseUrl, cluster.keyEncryptionKey));
    assert.equal(rotated.code, 0, rotated.stderr);
    const newKid = /New RS256 signing key (\S+) is active\./.exec(rotated.stdout)?.[1];
    assert.ok(newKid, rotated.stdout);
    assert.notEqual(newKid, oldKid);

    const [afterA, afterB] = await Promise.all([jwks(a), jwks(b)]);
    assert.deepEqual(kids(afterA), kids(afterB));
    assert.ok(kids(afterA).includes(newKid), 'the new key is published');
    assert.ok(kids(afterA).includes(oldKid), 'the old key stays published while its tokens live');

    for (const [issuer, other] of [[a, b], [b, a]] as const) {
      const idToken = (await tokensFrom(cluster, issuer, 'openid profile')).id_token!;
      assert.equal(decodeProtectedHeader(idToken).kid, newKid, `an ID token from ${issuer} is signed with the new key`);
      // It verifies with the key set either instance publishes.
      const { payload } = await jwtVerify(idToken, createLocalJWKSet(await jwks(other)), { issuer, audience: client.id });
      assert.equal(payload.sub, cluster.sub);
    }
    // An ID token signed before the rotation still verifies.
    await jwtVerify(oldIdToken, createLocalJWKSet(await jwks(b)), { issuer: a, audience: client.id });
  });
});

// Cleanup by several instances at once

function insertRows(storage: Storage, clientId: string, accountId: string, count: number, expiresAt: number, now: number): Promise<void>[] {
  const work: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const familyId = randomBytes(8).toString('hex');
    const hash = () => hashSecret(randomBytes(32).toString('base64url'));
    const common = { familyId, clientId, accountId, scopes: ['profile'], expiresAt, createdAt: now - 7_200_000 };
    const kind = i % 4;
    if (kind === 0) {
      work.push(
        storage.insertAuthorizationCode({
          ...common,
          hash: hash(),
          redirectUri,
          codeChallenge: null,
          nonce: null,
          resources: null,
          authTime: now - 7_200_000,
          consumedAt: null,
          grantId: 'g',
          retainUntil: expiresAt,
        }),
      );
    } else if (kind === 1) {
      work.push(storage.insertAccessToken({ ...common, hash: hash(), audience: null, revokedAt: null }));
    } else if (kind === 2) {
      work.push(storage.insertRefreshToken({ ...common, hash: hash(), authTime: now - 7_200_000, rotatedAt: null, revokedAt: null, resources: null, grantId: 'g', familyCreatedAt: now - 7_200_000 }));
    } else {
      work.push(storage.insertSession({ idHash: hash(), accountId, authTime: now - 7_200_000, expiresAt, createdAt: now - 7_200_000 }));
    }
  }
  return work;
}

const sweptTables = ['authorization_codes', 'access_tokens', 'refresh_tokens', 'sessions'] as const;

/** Expired and live rows per table, counted with SQL of its own rather than through the code under test. */
async function countRows(schemaName: string, now: number): Promise<Record<string, { expired: number; live: number }>> {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try {
    const counts: Record<string, { expired: number; live: number }> = {};
    for (const table of sweptTables) {
      const { rows } = await client.query<{ expired: string; live: string }>(
        `select count(*) filter (where expires_at < $1) as expired, count(*) filter (where expires_at >= $1) as live from ${schemaName}.${table}`,
        [now],
      );
      counts[table] = { expired: Number(rows[0]!.expired), live: Number(rows[0]!.live) };
    }
    return counts;
  } finally {
    await client.end();
  }
}

function everyTable(expired: number, live: number): Record<string, { expired: number; live: number }> {
  return Object.fromEntries(sweptTables.map((table) => [table, { expired, live }]));
}

test('expired rows are deleted in batches by two instances at once, and live rows are kept', async (t) => {
  const schema = await createTestSchema();
  t.after(() => schema.drop());
  const [one, two] = await Promise.all([openStorage(schema.url), openStorage(schema.url)]);
  t.after(() => Promise.all([one.close(), two.close()]));

  const now = Date.now();
  // Through the domain functions, which know every field a client and an account need.
  const ctx = createServerContext(loadConfig({ env: { DATABASE_URL: schema.url } }), one, systemClock, () => {
    throw new Error('no signing in this test');
  });
  const { client } = await registerClient({ name: 'Cleanup', redirectUris: [redirectUri] }, ctx);
  const account = await createAccount({ username: 'cleanup', password }, ctx);
  // 125 expired rows in each of the four tables, and 5 live ones (expiring in an hour).
  for (let batch = 0; batch < 5; batch++) {
    await Promise.all(insertRows(batch % 2 === 0 ? one : two, client.id, account.id, 100, now - 1000, now));
  }
  await Promise.all(insertRows(one, client.id, account.id, 20, now + 3_600_000, now));
  assert.deepEqual(await countRows(schema.name, now), everyTable(125, 5));

  // Two instances sweeping at the same moment, each in batches of 50, each until it finds nothing.
  const sweep = async (storage: Storage) => {
    let total = 0;
    for (;;) {
      const deleted = await storage.deleteExpired(now, 50);
      assert.ok(deleted <= sweptTables.length * 50, `a batch deletes at most 50 rows per table (got ${deleted})`);
      if (deleted === 0) return total;
      total += deleted;
    }
  };
  const [byOne, byTwo] = await Promise.all([sweep(one), sweep(two)]);
  assert.equal(byOne + byTwo, 500, `every expired row is deleted exactly once (${byOne} + ${byTwo})`);
  assert.deepEqual(await countRows(schema.name, now), everyTable(0, 5));
});
