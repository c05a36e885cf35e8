/**
 * Issue 13 item 12: the CSRF secret is replaced at sign-in and at sign-out, so a token a page
 * handed out before either no longer validates; a password change replaces the session id of the
 * browser that made it (OWASP Session Management: renew the session id on any privilege or
 * credential change).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { CookieJar, buildTestServer, createTestUser, form, formFields, logIn, password, type TestServer } from '../support/test-server.ts';

async function setup(t: TestContext): Promise<TestServer> {
  const server = await buildTestServer();
  t.after(() => server.close());
  await createTestUser(server);
  return server;
}

function get(server: TestServer, url: string, jar: CookieJar): Promise<LightMyRequestResponse> {
  return server.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
}

function post(server: TestServer, url: string, fields: Record<string, string>, jar: CookieJar): Promise<LightMyRequestResponse> {
  const body = form(fields);
  return server.app.inject({ method: 'POST', url, ...body, headers: { ...body.headers, cookie: jar.header() } });
}

test('a CSRF token from before sign-in is refused after it, and a fresh page gives one that works', async (t) => {
  const server = await setup(t);
  const jar = new CookieJar();
  const loginPage = await get(server, '/login', jar);
  jar.store(loginPage);
  const before = formFields(loginPage.body).get('_csrf')!;
  const signedIn = await post(server, '/login', { _csrf: before, return_to: '/', username: 'alice', password }, jar);
  assert.equal(signedIn.statusCode, 303, signedIn.body);
  assert.ok(signedIn.cookies.some((cookie) => cookie.name === 'gatehouse_csrf' && cookie.value !== ''), 'sign-in sets a new CSRF secret');
  jar.store(signedIn);

  const stale = await post(server, '/logout', { _csrf: before }, jar);
  assert.equal(stale.statusCode, 403, 'the token from the login page no longer validates');
  assert.equal((await get(server, '/account', jar)).statusCode, 200, 'the refused sign-out did nothing');

  const home = await get(server, '/', jar);
  jar.store(home);
  const fresh = await post(server, '/logout', { _csrf: formFields(home.body).get('_csrf')! }, jar);
  assert.equal(fresh.statusCode, 303);
});

test('a CSRF token from before sign-out is refused after it', async (t) => {
  const server = await setup(t);
  const jar = await logIn(server);
  const account = await get(server, '/account', jar);
  jar.store(account);
  const before = formFields(account.body).get('_csrf')!;
  const signedOut = await post(server, '/logout', { _csrf: before }, jar);
  assert.equal(signedOut.statusCode, 303);
  assert.ok(signedOut.cookies.some((cookie) => cookie.name === 'gatehouse_csrf' && cookie.value !== ''), 'sign-out sets a new CSRF secret');
  jar.store(signedOut);

  const stale = await post(server, '/login', { _csrf: before, return_to: '/', username: 'alice', password }, jar);
  assert.equal(stale.statusCode, 403, 'the token from the signed-in page no longer validates');
});

test('a password change gives this browser a new session id and ends the old one', async (t) => {
  const server = await setup(t);
  const jar = await logIn(server);
  const oldCookie = jar.header();
  const account = await get(server, '/account', jar);
  jar.store(account);
  const newPassword = 'a new passphrase';
  const changed = await post(
    server,
    '/account/password',
    { _csrf: formFields(account.body).get('_csrf')!, current_password: password, new_password: newPassword, confirm_password: newPassword },
    jar,
  );
  assert.equal(changed.statusCode, 303, changed.body);
  const session = changed.cookies.find((cookie) => cookie.name === 'gatehouse_session');
  assert.ok(session !== undefined && session.value !== '', 'a new session cookie');
  jar.store(changed);
  assert.notEqual(jar.header(), oldCookie);

  const withOld = await server.app.inject({ method: 'GET', url: '/account', headers: { cookie: oldCookie } });
  assert.equal(withOld.statusCode, 303, 'the old session id no longer works');
  assert.equal(withOld.headers.location, '/login?return_to=%2Faccount');
  const withNew = await get(server, '/account?notice=password_changed', jar);
  assert.equal(withNew.statusCode, 200, 'the new one does');
  assert.match(withNew.body, /Signed in as|alice/);
});
