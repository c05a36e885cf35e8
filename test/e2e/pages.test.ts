import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { horizontalOverflow, launchSharedChromium, localOnlyPage } from '../support/chromium.ts';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import { freePort, startListeningServer } from '../support/listening-server.ts';

/*
 * The pages people see, in a real browser against a real listening server: Korean login and
 * consent chosen by `ui_locales`; "Authorized apps" on /account, where revoking an app makes its
 * token fail at /userinfo at once; the account page with the keyboard alone. Along the way it
 * writes the screenshots in docs/screenshots/ (login, consent, account × en, ko × 360, 1280 px).
 */

const screenshotDir = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const password = 'correct horse battery staple';
const widths = [360, 1280] as const;

const browserReady: Promise<Browser> = launchSharedChromium();

interface Setup {
  issuer: string;
  callbackUri: string;
  /** Queries "Mine" received on its callback, in order. */
  received: URLSearchParams[];
  clientId: string;
  clientSecret: string;
  /** A second app alice allowed earlier, so the account page lists more than one. */
  otherClientId: string;
}

/** Gatehouse listening on a free port, "Mine" registered, alice created, and Mine's callback. */
async function setUp(t: TestContext): Promise<Setup> {
  const received: URLSearchParams[] = [];
  const callback: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/callback') received.push(url.searchParams);
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Mine</title><h1>Mine got the callback</h1>');
  });
  const port = await freePort();
  await new Promise<void>((resolve) => callback.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => callback.close(() => resolve())));

  // Mine's callback here is a plain-http loopback server of the test: the development escape hatch
  // for web clients on http (issue 13 item 11), as `npm start`'s demo uses it.
  const server = await startListeningServer({
    allowInsecureHttpRedirectUris: true,
    scopes: { 'calendar.read': { description: 'Read your calendar events', description_ko: '캘린더 일정 보기' } },
  });
  t.after(() => server.close());
  const { ctx, close } = await server.openContext();
  try {
    const callbackUri = `http://127.0.0.1:${port}/callback`;
    const { client, clientSecret } = await registerClient(
      { name: 'Mine', redirectUris: [callbackUri], scopes: ['profile', 'email', 'calendar.read'] },
      ctx,
    );
    const other = await registerClient({ name: 'Photo Printer', redirectUris: ['https://photos.example/cb'], scopes: ['profile'] }, ctx);
    const account = await createAccount({ username: 'alice', password, name: 'Alice Kim', email: 'alice@example.com' }, ctx);
    const now = Date.now();
    await ctx.storage.saveGrant({ id: 'g', accountId: account.id, clientId: other.client.id, scopes: ['profile'], createdAt: now - 86_400_000, updatedAt: now - 86_400_000, lastUsedAt: null });
    return { issuer: server.url, callbackUri, received, clientId: client.id, clientSecret: clientSecret!, otherClientId: other.client.id };
  } finally {
    await close();
  }
}

/** A browser profile of its own (Accept-Language: `locale`) that may reach 127.0.0.1 only. */
function newPage(t: TestContext, locale = 'en-US'): Promise<{ page: Page; foreign: string[] }> {
  return localOnlyPage(t, browserReady, { locale, viewport: { width: 1280, height: 800 } });
}

function authorizeUrl(setup: Setup, extra: Record<string, string> = {}): { url: string; verifier: string } {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: setup.clientId,
    redirect_uri: setup.callbackUri,
    scope: 'profile email calendar.read',
    state: randomBytes(8).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url: `${setup.issuer}/authorize?${params}`, verifier };
}

/** The page at phone and desktop widths, full length, into docs/screenshots/NAME-WIDTH.png. */
async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  for (const width of widths) {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 800 });
    // Nothing is wider than the phone's screen: no sideways scrolling at 360 px.
    const overflow = await horizontalOverflow(page);
    assert.equal(overflow, 0, `${name} scrolls sideways at ${width} px`);
    await page.screenshot({ path: join(screenshotDir, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function exchange(setup: Setup, code: string, verifier: string): Promise<{ access_token: string; refresh_token: string }> {
  const response = await fetch(`${setup.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(setup.clientId)}:${encodeURIComponent(setup.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: setup.callbackUri, code_verifier: verifier }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as { access_token: string; refresh_token: string };
}

function userinfoStatus(setup: Setup, accessToken: string): Promise<number> {
  return fetch(`${setup.issuer}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } }).then((response) => response.status);
}

const heading = (page: Page) => page.getByRole('heading', { level: 1 }).innerText().then((text) => text.trim());

describe('the pages in a real browser', { concurrency: true }, () => {
  test('ui_locales=ko gives a Korean login and consent, even to an English browser', { timeout: 90_000 }, async (t) => {
    const setup = await setUp(t);
    const { page, foreign } = await newPage(t, 'en-US');
    await page.goto(authorizeUrl(setup, { ui_locales: 'ko' }).url);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await page.getAttribute('html', 'lang'), 'ko');
    assert.equal(await page.title(), '로그인 · Gatehouse');
    assert.equal(await heading(page), '로그인');
    await screenshots(page, 'login-ko');

    await page.getByLabel('아이디').fill('alice');
    await page.getByLabel('비밀번호').fill(password);
    await Promise.all([page.waitForURL((url) => url.pathname === '/authorize'), page.getByRole('button', { name: '로그인' }).click()]);

    assert.equal(await page.getAttribute('html', 'lang'), 'ko');
    assert.equal(await page.title(), '접근 허용 · Gatehouse');
    assert.equal(await heading(page), 'Mine에서 계정에 접근하려고 합니다');
    assert.match(await page.locator('main').innerText(), /alice 계정으로 로그인했습니다\./);
    const scopes = (await page.locator('ul.scopes li').allInnerTexts()).map((text) => text.trim());
    assert.deepEqual(scopes, ['아이디와 이름 보기 (profile)', '이메일 주소 보기 (email)', '캘린더 일정 보기 (calendar.read)']);
    await screenshots(page, 'consent-ko');

    await Promise.all([
      page.waitForURL((url) => `${url.origin}${url.pathname}` === setup.callbackUri),
      page.getByRole('button', { name: '허용' }).click(),
    ]);
    assert.equal(setup.received.length, 1);
    assert.match(setup.received[0]!.get('code') ?? '', /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(foreign, [], 'the pages load nothing from other origins');
  });

  test('revoking an app on /account makes its token fail at /userinfo at once', { timeout: 90_000 }, async (t) => {
    const setup = await setUp(t);
    const { page, foreign } = await newPage(t, 'en-US');
    const { url, verifier } = authorizeUrl(setup);
    await page.goto(url);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await heading(page), 'Sign in');
    await screenshots(page, 'login-en');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(password);
    await Promise.all([page.waitForURL((next) => next.pathname === '/authorize'), page.getByRole('button', { name: 'Sign in' }).click()]);
    assert.equal(await heading(page), 'Mine wants to access your account');
    await screenshots(page, 'consent-en');
    await Promise.all([
      page.waitForURL((next) => `${next.origin}${next.pathname}` === setup.callbackUri),
      page.getByRole('button', { name: 'Allow' }).click(),
    ]);
    const tokens = await exchange(setup, setup.received[0]!.get('code')!, verifier);
    assert.equal(await userinfoStatus(setup, tokens.access_token), 200);

    await page.goto(`${setup.issuer}/account`);
    assert.equal(await heading(page), 'Your account');
    const apps = page.locator('ul.apps > li');
    assert.deepEqual((await apps.locator('h3').allInnerTexts()).map((text) => text.trim()), ['Mine', 'Photo Printer']);
    assert.match(await apps.first().innerText(), /See your username and name \(profile\)[\s\S]*Read your calendar events \(calendar\.read\)[\s\S]*Last used/);
    assert.match(await apps.nth(1).innerText(), /Not used since you allowed it/);
    await screenshots(page, 'account-en');

    // The language switcher: the same page in Korean, and the choice is remembered.
    await Promise.all([page.waitForURL((next) => next.pathname === '/account'), page.getByRole('link', { name: '한국어' }).click()]);
    assert.equal(await page.getAttribute('html', 'lang'), 'ko');
    assert.equal(await heading(page), '내 계정');
    await screenshots(page, 'account-ko');

    // "접근 권한 취소" (Revoke access) of Mine.
    await Promise.all([
      page.waitForURL((next) => next.pathname === '/account' && next.searchParams.get('notice') === 'revoked'),
      apps.first().getByRole('button', { name: '접근 권한 취소' }).click(),
    ]);
    assert.match(await page.getByRole('status').innerText(), /접근 권한을 취소했습니다/);
    assert.equal(await userinfoStatus(setup, tokens.access_token), 401, 'the revoked app’s access token fails at once');
    const refreshed = await fetch(`${setup.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(setup.clientId)}:${encodeURIComponent(setup.clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
    });
    assert.equal(refreshed.status, 400, 'and so does its refresh token');
    assert.deepEqual((await page.locator('ul.apps > li h3').allInnerTexts()).map((text) => text.trim()), ['Photo Printer']);
    assert.deepEqual(foreign, []);
  });

  test('signing in to /account and changing the password work with the keyboard alone, with a visible focus', { timeout: 90_000 }, async (t) => {
    const setup = await setUp(t);
    const { page } = await newPage(t, 'en-US');
    /** The focused element as its `id`, or its text for a button or link; and whether its outline shows. */
    const focused = async (): Promise<string> => {
      const element = page.locator(':focus');
      assert.equal(await element.count(), 1, 'exactly one element has the focus');
      // A string, evaluated in the page: this project's TypeScript has no DOM types.
      const outline = await page.evaluate(
        "(() => { const style = getComputedStyle(document.activeElement); return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2; })()",
      );
      assert.equal(outline, true, 'the focused element shows a focus outline');
      return (await element.getAttribute('id')) ?? (await element.innerText()).trim();
    };

    await page.goto(`${setup.issuer}/account`);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await focused(), 'username');
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'password');
    await page.keyboard.type(password);
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'Sign in');
    await Promise.all([page.waitForURL((url) => url.pathname === '/account'), page.keyboard.press('Enter')]);
    assert.equal(await heading(page), 'Your account');

    // Tab order follows the page: sign out, the app's Revoke button, then the password form.
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    assert.deepEqual(order, ['Sign out', 'Revoke access', 'current-password', 'new-password', 'confirm-password', 'Change password']);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(), 'current-password');
    await page.keyboard.type(password);
    await page.keyboard.press('Tab');
    await page.keyboard.type('a new and longer passphrase');
    await page.keyboard.press('Tab');
    await page.keyboard.type('a new and longer passphrase');
    await Promise.all([page.waitForURL((url) => url.searchParams.get('notice') === 'password_changed'), page.keyboard.press('Enter')]);
    assert.match(await page.getByRole('status').innerText(), /Your password was changed/);
    // The language switcher comes last, after the page's own controls.
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'Sign out');
  });
});
