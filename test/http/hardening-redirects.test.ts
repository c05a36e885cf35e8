/**
 * Issue 13 item 1, DESIGN invariant 9: every redirect to a caller-supplied local path is checked
 * on the final Location string, and every endpoint that makes one is run against one shared
 * corpus of bypasses (test/support/redirect-bypass-corpus.ts).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { assertSafeLocalLocation, redirectBypassCorpus } from '../support/redirect-bypass-corpus.ts';
import { CookieJar, buildTestServer, createTestUser, form, formFields, issuer, logIn, password, type TestServer } from '../support/test-server.ts';

async function setup(t: TestContext): Promise<TestServer> {
  const server = await buildTestServer({ loginAttemptsPerIp: 100_000, loginAttemptsPerAccount: 100_000 });
  t.after(() => server.close());
  return server;
}

function get(server: TestServer, url: string, jar?: CookieJar): Promise<LightMyRequestResponse> {
  return server.app.inject({ method: 'GET', url, headers: jar ? { cookie: jar.header() } : {} });
}

function post(server: TestServer, url: string, fields: Record<string, string>, jar: CookieJar): Promise<LightMyRequestResponse> {
  const body = form(fields);
  return server.app.inject({ method: 'POST', url, ...body, headers: { ...body.headers, cookie: jar.header() } });
}

/** The login form's hidden return_to for a /login?return_to=… link; it must itself be safe. */
async function loginFormReturnTo(server: TestServer, returnTo: string, context: string): Promise<string> {
  const page = await get(server, `/login?${new URLSearchParams({ return_to: returnTo })}`);
  assert.equal(page.statusCode, 200, `${context}: ${page.body}`);
  const hidden = formFields(page.body).get('return_to');
  assertSafeLocalLocation(hidden, `${context} (login form's return_to)`);
  return hidden!;
}

test('the language switcher redirects only to a safe local path, also once ui_locales is taken out', async (t) => {
  const server = await setup(t);
  for (const unsafe of redirectBypassCorpus) {
    for (const returnTo of [unsafe, `${unsafe}?ui_locales=ko`, `${unsafe}${unsafe.includes('?') ? '&' : '?'}ui_locales=ko&a=1`]) {
      const response = await get(server, `/lang?${new URLSearchParams({ to: 'ko', return_to: returnTo })}`);
      assert.equal(response.statusCode, 303, `${JSON.stringify(returnTo)}: ${response.body}`);
      assertSafeLocalLocation(response.headers.location, `/lang return_to=${JSON.stringify(returnTo)}`);
      assert.equal(response.headers.location, '/', JSON.stringify(returnTo));
    }
    // Nested in the login form's return_to, which /lang rewrites: the login form checks it again.
    const nested = `/login?${new URLSearchParams({ return_to: unsafe })}`;
    const response = await get(server, `/lang?${new URLSearchParams({ to: 'ko', return_to: nested })}`);
    assert.equal(response.statusCode, 303);
    assertSafeLocalLocation(response.headers.location, `/lang nested ${JSON.stringify(unsafe)}`);
    const inner = new URL(response.headers.location as string, issuer).searchParams.get('return_to');
    if (inner !== null) await loginFormReturnTo(server, inner, `/lang nested ${JSON.stringify(unsafe)}`);
  }
  // A safe path still goes through, so the checks above can tell a refusal from a broken switcher.
  const ok = await get(server, `/lang?${new URLSearchParams({ to: 'ko', return_to: '/account?ui_locales=ko&x=1' })}`);
  assert.equal(ok.headers.location, '/account?x=1');
});

test('the login form and its POST redirect only to a safe local path', async (t) => {
  const server = await setup(t);
  await createTestUser(server);
  for (const unsafe of redirectBypassCorpus) {
    const hidden = await loginFormReturnTo(server, unsafe, `/login return_to=${JSON.stringify(unsafe)}`);
    assert.equal(hidden, '/', JSON.stringify(unsafe));
    // The POST is checked on its own: a forged form can carry anything.
    const jar = new CookieJar();
    const page = await get(server, '/login');
    jar.store(page);
    const response = await post(server, '/login', { _csrf: formFields(page.body).get('_csrf')!, return_to: unsafe, username: 'alice', password }, jar);
    assert.equal(response.statusCode, 303, `${JSON.stringify(unsafe)}: ${response.body}`);
    assertSafeLocalLocation(response.headers.location, `POST /login return_to=${JSON.stringify(unsafe)}`);
    assert.equal(response.headers.location, '/', JSON.stringify(unsafe));
  }
  const jar = new CookieJar();
  const page = await get(server, '/login?return_to=%2Faccount');
  jar.store(page);
  const ok = await post(server, '/login', { _csrf: formFields(page.body).get('_csrf')!, return_to: '/account', username: 'alice', password }, jar);
  assert.equal(ok.headers.location, '/account');
});

test('sign-out goes home whatever return path it is sent', async (t) => {
  const server = await setup(t);
  await createTestUser(server);
  for (const unsafe of redirectBypassCorpus.slice(0, 12)) {
    const jar = await logIn(server);
    const home = await get(server, '/', jar);
    jar.store(home);
    const response = await post(server, '/logout', { _csrf: formFields(home.body).get('_csrf')!, return_to: unsafe }, jar);
    assert.equal(response.statusCode, 303, response.body);
    assertSafeLocalLocation(response.headers.location, `POST /logout return_to=${JSON.stringify(unsafe)}`);
    assert.equal(response.headers.location, '/');
  }
});

test('the admin console sends a stranger to the login form with a return path that the form accepts only when safe', async (t) => {
  const server = await setup(t);
  await createAccount({ username: 'root', password, isAdmin: true }, server.ctx);
  let redirected = 0;
  for (const unsafe of redirectBypassCorpus) {
    // As a browser would send the path: in a path segment, after one, and as the query.
    const raw = encodeURI(unsafe).replaceAll('%25', '%');
    for (const url of [`/admin/users/${encodeURIComponent(unsafe)}`, `/admin/users/.${raw}`, `/admin/users/x${raw}`, `/admin?${raw}`]) {
      let response: LightMyRequestResponse;
      try {
        response = await get(server, url);
      } catch {
        continue; // not even a request line
      }
      if (response.statusCode === 404) continue; // no route: nothing redirects
      assert.equal(response.statusCode, 302, `GET ${url}: ${response.body}`);
      redirected += 1;
      assertSafeLocalLocation(response.headers.location, `GET ${url}`);
      const location = new URL(response.headers.location as string, issuer);
      assert.equal(location.pathname, '/login');
      const returnTo = location.searchParams.get('return_to')!;
      const hidden = await loginFormReturnTo(server, returnTo, `GET ${url}`);
      // Signing in with that form lands on a safe path as well.
      const jar = new CookieJar();
      const page = await get(server, `/login?${new URLSearchParams({ return_to: returnTo })}`);
      jar.store(page);
      const signedIn = await post(server, '/login', { _csrf: formFields(page.body).get('_csrf')!, return_to: hidden, username: 'root', password }, jar);
      assert.equal(signedIn.statusCode, 303, signedIn.body);
      assertSafeLocalLocation(signedIn.headers.location, `sign-in after GET ${url}`);
    }
  }
  assert.ok(redirected > redirectBypassCorpus.length, `the console redirected ${redirected} of the probes`);
  const plain = await get(server, '/admin/users');
  assert.equal(plain.headers.location, '/login?return_to=%2Fadmin%2Fusers');
});

test('the account page sends a stranger to a fixed login link whatever it is sent', async (t) => {
  const server = await setup(t);
  for (const unsafe of redirectBypassCorpus.slice(0, 12)) {
    const response = await get(server, `/account?${new URLSearchParams({ return_to: unsafe })}`);
    assert.equal(response.statusCode, 303);
    assertSafeLocalLocation(response.headers.location, `/account return_to=${JSON.stringify(unsafe)}`);
    assert.equal(response.headers.location, '/login?return_to=%2Faccount');
  }
});
