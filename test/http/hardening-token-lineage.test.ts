/**
 * Issue 13, the lineage of codes and tokens: what a code or refresh token descends from (the
 * user's consent, the user's account, the code's first use, the family's start) decides whether
 * it still works. Revoking consent or disabling the account stops codes already handed out; a
 * code is spent by a failed exchange; a consumed code is remembered as long as what it issued can
 * live; a refresh-token family has an absolute lifetime; /userinfo takes only tokens meant for it.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import type { GatehouseConfig } from '../../src/server/config/defaults.ts';
import {
  buildTestServer,
  callUserinfo,
  CookieJar,
  createTestClient,
  createTestUser,
  form,
  formFields,
  issueCode,
  issuer,
  logIn,
  password,
  redeemCode,
  redirectUri,
  refresh,
  rfc7636Verifier,
  type TestClient,
  type TestServer,
} from '../support/test-server.ts';

const calendarApi = 'https://api.example/cal';
const day = 24 * 3600;

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
}

async function setUp(t: TestContext, config: Partial<GatehouseConfig> = {}, client: Parameters<typeof createTestClient>[1] = {}) {
  const server = await buildTestServer(config);
  t.after(() => server.close());
  const mine = await createTestClient(server, client);
  const user = await createTestUser(server);
  const jar = await logIn(server);
  const code = (options: Parameters<typeof issueCode>[3] = {}) => issueCode(server, jar, mine, { scope: 'profile', ...options });
  return { server, client: mine, user, jar, code };
}

function assertTokens(response: LightMyRequestResponse): Tokens {
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as Tokens;
}

function assertError(response: LightMyRequestResponse, status: number, error: string, description?: RegExp) {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json() as { error: string; error_description: string };
  assert.equal(body.error, error, body.error_description);
  if (description !== undefined) assert.match(body.error_description, description);
}

function post(server: TestServer, url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const body = form(fields);
  return server.app.inject({ method: 'POST', url, payload: body.payload, headers: { ...body.headers, ...headers } });
}

async function introspection(server: TestServer, client: TestClient, token: string): Promise<Record<string, unknown>> {
  const response = await post(server, '/introspect', { token }, { authorization: client.basic });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as Record<string, unknown>;
}

/** "Revoke access" on /account, as the browser posts it: with the page's CSRF token. */
async function revokeOnAccountPage(server: TestServer, jar: CookieJar, client: TestClient): Promise<void> {
  const page = await server.app.inject({ method: 'GET', url: '/account', headers: { cookie: jar.header() } });
  assert.equal(page.statusCode, 200);
  jar.store(page);
  const body = form({ _csrf: formFields(page.body).get('_csrf')!, client_id: client.clientId });
  const revoked = await server.app.inject({ method: 'POST', url: '/account/revoke', ...body, headers: { ...body.headers, cookie: jar.header() } });
  assert.equal(revoked.statusCode, 303, revoked.body);
  assert.equal(revoked.headers.location, '/account?notice=revoked');
}

/** A client_credentials token with the `admin` scope, for the admin API. */
async function adminApiToken(server: TestServer): Promise<string> {
  const { client, clientSecret } = await registerClient({ name: 'Ops', redirectUris: [], grantTypes: ['client_credentials'], scopes: ['admin'] }, server.ctx);
  const basic = `Basic ${Buffer.from(`${client.id}:${clientSecret}`).toString('base64')}`;
  const response = await post(server, '/token', { grant_type: 'client_credentials' }, { authorization: basic });
  assert.equal(response.statusCode, 200, response.body);
  return response.json().access_token as string;
}

function adminApi(server: TestServer, token: string, url: string) {
  return server.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` } });
}

// Item 2: "Revoke access" stops codes already issued, and a new consent revives nothing

test('a code issued before "Revoke access" cannot be redeemed, not even after the user consents again', async (t) => {
  const { server, client, user, jar, code } = await setUp(t);
  const before = assertTokens(await redeemCode(server, client, await code()));
  // Consent is remembered: this code comes straight back, and is outstanding at the revocation.
  const outstanding = await code();

  await revokeOnAccountPage(server, jar, client);

  assertError(await redeemCode(server, client, outstanding), 400, 'invalid_grant');
  assertError(await refresh(server, client, before.refresh_token), 400, 'invalid_grant');
  assert.equal((await callUserinfo(server, before.access_token)).statusCode, 401);
  assert.equal(await server.storage.findGrant(user.id, client.clientId), undefined, 'the app is not silently back on /account');

  // The user allows the app again: a new grant, which the old code and refresh token do not descend from.
  const fresh = await code();
  assertError(await redeemCode(server, client, outstanding), 400, 'invalid_grant');
  assertError(await refresh(server, client, before.refresh_token), 400, 'invalid_grant');
  const after = assertTokens(await redeemCode(server, client, fresh));
  assert.equal((await callUserinfo(server, after.access_token)).statusCode, 200);
  assertTokens(await refresh(server, client, after.refresh_token));
});

test('a code or refresh token whose consent is gone is refused, even if nothing else stopped it, and a new consent does not revive it', async (t) => {
  // What an exchange racing a revocation leaves behind: the grant row is gone, but its code or
  // refresh token is not (yet) deleted or revoked. The grant id they carry decides.
  const { server, client, user, code } = await setUp(t);
  const tokens = assertTokens(await redeemCode(server, client, await code()));
  const outstanding = await code();
  assert.equal(await server.storage.deleteGrant(user.id, client.clientId), true);
  assertError(await refresh(server, client, tokens.refresh_token), 400, 'invalid_grant', /consent this refresh token was issued under has been revoked/);

  const fresh = await code(); // the consent page again: a new grant
  assertError(await redeemCode(server, client, outstanding), 400, 'invalid_grant', /consent this authorization code was issued under has been revoked/);
  assertError(await refresh(server, client, tokens.refresh_token), 400, 'invalid_grant', /consent/);
  assertTokens(await redeemCode(server, client, fresh));
});

test('consenting again to more scopes keeps the grant: earlier codes and refresh tokens still work', async (t) => {
  const { server, client, code } = await setUp(t);
  const tokens = assertTokens(await redeemCode(server, client, await code()));
  const earlier = await code();
  // Asking for more shows the consent page again; allowing extends the existing grant.
  const wider = await code({ scope: 'profile email' });
  assertTokens(await redeemCode(server, client, earlier));
  assertTokens(await redeemCode(server, client, wider));
  assertTokens(await refresh(server, client, tokens.refresh_token));
});

// Item 3: a disabled account

test('disabling an account in the admin console spends its codes: they fail even after it is enabled again', async (t) => {
  const { server, client, user, code } = await setUp(t);
  await createAccount({ username: 'root', password, isAdmin: true }, server.ctx);
  const admin = await logIn(server, 'root', new CookieJar());
  const consolePage = await server.app.inject({ method: 'GET', url: '/admin', headers: { cookie: admin.header() } });
  admin.store(consolePage);
  const csrf = formFields(consolePage.body).get('_csrf')!;
  const act = async (action: 'disable' | 'enable') => {
    const body = form({ _csrf: csrf });
    const response = await server.app.inject({ method: 'POST', url: `/admin/users/${user.id}/${action}`, ...body, headers: { ...body.headers, cookie: admin.header() } });
    assert.equal(response.statusCode, 303, response.body);
  };
  const outstanding = await code();
  const kept = await code();

  await act('disable');
  assertError(await redeemCode(server, client, kept), 400, 'invalid_grant');
  await act('enable');
  assertError(await redeemCode(server, client, outstanding), 400, 'invalid_grant');
});

test('disabling an account through the admin API spends its codes and revokes its tokens', async (t) => {
  const { server, client, user, code } = await setUp(t);
  const token = await adminApiToken(server);
  const tokens = assertTokens(await redeemCode(server, client, await code()));
  const outstanding = await code();

  assert.equal((await adminApi(server, token, `/admin/api/users/${user.id}/disable`)).statusCode, 200);
  assert.equal((await adminApi(server, token, `/admin/api/users/${user.id}/enable`)).statusCode, 200);

  assertError(await redeemCode(server, client, outstanding), 400, 'invalid_grant');
  assertError(await refresh(server, client, tokens.refresh_token), 400, 'invalid_grant');
  assert.deepEqual(await introspection(server, client, tokens.access_token), { active: false });
});

test('the code grant, /userinfo and introspection refuse a disabled account even where nothing was revoked', async (t) => {
  // A disable committed by another instance while this one issued tokens: the rows say live,
  // the account says disabled. Every use checks the account.
  const { server, client, user, code } = await setUp(t);
  const tokens = assertTokens(await redeemCode(server, client, await code()));
  const outstanding = await code();
  assert.equal((await introspection(server, client, tokens.access_token)).active, true);

  await server.storage.setAccountDisabled(user.id, server.clock.now());

  assertError(await redeemCode(server, client, outstanding), 400, 'invalid_grant', /disabled/);
  const userinfo = await callUserinfo(server, tokens.access_token);
  assert.equal(userinfo.statusCode, 401);
  assert.match(String(userinfo.headers['www-authenticate']), /error="invalid_token", error_description="[^"]*disabled/);
  assert.deepEqual(await introspection(server, client, tokens.access_token), { active: false });
  assert.deepEqual(await introspection(server, client, tokens.refresh_token), { active: false });
  assertError(await refresh(server, client, tokens.refresh_token), 400, 'invalid_grant', /disabled/);
});

// Item 6: /userinfo only takes tokens meant for it

test('/userinfo refuses an access token restricted to another audience (RFC 8707), opaque or JWT', async (t) => {
  const { server, client, code } = await setUp(t, {}, { resources: [calendarApi, issuer] });
  const forCalendar = assertTokens(await redeemCode(server, client, await code({ extra: { resource: calendarApi } })));
  const refused = await callUserinfo(server, forCalendar.access_token);
  assert.equal(refused.statusCode, 401, refused.body);
  assert.equal(refused.json().error, 'invalid_token');
  assert.match(
    String(refused.headers['www-authenticate']),
    /^Bearer realm="gatehouse", error="invalid_token", error_description="the access token is not meant for this server's userinfo[^"]*"$/,
  );

  // No audience, or this server among the audiences: the token is for /userinfo too.
  const unrestricted = assertTokens(await redeemCode(server, client, await code()));
  assert.equal((await callUserinfo(server, unrestricted.access_token)).statusCode, 200);
  const forIssuer = assertTokens(await redeemCode(server, client, await code({ extra: { resource: issuer } })));
  assert.equal((await callUserinfo(server, forIssuer.access_token)).statusCode, 200);
  const refreshed = assertTokens(await refresh(server, client, forCalendar.refresh_token));
  assert.equal((await callUserinfo(server, refreshed.access_token)).statusCode, 401, 'a refresh keeps the audience');
});

test('/userinfo refuses a JWT access token for another audience, and takes one whose audience is the issuer', async (t) => {
  const { server, client, code } = await setUp(t, { resources: { [calendarApi]: { accessTokenFormat: 'jwt' } } }, { resources: [calendarApi, issuer], accessTokenFormat: 'jwt' });
  const forCalendar = assertTokens(await redeemCode(server, client, await code({ extra: { resource: calendarApi } })));
  assert.equal(forCalendar.access_token.split('.').length, 3, 'a JWT');
  const refused = await callUserinfo(server, forCalendar.access_token);
  assert.equal(refused.statusCode, 401);
  assert.match(String(refused.headers['www-authenticate']), /error="invalid_token", error_description="the access token is not meant/);

  const plain = assertTokens(await redeemCode(server, client, await code()));
  assert.equal((await callUserinfo(server, plain.access_token)).statusCode, 200);
});

// Item 9: a failed exchange spends the code

test('a wrong code_verifier spends the code: the right one afterwards is invalid_grant (PKCE is not a guessing game)', async (t) => {
  const { server, client, code } = await setUp(t);
  const issued = await code();
  assertError(await redeemCode(server, client, issued, { code_verifier: 'x'.repeat(43) }), 400, 'invalid_grant', /'code_verifier' does not match/);
  assertError(await redeemCode(server, client, issued, { code_verifier: rfc7636Verifier }), 400, 'invalid_grant', /already been used/);
});

test('a wrong or missing redirect_uri spends the code too', async (t) => {
  const { server, client, code } = await setUp(t);
  const wrong = await code();
  assertError(await redeemCode(server, client, wrong, { redirect_uri: `${redirectUri}/` }), 400, 'invalid_grant', /'redirect_uri' does not match/);
  assertError(await redeemCode(server, client, wrong), 400, 'invalid_grant', /already been used/);

  const missing = await code();
  const withoutUri = await post(
    server,
    '/token',
    { grant_type: 'authorization_code', code: missing, code_verifier: rfc7636Verifier },
    { authorization: client.basic },
  );
  assertError(withoutUri, 400, 'invalid_grant', /'redirect_uri' is required/);
  assertError(await redeemCode(server, client, missing), 400, 'invalid_grant', /already been used/);
});

// Item 14: consumed codes are remembered as long as what they issued

test('a code replayed after the cleanup has run still revokes what its first use issued', async (t) => {
  const { server, client, code } = await setUp(t);
  const issued = await code();
  const first = assertTokens(await redeemCode(server, client, issued));
  server.clock.advance(61); // past the code's own 60 seconds
  await server.storage.deleteExpired(server.clock.now(), 1000);

  assertError(await redeemCode(server, client, issued), 400, 'invalid_grant', /already been used/);
  assert.deepEqual(await introspection(server, client, first.access_token), { active: false });
  assertError(await refresh(server, client, first.refresh_token), 400, 'invalid_grant');
});

test('a code replayed weeks later, after rotations and cleanups, revokes the family it started', async (t) => {
  const { server, client, code } = await setUp(t);
  const issued = await code();
  const first = assertTokens(await redeemCode(server, client, issued));
  server.clock.advance(20 * day);
  const rotated = assertTokens(await refresh(server, client, first.refresh_token));
  server.clock.advance(20 * day); // day 40: past the first refresh token's 30 days
  await server.storage.deleteExpired(server.clock.now(), 1000);

  assertError(await redeemCode(server, client, issued), 400, 'invalid_grant', /already been used/);
  assert.deepEqual(await introspection(server, client, rotated.refresh_token), { active: false });
  assertError(await refresh(server, client, rotated.refresh_token), 400, 'invalid_grant');
});

// Item 15: a refresh-token family has an absolute lifetime

test('a family rotated every 20 days ends 90 days after the code: the last token is capped, the next refresh refused', async (t) => {
  const { server, client, code } = await setUp(t);
  const start = server.clock.now();
  let tokens = assertTokens(await redeemCode(server, client, await code()));
  for (let rotation = 1; rotation <= 4; rotation++) {
    server.clock.advance(20 * day);
    tokens = assertTokens(await refresh(server, client, tokens.refresh_token));
  }
  // Day 80: the new refresh token lives to day 90, not day 110.
  const described = await introspection(server, client, tokens.refresh_token);
  assert.equal(described.exp, Math.floor(start / 1000) + 90 * day);

  server.clock.advance(20 * day); // day 100
  assertError(
    await refresh(server, client, tokens.refresh_token),
    400,
    'invalid_grant',
    /^the refresh token family has reached its maximum lifetime; sign in again$/,
  );
});

test('refreshTokenFamilyMaxAgeSeconds sets the cap; the first refresh token is capped by it too', async (t) => {
  const { server, client, code } = await setUp(t, { refreshTokenFamilyMaxAgeSeconds: 10 * day });
  const start = server.clock.now();
  const tokens = assertTokens(await redeemCode(server, client, await code()));
  assert.equal((await introspection(server, client, tokens.refresh_token)).exp, Math.floor(start / 1000) + 10 * day);
  server.clock.advance(6 * day);
  const rotated = assertTokens(await refresh(server, client, tokens.refresh_token));
  assert.equal((await introspection(server, client, rotated.refresh_token)).exp, Math.floor(start / 1000) + 10 * day);
  server.clock.advance(4 * day);
  assertError(await refresh(server, client, rotated.refresh_token), 400, 'invalid_grant', /maximum lifetime/);
});
