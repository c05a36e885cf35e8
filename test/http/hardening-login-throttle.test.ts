/**
 * Issue 13 item 7: failed sign-ins are counted, not sign-ins; the hard limit is per (account,
 * address); the per-account count only makes later attempts wait (growing, Keycloak-style, as 429
 * with Retry-After), and a browser with the account's device cookie (OWASP) does not wait for
 * failures made elsewhere. Time is the injected clock: nothing here sleeps.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { GatehouseConfig } from '../../src/server/config/defaults.ts';
import { CookieJar, buildTestServer, createTestUser, form, formFields, password, type TestServer } from '../support/test-server.ts';

async function setup(t: TestContext, overrides: Partial<GatehouseConfig> = {}): Promise<TestServer> {
  const server = await buildTestServer(overrides);
  t.after(() => server.close());
  await createTestUser(server, 'alice');
  await createTestUser(server, 'bob');
  return server;
}

/** One sign-in from `address` in the browser `jar` (a fresh one unless given). */
async function signIn(server: TestServer, username: string, secret: string, address: string, jar = new CookieJar()): Promise<LightMyRequestResponse> {
  const page = await server.app.inject({ method: 'GET', url: '/login', remoteAddress: address, headers: { cookie: jar.header() } });
  jar.store(page);
  const body = form({ _csrf: formFields(page.body).get('_csrf')!, return_to: '/', username, password: secret });
  const response = await server.app.inject({ method: 'POST', url: '/login', ...body, remoteAddress: address, headers: { ...body.headers, cookie: jar.header() } });
  jar.store(response);
  return response;
}

/** A wrong guess, sent again after the wait whenever the server asks for one: a patient guesser. */
async function patientGuess(server: TestServer, username: string, guess: string, address: string): Promise<void> {
  for (let tries = 1; tries <= 20; tries++) {
    const response = await signIn(server, username, guess, address);
    if (response.statusCode !== 429) return assert.equal(response.statusCode, 401, response.body);
    server.clock.advance(Number(response.headers['retry-after']));
  }
  assert.fail(`"${guess}" was still refused after 20 waits`);
}

function assertRefused(response: LightMyRequestResponse, retryAfter?: number): void {
  assert.equal(response.statusCode, 429, response.body);
  assert.match(response.body, /Too many sign-in attempts\. Try again in/);
  if (retryAfter === undefined) assert.ok(Number(response.headers['retry-after']) > 0, 'Retry-After says when');
  else assert.equal(response.headers['retry-after'], String(retryAfter));
  assert.doesNotMatch(String(response.headers['set-cookie'] ?? ''), /gatehouse_session/);
}

test('ten wrong guesses from ten addresses do not keep the owner out: a browser that signed in before gets in at once', async (t) => {
  const server = await setup(t);
  const owners = new CookieJar();
  assert.equal((await signIn(server, 'alice', password, '192.0.2.1', owners)).statusCode, 303);
  for (let guess = 1; guess <= 10; guess++) await patientGuess(server, 'alice', `guess ${guess}`, `198.51.100.${guess}`);
  // A browser never seen before must wait (32 s after ten failures)…
  assertRefused(await signIn(server, 'alice', password, '203.0.113.77'), 32);
  // …the owner's browser, from a new address, with the right password, does not.
  assert.equal((await signIn(server, 'alice', password, '203.0.113.77', owners)).statusCode, 303);
});

test("a sign-in from the owner's known browser clears the wait that guesses elsewhere built up", async (t) => {
  const server = await setup(t);
  const owners = new CookieJar();
  assert.equal((await signIn(server, 'alice', password, '192.0.2.1', owners)).statusCode, 303);
  for (let guess = 1; guess <= 10; guess++) await patientGuess(server, 'alice', `guess ${guess}`, `198.51.100.${guess}`);
  assertRefused(await signIn(server, 'alice', password, '203.0.113.77'), 32);
  assert.equal((await signIn(server, 'alice', password, '203.0.113.78', owners)).statusCode, 303);
  // The owner is back: a new browser of theirs does not inherit the guesser's wait.
  assert.equal((await signIn(server, 'alice', password, '203.0.113.77')).statusCode, 303);
});

test('without a device cookie, failures for one account make the next attempt wait, longer each time, never lock', async (t) => {
  const server = await setup(t); // loginDelayAfterFailures 5: 1 s after the 5th failure, doubling
  for (let guess = 1; guess <= 5; guess++) {
    assert.equal((await signIn(server, 'alice', `guess ${guess}`, `198.51.100.${guess}`)).statusCode, 401, `guess ${guess}`);
  }
  // The right password during the wait is refused without being checked; other accounts are not slowed.
  assertRefused(await signIn(server, 'alice', password, '203.0.113.1'), 1);
  assert.equal((await signIn(server, 'bob', password, '203.0.113.1')).statusCode, 303);
  for (const wait of [1, 2, 4, 8]) {
    assertRefused(await signIn(server, 'ALICE', 'another guess', '198.51.100.99'), wait);
    server.clock.advance(wait);
    assert.equal((await signIn(server, 'alice', `guess after ${wait}`, '198.51.100.99')).statusCode, 401);
  }
  assertRefused(await signIn(server, 'alice', password, '203.0.113.2'), 16);
  server.clock.advance(16);
  assert.equal((await signIn(server, 'alice', password, '203.0.113.2')).statusCode, 303, 'after the wait the right password works');
  // …and that success reset the count: no wait for the next failures.
  assert.equal((await signIn(server, 'alice', 'typo', '203.0.113.2')).statusCode, 401);
  assert.equal((await signIn(server, 'alice', password, '203.0.113.2')).statusCode, 303);
});

test('the wait stops growing at loginDelayMaxSeconds', async (t) => {
  const server = await setup(t, { loginDelayAfterFailures: 2, loginDelayMaxSeconds: 5, loginAttemptsPerIp: 1000, loginAttemptsPerAccount: 1000 });
  for (let guess = 1; guess <= 8; guess++) await patientGuess(server, 'alice', `guess ${guess}`, '198.51.100.1');
  assertRefused(await signIn(server, 'alice', password, '198.51.100.1'), 5);
});

test('twelve successful sign-ins in a row from one address all succeed', async (t) => {
  const server = await setup(t);
  for (let run = 1; run <= 12; run++) {
    assert.equal((await signIn(server, 'alice', password, '127.0.0.1')).statusCode, 303, `sign-in ${run}`);
  }
  // Also from one browser, which keeps its cookies.
  const jar = new CookieJar();
  for (let run = 1; run <= 12; run++) {
    assert.equal((await signIn(server, 'alice', password, '127.0.0.1', jar)).statusCode, 303, `browser sign-in ${run}`);
  }
});

test('failures from one address reach the hard limit for that account and address only', async (t) => {
  const server = await setup(t, { loginDelayAfterFailures: 1000 }); // the per-account delay out of the way
  for (let guess = 1; guess <= 10; guess++) {
    assert.equal((await signIn(server, 'alice', `guess ${guess}`, '198.51.100.7')).statusCode, 401, `guess ${guess}`);
  }
  assertRefused(await signIn(server, 'alice', password, '198.51.100.7'));
  assertRefused(await signIn(server, 'Alice', password, '198.51.100.7'));
  // The same account from elsewhere, and another account from there, are untouched.
  assert.equal((await signIn(server, 'alice', password, '198.51.100.8')).statusCode, 303);
  assert.equal((await signIn(server, 'bob', password, '198.51.100.7')).statusCode, 303);
  // The pair waits out the window (15 minutes), then may try again.
  const refused = await signIn(server, 'alice', password, '198.51.100.7');
  assertRefused(refused, 15 * 60);
  server.clock.advance(15 * 60);
  assert.equal((await signIn(server, 'alice', password, '198.51.100.7')).statusCode, 303);
});

test('a successful sign-in resets the count of its account and address', async (t) => {
  const server = await setup(t, { loginDelayAfterFailures: 1000 });
  for (let guess = 1; guess <= 9; guess++) assert.equal((await signIn(server, 'alice', `guess ${guess}`, '198.51.100.7')).statusCode, 401);
  assert.equal((await signIn(server, 'alice', password, '198.51.100.7')).statusCode, 303);
  for (let guess = 1; guess <= 10; guess++) {
    assert.equal((await signIn(server, 'alice', `again ${guess}`, '198.51.100.7')).statusCode, 401, `failure ${guess} after the reset`);
  }
  assertRefused(await signIn(server, 'alice', password, '198.51.100.7'));
});

test('failures made with a device cookie count against that cookie only', async (t) => {
  const server = await setup(t);
  const device = new CookieJar();
  assert.equal((await signIn(server, 'alice', password, '192.0.2.1', device)).statusCode, 303);
  // Ten typos in the known browser: the tenth fills its own limit, whatever the address.
  for (let typo = 1; typo <= 10; typo++) {
    assert.equal((await signIn(server, 'alice', `typo ${typo}`, `192.0.2.${typo}`, device)).statusCode, 401, `typo ${typo}`);
  }
  assertRefused(await signIn(server, 'alice', password, '192.0.2.50', device));
  // The account itself was not slowed by them: a new browser signs in at once.
  assert.equal((await signIn(server, 'alice', password, '203.0.113.9')).statusCode, 303);
});

test('the device cookie is HttpOnly, SameSite=Lax, for /login only, Secure on https, and works for its own account only', async (t) => {
  const server = await setup(t);
  const first = await signIn(server, 'alice', password, '192.0.2.1');
  const cookie = ([] as string[]).concat(first.headers['set-cookie'] ?? []).find((line) => line.startsWith('gatehouse_device='));
  assert.ok(cookie, 'a sign-in sets a device cookie');
  assert.match(cookie, /; HttpOnly(;|$)/i);
  assert.match(cookie, /; SameSite=Lax(;|$)/i);
  assert.match(cookie, /; Path=\/login(;|$)/i);
  assert.match(cookie, /; Max-Age=\d+/i);
  assert.doesNotMatch(cookie, /; Secure(;|$)/i);

  const secure = await buildTestServer({ issuer: 'https://id.example' });
  t.after(() => secure.close());
  await createTestUser(secure, 'alice');
  const onHttps = await signIn(secure, 'alice', password, '192.0.2.1');
  assert.match(([] as string[]).concat(onHttps.headers['set-cookie'] ?? []).find((line) => line.startsWith('gatehouse_device='))!, /; Secure(;|$)/i);

  // alice's device cookie does nothing for bob, and a forged one does nothing for alice.
  const alicesBrowser = new CookieJar();
  assert.equal((await signIn(server, 'alice', password, '192.0.2.1', alicesBrowser)).statusCode, 303);
  for (let guess = 1; guess <= 5; guess++) assert.equal((await signIn(server, 'bob', `guess ${guess}`, `198.51.100.${guess}`)).statusCode, 401);
  assertRefused(await signIn(server, 'bob', password, '192.0.2.1', alicesBrowser));
  for (let guess = 1; guess <= 5; guess++) assert.equal((await signIn(server, 'alice', `guess ${guess}`, `198.51.100.${guess}`)).statusCode, 401);
  const value = /gatehouse_device=([^;]+)/.exec(alicesBrowser.header())![1]!;
  const forged = new CookieJar();
  forged.store({ cookies: [{ name: 'gatehouse_device', value: `${value.slice(0, -2)}AA` }] } as unknown as LightMyRequestResponse);
  assertRefused(await signIn(server, 'alice', password, '192.0.2.1', forged));
  assert.equal((await signIn(server, 'alice', password, '192.0.2.1', alicesBrowser)).statusCode, 303);
});
