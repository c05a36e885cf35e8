import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { horizontalOverflow, launchSharedChromium, localOnlyPage } from '../support/chromium.ts';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import { startCallbackServer, startListeningServer } from '../support/listening-server.ts';

/*
 * The operator's side in a real browser against a real server: an administrator signs in to
 * /admin, registers a client and copies its one-time secret from the page; then a user signs in
 * to that client (authorize → login → consent → code) and the client redeems the code with the
 * secret the console showed. A second test writes screenshots of the console in English and
 * Korean into docs/screenshots/ (clients list and client form × en, ko × 360, 1280 px).
 */

const screenshotDir = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

const password = 'correct horse battery staple';

const browserReady: Promise<Browser> = launchSharedChromium();


/** A browser profile of its own that may reach 127.0.0.1 only. */
function newBrowserContext(t: TestContext, locale = 'en-US'): Promise<{ context: BrowserContext; page: Page; foreign: string[] }> {
  return localOnlyPage(t, browserReady, { locale });
}

async function signIn(page: Page, username: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.getByRole('button', { name: 'Sign in' }).click()]);
}

test('an administrator registers a client in /admin, and a user signs in with it', { timeout: 90_000 }, async (t) => {
  // The web client's callback is a local http server: a development setup (clients/redirect-uri.ts).
  const server = await startListeningServer({ allowInsecureHttpRedirectUris: true });
  t.after(() => server.close());
  const { ctx, close } = await server.openContext();
  try {
    await createAccount({ username: 'root', password, isAdmin: true }, ctx);
    await createAccount({ username: 'alice', password, email: 'alice@example.com' }, ctx);
  } finally {
    await close();
  }
  const issuer = server.url;
  const callback = await startCallbackServer(t, 'Team calendar');

  // The operator: /admin sends them to the login form and back.
  const operator = await newBrowserContext(t);
  await operator.page.goto(`${issuer}/admin`);
  assert.equal(new URL(operator.page.url()).pathname, '/login');
  await signIn(operator.page, 'root');
  assert.equal(new URL(operator.page.url()).pathname, '/admin');
  assert.equal((await operator.page.getByRole('heading', { level: 1 }).innerText()).trim(), 'Overview');

  await operator.page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'Clients' }).click();
  await operator.page.getByRole('link', { name: 'Register a client' }).click();
  assert.equal(new URL(operator.page.url()).pathname, '/admin/clients/new');
  await operator.page.getByLabel('Client name', { exact: true }).fill('Team calendar');
  await operator.page.getByLabel('Redirect URIs', { exact: true }).fill(callback.uri);
  await operator.page.getByRole('checkbox', { name: /^email\b/ }).check();
  await Promise.all([
    operator.page.waitForURL((url) => /^\/admin\/clients\/[0-9a-f]+\/secret$/.test(url.pathname)),
    operator.page.getByRole('button', { name: 'Register' }).click(),
  ]);
  const clientId = (await operator.page.locator('#client-id').innerText()).trim();
  const clientSecret = (await operator.page.locator('#client-secret').innerText()).trim();
  assert.match(clientId, /^[0-9a-f]{32}$/);
  assert.match(clientSecret, /^[A-Za-z0-9_-]{43}$/);
  // Shown once: reloading the page shows it no more.
  await operator.page.reload();
  assert.equal(await operator.page.locator('#client-secret').count(), 0);
  assert.match(await operator.page.locator('main').innerText(), /shown once and is no longer available/);

  // A user signs in to the new client: authorize → login → consent → code.
  const user = await newBrowserContext(t);
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorize = new URL(`${issuer}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: callback.uri,
    scope: 'openid profile email',
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  await user.page.goto(authorize.href);
  assert.equal(new URL(user.page.url()).pathname, '/login');
  await signIn(user.page, 'alice');
  assert.equal(new URL(user.page.url()).pathname, '/authorize');
  assert.match(await user.page.getByRole('heading', { level: 1 }).innerText(), /Team calendar/);
  await Promise.all([
    user.page.waitForURL((url) => `${url.origin}${url.pathname}` === callback.uri),
    user.page.getByRole('button', { name: 'Allow' }).click(),
  ]);
  assert.equal(callback.received.length, 1);
  const query = callback.received[0]!;
  assert.equal(query.get('state'), state);
  assert.equal(query.get('iss'), issuer);

  // The client redeems the code with the secret the console showed.
  const tokenResponse = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: query.get('code')!, redirect_uri: callback.uri, code_verifier: verifier }),
  });
  const tokens = (await tokenResponse.json()) as Record<string, unknown>;
  assert.equal(tokenResponse.status, 200, JSON.stringify(tokens));
  assert.equal(tokens.scope, 'openid profile email');
  assert.equal(typeof tokens.id_token, 'string');
  const userinfo = await fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token as string}` } });
  assert.equal(userinfo.status, 200);
  assert.equal(((await userinfo.json()) as Record<string, unknown>).email, 'alice@example.com');

  // Back in the console: the user's authorized apps and the audit trail show what happened.
  await operator.page.getByRole('link', { name: 'Users' }).click();
  await operator.page.getByRole('link', { name: 'alice' }).click();
  const apps = operator.page.locator('section', { has: operator.page.getByRole('heading', { name: 'Authorized apps' }) });
  assert.match(await apps.innerText(), /Team calendar\s+openid profile email/);
  await operator.page.getByRole('link', { name: 'Events' }).click();
  const events = await operator.page.locator('table').innerText();
  assert.match(events, /root\s+client_created\s+Team calendar \(client\)/);

  assert.deepEqual(operator.foreign, [], 'the console loads nothing from other origins');
  assert.deepEqual(user.foreign, []);
});

/** The page at phone and desktop widths, full length, into docs/screenshots/NAME-WIDTH.png. */
async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 800 });
    // Nothing is wider than the phone's screen (tables scroll inside their own box).
    const overflow = await horizontalOverflow(page);
    assert.equal(overflow, 0, `${name} scrolls sideways at ${width} px`);
    await page.screenshot({ path: join(screenshotDir, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

test('the console in English and Korean: screenshots of the clients list and the client form', { timeout: 90_000 }, async (t) => {
  const server = await startListeningServer();
  t.after(() => server.close());
  const { ctx, close } = await server.openContext();
  try {
    await createAccount({ username: 'root', password, isAdmin: true }, ctx);
    await registerClient({ name: 'Team calendar', redirectUris: ['https://calendar.example/callback'], scopes: ['openid', 'profile', 'email'] }, ctx);
    await registerClient({ name: 'Expense reports', type: 'public', redirectUris: ['http://127.0.0.1:8765/callback'] }, ctx);
  } finally {
    await close();
  }

  // A Korean browser (Accept-Language: ko-KR) gets the console in Korean from the start.
  const operator = await newBrowserContext(t, 'ko-KR');
  const page = operator.page;
  await page.goto(`${server.url}/admin/clients`);
  assert.equal(new URL(page.url()).pathname, '/login');
  await page.getByLabel('아이디').fill('root');
  await page.getByLabel('비밀번호').fill(password);
  await Promise.all([page.waitForURL((url) => url.pathname === '/admin/clients'), page.getByRole('button', { name: '로그인' }).click()]);
  assert.equal(await page.locator('html').getAttribute('lang'), 'ko');
  assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), '클라이언트');
  assert.match(await page.locator('table').innerText(), /Team calendar/);
  await screenshots(page, 'admin-clients-ko');
  await page.getByRole('link', { name: '클라이언트 등록' }).click();
  assert.equal(new URL(page.url()).pathname, '/admin/clients/new');
  assert.equal(await page.getByLabel('클라이언트 이름', { exact: true }).count(), 1);
  await screenshots(page, 'admin-client-new-ko');

  // The switcher goes to English and stays on the same page; the choice sticks.
  await Promise.all([page.waitForURL((url) => url.pathname === '/admin/clients/new'), page.getByRole('link', { name: 'English' }).click()]);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), 'Register a client');
  await screenshots(page, 'admin-client-new-en');
  await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'Clients' }).click();
  assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), 'Clients');
  await screenshots(page, 'admin-clients-en');

  assert.deepEqual(operator.foreign, [], 'the console loads nothing from other origins');
});
