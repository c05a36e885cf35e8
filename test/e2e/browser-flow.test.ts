import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchSharedChromium, localOnlyPage } from '../support/chromium.ts';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import { createServerContext, type ServerContext } from '../../src/server/context.ts';
import { KeyEncryption } from '../../src/server/keys/key-encryption.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { startCallbackServer, startListeningServer, type CallbackServer } from '../support/listening-server.ts';
import { exited, runGatehouse, startGatehouse, withTimeout, type RunningGatehouse } from '../support/gatehouse-cli.ts';

/*
 * The seed's whole story in a real browser against a real `gatehouse start`: the client and the
 * user come from the CLI, the browser logs in and consents, "Mine" receives the code on its
 * callback, then exchanges it, calls the API, refreshes and calls again over real sockets.
 * A second test drives the login and consent pages with the keyboard alone.
 */

const password = 'correct horse battery staple';

/*
 * Chromium starts while the first test runs the CLI; both tests share it, each in a browser
 * context (cookies, storage) of its own.
 */
const browserReady: Promise<Browser> = launchSharedChromium();

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const keyEncryptionKey = randomBytes(32).toString('base64url');

/** The environment of every `gatehouse` child: one database, no logs, no test-runner context. */
function cliEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    // A key of its own, so no development key file is written into the checkout.
    GATEHOUSE_KEY_ENCRYPTION_KEY: keyEncryptionKey,
    // Mine, a web client, redirects to a callback server on loopback http: a development setup.
    GATEHOUSE_ALLOW_INSECURE_HTTP_REDIRECT_URIS: '1',
    ...extra,
  };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** Runs one `gatehouse …` command to completion, the way a user types it. */
function runCli(args: string[], databaseUrl: string, stdin?: string): Promise<CliResult> {
  return runGatehouse(args, { env: cliEnv(databaseUrl), stdin });
}

/** Resolves when the child has exited (at once if it already has). */






interface Setup {
  issuer: string;
  callback: CallbackServer;
  clientId: string;
  clientSecret: string;
  sub: string;
}

/** A fresh database with "Mine" registered and alice created by the CLI, and `gatehouse start` on it. */
async function setUpWithCli(t: TestContext): Promise<Setup & { gatehouse: RunningGatehouse }> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const databaseUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
  const callback = await startCallbackServer(t, 'Mine');

  const created = await runCli(
    ['clients', 'create', '--name', 'Mine', '--redirect-uri', callback.uri, '--scope', 'profile email', '--json'],
    databaseUrl,
  );
  assert.equal(created.code, 0, created.stderr);
  const client = JSON.parse(created.stdout) as Record<string, unknown>;
  assert.equal(client.client_name, 'Mine');
  assert.equal(client.client_type, 'confidential');
  assert.deepEqual(client.redirect_uris, [callback.uri]);
  assert.equal(client.scope, 'profile email');
  assert.equal(typeof client.client_id, 'string');
  assert.equal(typeof client.client_secret, 'string');

  // The first command created and migrated the database; the user and the server need only that.
  const [user, gatehouse] = await Promise.all([
    runCli(
      ['users', 'create', '--username', 'alice', '--password-stdin', '--email', 'alice@example.com', '--json'],
      databaseUrl,
      `${password}\n`,
    ),
    startGatehouse(t, cliEnv(databaseUrl), 30_000),
  ]);
  assert.equal(user.code, 0, user.stderr);
  const account = JSON.parse(user.stdout) as Record<string, unknown>;
  assert.equal(account.username, 'alice');
  assert.equal(typeof account.sub, 'string');

  return {
    gatehouse,
    issuer: gatehouse.issuer,
    callback,
    clientId: client.client_id as string,
    clientSecret: client.client_secret as string,
    sub: account.sub as string,
  };
}

/**
 * The same, in this process and without the CLI: a cheaper setup for a test about the pages,
 * since every `gatehouse` command costs a Node start-up.
 */
async function setUpInProcess(t: TestContext): Promise<Setup> {
  const callback = await startCallbackServer(t, 'Mine');
  const server = await startListeningServer({ allowInsecureHttpRedirectUris: true });
  t.after(() => server.close());
  const storage = await openStorage(server.databaseUrl);
  try {
    const ctx: ServerContext = createServerContext(server.config, storage, systemClock, new KeyEncryption(Buffer.from(server.config.keyEncryptionKey, 'base64url')));
    const { client, clientSecret } = await registerClient(
      { name: 'Mine', redirectUris: [callback.uri], scopes: ['profile', 'email'] },
      ctx,
    );
    const account = await createAccount({ username: 'alice', password }, ctx);
    return { issuer: server.url, callback, clientId: client.id, clientSecret: clientSecret!, sub: account.id };
  } finally {
    await storage.close();
  }
}

/** A browser profile of its own that may reach 127.0.0.1 only; anything else is recorded and refused. */
function newBrowserContext(t: TestContext): Promise<{ context: BrowserContext; page: Page; foreign: string[] }> {
  return localOnlyPage(t, browserReady);
}

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(setup: Setup, state: string, challenge: string): string {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: setup.clientId,
    redirect_uri: setup.callback.uri,
    scope: 'profile email',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${setup.issuer}/authorize?${params}`;
}

/** RFC 6749 §2.3.1: client_secret_basic form-encodes the ID and secret before Base64. */
function basicAuth(setup: Setup): string {
  const user = encodeURIComponent(setup.clientId);
  const secret = encodeURIComponent(setup.clientSecret);
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

function postToken(setup: Setup, fields: Record<string, string>): Promise<Response> {
  return fetch(`${setup.issuer}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(setup), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
}

function callUserinfo(setup: Setup, accessToken: string): Promise<Response> {
  return fetch(`${setup.issuer}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
}

const opaqueToken = /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/;

function isCallback(setup: Setup) {
  return (url: URL) => `${url.origin}${url.pathname}` === setup.callback.uri;
}

// Independent servers, databases and browser contexts: the two tests run side by side.
describe('Gatehouse in a real browser', { concurrency: true }, () => {
  test('a user signs in to Mine: CLI setup, login, consent, code, token, userinfo, refresh', { timeout: 90_000 }, async (t) => {
    const setup = await setUpWithCli(t);
    const { issuer } = setup;
    const { page, foreign } = await newBrowserContext(t);
    const { verifier, challenge } = pkcePair();
    const state = randomBytes(16).toString('base64url');

    // Not signed in yet: /authorize sends the browser to the login page.
    const loginResponse = await page.goto(authorizeUrl(setup, state, challenge));
    assert.ok(loginResponse !== null);
    assert.equal(loginResponse.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await page.title(), 'Sign in · Gatehouse');
    const headers = loginResponse.headers();
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.equal(headers['referrer-policy'], 'no-referrer');

    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(password);
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/authorize'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);

    // The consent page names the client and says in words what each scope allows.
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.equal(await page.title(), 'Allow access · Gatehouse');
    assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), 'Mine wants to access your account');
    assert.match(await page.locator('main').innerText(), /Signed in as alice\./);
    const scopeItems = (await page.locator('ul.scopes li').allInnerTexts()).map((text) => text.trim());
    assert.deepEqual(scopeItems, ['See your username and name (profile)', 'See your email address (email)']);
    assert.equal(setup.callback.received.length, 0, 'nothing reaches Mine before the user decides');

    await Promise.all([page.waitForURL(isCallback(setup)), page.getByRole('button', { name: 'Allow' }).click()]);

    // RFC 6749 §4.1.2 and RFC 9207: code, the same state, and the issuer.
    assert.equal(setup.callback.received.length, 1);
    const query = setup.callback.received[0]!;
    assert.deepEqual([...query.keys()].sort(), ['code', 'iss', 'state']);
    assert.equal(query.get('state'), state);
    assert.equal(query.get('iss'), issuer);
    const code = query.get('code')!;
    assert.match(code, opaqueToken);
    assert.equal(new URL(page.url()).searchParams.get('code'), code);
    assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), 'Mine got the callback');

    // The back channel: exchange the code with client_secret_basic and the PKCE verifier.
    const tokenResponse = await postToken(setup, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: setup.callback.uri,
      code_verifier: verifier,
    });
    const tokens = (await tokenResponse.json()) as Record<string, unknown>;
    assert.equal(tokenResponse.status, 200, JSON.stringify(tokens));
    assert.equal(tokenResponse.headers.get('cache-control'), 'no-store');
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.expires_in, 3600);
    assert.equal(tokens.scope, 'profile email');
    assert.match(tokens.access_token as string, opaqueToken);
    assert.match(tokens.refresh_token as string, opaqueToken);

    // The seed's API call.
    const profile = await callUserinfo(setup, tokens.access_token as string);
    assert.equal(profile.status, 200);
    assert.deepEqual(await profile.json(), {
      sub: setup.sub,
      preferred_username: 'alice',
      email: 'alice@example.com',
      email_verified: false,
    });

    // Refresh rotates both tokens (RFC 9700 §4.14.2).
    const refreshResponse = await postToken(setup, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
    });
    const refreshed = (await refreshResponse.json()) as Record<string, unknown>;
    assert.equal(refreshResponse.status, 200, JSON.stringify(refreshed));
    assert.equal(refreshResponse.headers.get('cache-control'), 'no-store');
    assert.equal(refreshed.token_type, 'Bearer');
    assert.equal(refreshed.scope, 'profile email');
    assert.match(refreshed.access_token as string, opaqueToken);
    assert.match(refreshed.refresh_token as string, opaqueToken);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

    const again = await callUserinfo(setup, refreshed.access_token as string);
    assert.equal(again.status, 200);
    const againClaims = (await again.json()) as Record<string, unknown>;
    assert.equal(againClaims.sub, setup.sub);
    assert.equal(againClaims.preferred_username, 'alice');

    // The rotated-out refresh token is refused, and its reuse revokes the whole family.
    const replay = await postToken(setup, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string });
    assert.equal(replay.status, 400);
    assert.equal(((await replay.json()) as Record<string, unknown>).error, 'invalid_grant');
    const afterReplay = await callUserinfo(setup, refreshed.access_token as string);
    assert.equal(afterReplay.status, 401);
    assert.match(afterReplay.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);

    assert.deepEqual(foreign, [], 'the pages load nothing from other origins');

    // Ctrl-C (SIGINT) stops the server cleanly.
    setup.gatehouse.child.kill('SIGINT');
    assert.equal(await withTimeout(exited(setup.gatehouse.child), 15_000, 'gatehouse to stop on SIGINT'), 0);
    assert.match(setup.gatehouse.output(), /Stopping/);
  });

  test('the login and consent pages work with the keyboard alone', { timeout: 90_000 }, async (t) => {
    const setup = await setUpInProcess(t);
    const { issuer } = setup;
    const { page } = await newBrowserContext(t);
    /** The focused element as `id` for a field, or `name=value` for a button. */
    const focused = async (): Promise<string> => {
      const element = page.locator(':focus');
      assert.equal(await element.count(), 1, 'exactly one element has the focus');
      const [id, name, value] = await Promise.all(['id', 'name', 'value'].map((attribute) => element.getAttribute(attribute)));
      return id ?? `${name}=${value}`;
    };

    const first = pkcePair();
    await page.goto(authorizeUrl(setup, 'kbd-deny', first.challenge));
    assert.equal(new URL(page.url()).pathname, '/login');

    // The username field has focus on arrival; Tab moves to the password; Enter submits.
    assert.equal(await focused(), 'username');
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'password');
    await page.keyboard.type(password);
    await Promise.all([page.waitForURL((url) => url.pathname === '/authorize'), page.keyboard.press('Enter')]);
    assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), 'Mine wants to access your account');

    // On the consent page, Tab reaches Allow and then Deny. Deny first.
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'decision=allow');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'decision=deny');
    await Promise.all([page.waitForURL(isCallback(setup)), page.keyboard.press('Enter')]);
    assert.equal(setup.callback.received.length, 1);
    const denied = setup.callback.received[0]!;
    assert.equal(denied.get('error'), 'access_denied');
    assert.equal(denied.get('state'), 'kbd-deny');
    assert.equal(denied.get('iss'), issuer);
    assert.equal(denied.get('code'), null);

    // A denial is not remembered: asking again shows the consent page again; Tab, Enter allows.
    const second = pkcePair();
    await page.goto(authorizeUrl(setup, 'kbd-allow', second.challenge));
    assert.equal(new URL(page.url()).pathname, '/authorize');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'decision=allow');
    await Promise.all([page.waitForURL(isCallback(setup)), page.keyboard.press('Enter')]);
    assert.equal(setup.callback.received.length, 2);
    const allowed = setup.callback.received[1]!;
    assert.equal(allowed.get('state'), 'kbd-allow');
    assert.equal(allowed.get('iss'), issuer);
    assert.equal(allowed.get('error'), null);

    // The code the keyboard obtained is a real one.
    const tokenResponse = await postToken(setup, {
      grant_type: 'authorization_code',
      code: allowed.get('code')!,
      redirect_uri: setup.callback.uri,
      code_verifier: second.verifier,
    });
    assert.equal(tokenResponse.status, 200);
    assert.equal(((await tokenResponse.json()) as Record<string, unknown>).scope, 'profile email');
  });
});
