import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import type { ClientRegistration } from '../../src/server/clients/register-client.ts';
import { hashSecret } from '../../src/server/keys/opaque-secret.ts';
import {
  buildTestServer,
  callUserinfo,
  createTestClient,
  createTestUser,
  form,
  issueCode,
  logIn,
  redeemCode,
  redirectUri,
  refresh,
  rfc7636Verifier,
  type TestClient,
  type TestServer,
} from '../support/test-server.ts';

/** A verifier of valid form (RFC 7636 §4.1) that is not the one the codes were issued for. */
const otherVerifier = 'x'.repeat(43);

/** A fresh server with a confidential client, a user and a logged-in browser. */
async function setUp(t: TestContext, client: Partial<ClientRegistration> = {}) {
  const server = await buildTestServer();
  t.after(() => server.close());
  const mine = await createTestClient(server, client);
  const user = await createTestUser(server);
  const jar = await logIn(server);
  const code = (options: Parameters<typeof issueCode>[3] = {}, forClient: TestClient = mine) => issueCode(server, jar, forClient, options);
  return { server, client: mine, user, jar, code };
}

/** POST /token with exactly these form fields and headers, nothing added. */
function postToken(server: TestServer, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const body = form(fields);
  return server.app.inject({ method: 'POST', url: '/token', payload: body.payload, headers: { ...body.headers, ...headers } });
}

function basicFor(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** RFC 6749 §5.2: a JSON error with the code, a description, and never cached. */
function assertError(response: LightMyRequestResponse, status: number, error: string, description?: RegExp) {
  assert.equal(response.statusCode, status, response.body);
  assert.match(response.headers['content-type'] as string, /^application\/json/);
  assert.equal(response.headers['cache-control'], 'no-store');
  const body = response.json() as { error: string; error_description: string };
  assert.equal(body.error, error, body.error_description);
  assert.equal(typeof body.error_description, 'string');
  if (description !== undefined) assert.match(body.error_description, description);
  return body;
}

function assertTokens(response: LightMyRequestResponse) {
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as { access_token: string; token_type: string; expires_in: number; refresh_token: string; scope: string };
}

function sortedScope(scope: string): string[] {
  return scope.split(' ').sort();
}

// Client authentication (RFC 6749 §2.3.1)

test('client_secret_basic authenticates the client', async (t) => {
  const { server, client, code } = await setUp(t);
  const response = await postToken(
    server,
    { grant_type: 'authorization_code', code: await code(), redirect_uri: redirectUri, code_verifier: rfc7636Verifier },
    { authorization: client.basic },
  );
  assertTokens(response);
});

test('client_secret_basic accepts a case-insensitive scheme and a client_id in the body that agrees with it', async (t) => {
  const { server, client, code } = await setUp(t);
  const response = await postToken(
    server,
    { grant_type: 'authorization_code', code: await code(), redirect_uri: redirectUri, code_verifier: rfc7636Verifier, client_id: client.clientId },
    { authorization: client.basic.replace('Basic', 'basic') },
  );
  assertTokens(response);
});

test('client_secret_post authenticates a client registered for it', async (t) => {
  const { server, client, code } = await setUp(t, { tokenEndpointAuthMethod: 'client_secret_post' });
  const response = await postToken(server, {
    grant_type: 'authorization_code',
    code: await code(),
    redirect_uri: redirectUri,
    code_verifier: rfc7636Verifier,
    client_id: client.clientId,
    client_secret: client.clientSecret!,
  });
  assertTokens(response);
});

test('a wrong secret is invalid_client 401, with a Basic challenge only when Basic was used, and the code survives', async (t) => {
  const { server, client, code } = await setUp(t);
  const issued = await code();
  const fields = { grant_type: 'authorization_code', code: issued, redirect_uri: redirectUri, code_verifier: rfc7636Verifier };

  const basic = await postToken(server, fields, { authorization: basicFor(client.clientId, 'not-the-secret') });
  assertError(basic, 401, 'invalid_client', /client authentication failed/);
  assert.match(basic.headers['www-authenticate'] as string, /^Basic realm="gatehouse"/);

  const post = await postToken(server, { ...fields, client_id: client.clientId, client_secret: 'not-the-secret' });
  assertError(post, 401, 'invalid_client', /client authentication failed/);
  assert.equal(post.headers['www-authenticate'], undefined);

  assertTokens(await redeemCode(server, client, issued));
});

test('an unknown client is invalid_client 401 and cannot be told apart from a wrong secret', async (t) => {
  const { server, client, code } = await setUp(t);
  const fields = { grant_type: 'authorization_code', code: await code(), redirect_uri: redirectUri, code_verifier: rfc7636Verifier };

  const wrongSecret = assertError(await postToken(server, fields, { authorization: basicFor(client.clientId, 'nope') }), 401, 'invalid_client');
  const basic = await postToken(server, fields, { authorization: basicFor('no-such-client', 'nope') });
  const unknown = assertError(basic, 401, 'invalid_client');
  assert.equal(unknown.error_description, wrongSecret.error_description);
  assert.match(basic.headers['www-authenticate'] as string, /^Basic /);

  const post = await postToken(server, { ...fields, client_id: 'no-such-client', client_secret: 'nope' });
  assertError(post, 401, 'invalid_client', /client authentication failed/);
  assert.equal(post.headers['www-authenticate'], undefined);

  const publicStyle = await postToken(server, { ...fields, client_id: 'no-such-client' });
  assertError(publicStyle, 401, 'invalid_client', /client authentication failed/);
  assert.equal(publicStyle.headers['www-authenticate'], undefined);
});

test('no client credentials at all is invalid_client 401 without a challenge', async (t) => {
  const { server, code } = await setUp(t);
  const response = await postToken(server, {
    grant_type: 'authorization_code',
    code: await code(),
    redirect_uri: redirectUri,
    code_verifier: rfc7636Verifier,
  });
  assertError(response, 401, 'invalid_client', /client authentication is required/);
  assert.equal(response.headers['www-authenticate'], undefined);
});

test('a confidential client that sends only its client_id is invalid_client', async (t) => {
  const { server, client, code } = await setUp(t);
  const response = await postToken(server, {
    grant_type: 'authorization_code',
    code: await code(),
    redirect_uri: redirectUri,
    code_verifier: rfc7636Verifier,
    client_id: client.clientId,
  });
  assertError(response, 401, 'invalid_client', /must authenticate with its secret/);
});

test('a malformed Basic header is invalid_client with a Basic challenge', async (t) => {
  const { server, client, code } = await setUp(t);
  const fields = { grant_type: 'authorization_code', code: await code(), redirect_uri: redirectUri, code_verifier: rfc7636Verifier };
  const headers = [
    'Basic',
    'Basic !!!!',
    `Basic ${Buffer.from('no-colon').toString('base64')}`,
    `Basic ${Buffer.from(':secret-without-id').toString('base64')}`,
    `Basic ${Buffer.from(`${client.clientId}:%zz`).toString('base64')}`,
    `Basic ${'A'.repeat(2000)}`,
    `Bearer ${client.clientSecret}`,
  ];
  for (const authorization of headers) {
    const response = await postToken(server, fields, { authorization });
    assertError(response, 401, 'invalid_client');
    assert.match(response.headers['www-authenticate'] as string, /^Basic /, authorization);
  }
});

test('Basic together with client_secret in the body is invalid_request (RFC 6749 §2.3: one method only)', async (t) => {
  const { server, client, code } = await setUp(t);
  const issued = await code();
  const fields = { grant_type: 'authorization_code', code: issued, redirect_uri: redirectUri, code_verifier: rfc7636Verifier };
  const both = await postToken(server, { ...fields, client_secret: client.clientSecret! }, { authorization: client.basic });
  assertError(both, 400, 'invalid_request', /authenticated twice/);

  const otherId = await postToken(server, { ...fields, client_id: 'someone-else' }, { authorization: client.basic });
  assertError(otherId, 400, 'invalid_request', /'client_id' differs/);

  assertTokens(await redeemCode(server, client, issued));
});

test('a public client sends only client_id and its PKCE verifier', async (t) => {
  const { server, code } = await setUp(t);
  const app = await createTestClient(server, { type: 'public', name: 'Native app' });
  assert.equal(app.clientSecret, null);
  const response = await postToken(server, {
    grant_type: 'authorization_code',
    code: await code({}, app),
    redirect_uri: redirectUri,
    code_verifier: rfc7636Verifier,
    client_id: app.clientId,
  });
  const tokens = assertTokens(response);
  assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 200);

  const refreshed = await postToken(server, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: app.clientId });
  assertTokens(refreshed);
});

test('a public client must send the PKCE verifier; the code is spent without it', async (t) => {
  const { server, code } = await setUp(t);
  const app = await createTestClient(server, { type: 'public', name: 'Native app' });
  const issued = await code({}, app);
  const fields = { grant_type: 'authorization_code', code: issued, redirect_uri: redirectUri, client_id: app.clientId };
  assertError(await postToken(server, fields), 400, 'invalid_grant', /'code_verifier' is required/);
  assertError(await postToken(server, { ...fields, code_verifier: rfc7636Verifier }), 400, 'invalid_grant', /already been used/);
});

test('a public client that sends a secret is refused', async (t) => {
  const { server, code } = await setUp(t);
  const app = await createTestClient(server, { type: 'public', name: 'Native app' });
  const issued = await code({}, app);
  const fields = { grant_type: 'authorization_code', code: issued, redirect_uri: redirectUri, code_verifier: rfc7636Verifier };

  const post = await postToken(server, { ...fields, client_id: app.clientId, client_secret: 'anything' });
  assertError(post, 401, 'invalid_client', /public client/);
  assert.equal(post.headers['www-authenticate'], undefined);

  const basic = await postToken(server, fields, { authorization: basicFor(app.clientId, 'anything') });
  assertError(basic, 401, 'invalid_client', /public client/);
  assert.match(basic.headers['www-authenticate'] as string, /^Basic /);

  const emptySecret = await postToken(server, fields, { authorization: basicFor(app.clientId, '') });
  assertError(emptySecret, 401, 'invalid_client', /public client/);

  assertTokens(await postToken(server, { ...fields, client_id: app.clientId }));
});

// grant_type=authorization_code (RFC 6749 §4.1.3)

test('a code redeemed by another client is invalid_grant, and its own client can still redeem it', async (t) => {
  const { server, client, code } = await setUp(t);
  const other = await createTestClient(server, { name: 'Other' });
  const issued = await code();
  assertError(await redeemCode(server, other, issued), 400, 'invalid_grant', /issued to another client/);
  assertTokens(await redeemCode(server, client, issued));
});

test('a wrong redirect_uri is invalid_grant, and spends the code', async (t) => {
  const { server, client, code } = await setUp(t);
  for (const uri of [`${redirectUri}/`, `${redirectUri}?x=1`, redirectUri.toUpperCase(), 'https://attacker.example/callback']) {
    const issued = await code();
    assertError(await redeemCode(server, client, issued, { redirect_uri: uri }), 400, 'invalid_grant', /'redirect_uri' does not match/);
    assertError(await redeemCode(server, client, issued), 400, 'invalid_grant', /already been used/);
  }
});

test('a missing redirect_uri is invalid_grant', async (t) => {
  const { server, client, code } = await setUp(t);
  const response = await postToken(
    server,
    { grant_type: 'authorization_code', code: await code(), code_verifier: rfc7636Verifier },
    { authorization: client.basic },
  );
  assertError(response, 400, 'invalid_grant', /'redirect_uri' is required/);
});

test('a malformed code_verifier is invalid_request and leaves the code; a wrong one is invalid_grant and spends it', async (t) => {
  const { server, client, code } = await setUp(t);
  const issued = await code();
  // A malformed verifier is refused before the code is looked at (RFC 7636 §4.1).
  assertError(await redeemCode(server, client, issued, { code_verifier: 'too-short' }), 400, 'invalid_request', /'code_verifier' must be 43-128/);
  assertError(await redeemCode(server, client, issued, { code_verifier: `${rfc7636Verifier}!` }), 400, 'invalid_request', /'code_verifier' must be/);
  assertError(await redeemCode(server, client, issued, { code_verifier: otherVerifier }), 400, 'invalid_grant', /'code_verifier' does not match/);
  assertError(await redeemCode(server, client, issued), 400, 'invalid_grant', /already been used/);
});

test('a missing code_verifier for a code issued with a challenge is invalid_grant', async (t) => {
  const { server, client, code } = await setUp(t);
  const response = await postToken(
    server,
    { grant_type: 'authorization_code', code: await code(), redirect_uri: redirectUri },
    { authorization: client.basic },
  );
  assertError(response, 400, 'invalid_grant', /'code_verifier' is required/);
});

test('a code_verifier for a code issued without a challenge is invalid_grant (PKCE downgrade)', async (t) => {
  const { server, client, code } = await setUp(t);
  const issued = await code({ verifier: null });
  assertError(await redeemCode(server, client, issued), 400, 'invalid_grant', /'code_verifier' was sent but the authorization request had no code_challenge/);
  const withoutVerifier = await postToken(
    server,
    { grant_type: 'authorization_code', code: issued, redirect_uri: redirectUri },
    { authorization: client.basic },
  );
  assertError(withoutVerifier, 400, 'invalid_grant', /already been used/);
  // Without a verifier, a code issued without a challenge redeems (PKCE is optional for a confidential client).
  const plain = await code({ verifier: null });
  assertTokens(await postToken(server, { grant_type: 'authorization_code', code: plain, redirect_uri: redirectUri }, { authorization: client.basic }));
});

test('a code expires 60 seconds after it was issued', async (t) => {
  const { server, client, code } = await setUp(t);
  const early = await code();
  server.clock.advance(59);
  assertTokens(await redeemCode(server, client, early));

  const late = await code();
  server.clock.advance(61);
  assertError(await redeemCode(server, client, late), 400, 'invalid_grant', /authorization code has expired/);
});

test('an unknown code is invalid_grant; a missing one is invalid_request', async (t) => {
  const { server, client } = await setUp(t);
  assertError(await redeemCode(server, client, 'A'.repeat(43)), 400, 'invalid_grant', /authorization code is invalid/);
  const missing = await postToken(
    server,
    { grant_type: 'authorization_code', redirect_uri: redirectUri, code_verifier: rfc7636Verifier },
    { authorization: client.basic },
  );
  assertError(missing, 400, 'invalid_request', /'code' is required/);
});

test('a replayed code is invalid_grant and revokes the access and refresh tokens of its first use', async (t) => {
  const { server, client, code } = await setUp(t);
  const issued = await code();
  const first = assertTokens(await redeemCode(server, client, issued));
  assert.equal((await callUserinfo(server, first.access_token)).statusCode, 200);

  assertError(await redeemCode(server, client, issued), 400, 'invalid_grant', /already been used/);

  const revoked = await callUserinfo(server, first.access_token);
  assert.equal(revoked.statusCode, 401);
  assert.match(revoked.headers['www-authenticate'] as string, /error="invalid_token"/);
  assertError(await refresh(server, client, first.refresh_token), 400, 'invalid_grant', /revoked/);
});

test('a used code presented by another client is refused without revoking the first redemption', async (t) => {
  const { server, client, code } = await setUp(t);
  const other = await createTestClient(server, { name: 'Other' });
  const issued = await code();
  const first = assertTokens(await redeemCode(server, client, issued));
  assertError(await redeemCode(server, other, issued), 400, 'invalid_grant', /invalid/);
  assert.equal((await callUserinfo(server, first.access_token)).statusCode, 200);
  assertTokens(await refresh(server, client, first.refresh_token));
});

test('a scope of only spaces is invalid_scope at the token endpoint (RFC 6749 §3.3)', async (t) => {
  const { server, client, code } = await setUp(t);
  const tokens = assertTokens(await redeemCode(server, client, await code()));
  assertError(await refresh(server, client, tokens.refresh_token, { scope: '   ' }), 400, 'invalid_scope', /at least one scope/);
  assertTokens(await refresh(server, client, tokens.refresh_token));
});

test('ten concurrent redemptions of one code yield exactly one success', async (t) => {
  const { server, client, code } = await setUp(t);
  const issued = await code();
  const responses = await Promise.all(Array.from({ length: 10 }, () => redeemCode(server, client, issued)));
  const successes = responses.filter((response) => response.statusCode === 200);
  const failures = responses.filter((response) => response.statusCode !== 200);
  assert.equal(successes.length, 1, responses.map((response) => response.statusCode).join(' '));
  assert.equal(failures.length, 9);
  for (const failure of failures) assertError(failure, 400, 'invalid_grant', /already been used/);
  assert.equal(countRows(server, 'access_tokens'), 1);
  assert.equal(countRows(server, 'refresh_tokens'), 1);
  // The nine replays count as replays: the one set of tokens issued is revoked.
  assert.equal((await callUserinfo(server, successes[0]!.json().access_token)).statusCode, 401);
});

// The token response (RFC 6749 §5.1)

test('a token response has exactly the RFC 6749 §5.1 fields and is never cached', async (t) => {
  const { server, client, code } = await setUp(t);
  const response = await redeemCode(server, client, await code({ scope: 'email profile' }));
  const tokens = assertTokens(response);
  assert.deepEqual(Object.keys(tokens).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
  assert.equal(tokens.token_type, 'Bearer');
  assert.equal(tokens.expires_in, 3600);
  assert.deepEqual(sortedScope(tokens.scope), ['email', 'profile']);
  assert.match(tokens.access_token, /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/);
  assert.match(tokens.refresh_token, /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/);
  assert.notEqual(tokens.access_token, tokens.refresh_token);
  assert.match(response.headers['content-type'] as string, /^application\/json/);
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal(response.headers.pragma, 'no-cache');

  const refreshed = await refresh(server, client, tokens.refresh_token);
  assertTokens(refreshed);
  assert.equal(refreshed.headers['cache-control'], 'no-store');
});

test('error responses of the token endpoint are never cached either', async (t) => {
  const { server, client } = await setUp(t);
  const responses = [
    await postToken(server, {}),
    await postToken(server, { grant_type: 'password', username: 'alice', password: 'x' }),
    await postToken(server, { grant_type: 'authorization_code', code: 'x' }, { authorization: basicFor(client.clientId, 'wrong') }),
    await redeemCode(server, client, 'unknown-code'),
  ];
  for (const response of responses) {
    assert.ok(response.statusCode >= 400 && response.statusCode < 500, response.body);
    assert.equal(response.headers['cache-control'], 'no-store');
  }
});

test('a client registered with its own lifetimes gets them in expires_in and in the actual expiry', async (t) => {
  const { server, code } = await setUp(t);
  const shortLived = await createTestClient(server, { name: 'Short', accessTokenTtlSeconds: 120, refreshTokenTtlSeconds: 600 });
  const tokens = assertTokens(await redeemCode(server, shortLived, await code({}, shortLived)));
  assert.equal(tokens.expires_in, 120);

  server.clock.advance(119);
  assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 200);
  server.clock.advance(1);
  const expired = await callUserinfo(server, tokens.access_token);
  assert.equal(expired.statusCode, 401);
  assert.match(expired.headers['www-authenticate'] as string, /error="invalid_token", error_description="the access token has expired"/);

  const next = assertTokens(await refresh(server, shortLived, tokens.refresh_token));
  assert.equal(next.expires_in, 120);
  // The new refresh token lives 600 s from now; the old one would have died at 600 s from issue.
  server.clock.advance(599);
  const last = assertTokens(await refresh(server, shortLived, next.refresh_token));
  server.clock.advance(600);
  assertError(await refresh(server, shortLived, last.refresh_token), 400, 'invalid_grant', /refresh token has expired/);
});

test('a client without its own lifetimes gets the defaults: 1 hour and 30 days', async (t) => {
  const { server, client, code } = await setUp(t);
  const tokens = assertTokens(await redeemCode(server, client, await code()));
  assert.equal(tokens.expires_in, 3600);
  server.clock.advance(3599);
  assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 200);
  server.clock.advance(30 * 24 * 3600 - 3600);
  const next = assertTokens(await refresh(server, client, tokens.refresh_token));
  server.clock.advance(30 * 24 * 3600);
  assertError(await refresh(server, client, next.refresh_token), 400, 'invalid_grant', /refresh token has expired/);
});

// grant_type=refresh_token (RFC 6749 §6, RFC 9700 §4.14.2)

test('refreshing rotates the refresh token; presenting a rotated one revokes the whole family', async (t) => {
  const { server, client, code } = await setUp(t);
  const first = assertTokens(await redeemCode(server, client, await code()));
  const second = assertTokens(await refresh(server, client, first.refresh_token));
  assert.notEqual(second.refresh_token, first.refresh_token);
  assert.notEqual(second.access_token, first.access_token);
  const third = assertTokens(await refresh(server, client, second.refresh_token));
  assert.equal((await callUserinfo(server, third.access_token)).statusCode, 200);

  assertError(await refresh(server, client, first.refresh_token), 400, 'invalid_grant', /already been used; its whole family is now revoked/);

  for (const accessToken of [first.access_token, second.access_token, third.access_token]) {
    const response = await callUserinfo(server, accessToken);
    assert.equal(response.statusCode, 401);
    assert.match(response.headers['www-authenticate'] as string, /error="invalid_token"/);
  }
  assertError(await refresh(server, client, third.refresh_token), 400, 'invalid_grant', /revoked/);
});

test('refreshing with more scope than was granted is invalid_scope and leaves the refresh token usable', async (t) => {
  const { server, client, code } = await setUp(t);
  const tokens = assertTokens(await redeemCode(server, client, await code({ scope: 'profile email' })));
  const response = await refresh(server, client, tokens.refresh_token, { scope: 'profile email calendar.read' });
  assertError(response, 400, 'invalid_scope', /'scope' asks for 'calendar\.read', which was not granted/);
  assertError(await refresh(server, client, tokens.refresh_token, { scope: 'profile unknown!scope' }), 400, 'invalid_scope');
  const next = assertTokens(await refresh(server, client, tokens.refresh_token));
  assert.deepEqual(sortedScope(next.scope), ['email', 'profile']);
});

test('refreshing with less scope narrows the access token; a later refresh without scope restores the grant', async (t) => {
  const { server, client, user, code } = await setUp(t);
  const tokens = assertTokens(await redeemCode(server, client, await code({ scope: 'profile email calendar.read' })));

  const emailOnly = assertTokens(await refresh(server, client, tokens.refresh_token, { scope: 'email' }));
  assert.equal(emailOnly.scope, 'email');
  const profile = await callUserinfo(server, emailOnly.access_token);
  assert.equal(profile.statusCode, 200);
  assert.deepEqual(profile.json(), { sub: user.id, email: 'alice@example.com', email_verified: false });

  const calendarOnly = assertTokens(await refresh(server, client, emailOnly.refresh_token, { scope: 'calendar.read' }));
  assert.equal(calendarOnly.scope, 'calendar.read');
  const forbidden = await callUserinfo(server, calendarOnly.access_token);
  assertError(forbidden, 403, 'insufficient_scope');
  assert.match(forbidden.headers['www-authenticate'] as string, /^Bearer realm="gatehouse", error="insufficient_scope"/);

  const full = assertTokens(await refresh(server, client, calendarOnly.refresh_token));
  assert.deepEqual(sortedScope(full.scope), ['calendar.read', 'email', 'profile']);
  const fullProfile = (await callUserinfo(server, full.access_token)).json();
  assert.equal(fullProfile.preferred_username, 'alice');
  assert.equal(fullProfile.email, 'alice@example.com');
});

test('a refresh token only works for its own client, and another client trying it does not burn it', async (t) => {
  const { server, client, code } = await setUp(t);
  const other = await createTestClient(server, { name: 'Other' });
  const tokens = assertTokens(await redeemCode(server, client, await code()));
  assertError(await refresh(server, other, tokens.refresh_token), 400, 'invalid_grant', /issued to another client/);
  const next = assertTokens(await refresh(server, client, tokens.refresh_token));
  assert.equal((await callUserinfo(server, next.access_token)).statusCode, 200);
  assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 200);
});

test('an expired refresh token is invalid_grant', async (t) => {
  const { server, client, code } = await setUp(t);
  const tokens = assertTokens(await redeemCode(server, client, await code()));
  server.clock.advance(30 * 24 * 3600 + 1);
  assertError(await refresh(server, client, tokens.refresh_token), 400, 'invalid_grant', /refresh token has expired/);
});

test('an unknown refresh token is invalid_grant; a missing one is invalid_request', async (t) => {
  const { server, client } = await setUp(t);
  assertError(await refresh(server, client, 'B'.repeat(43)), 400, 'invalid_grant', /refresh token is invalid/);
  assertError(await postToken(server, { grant_type: 'refresh_token' }, { authorization: client.basic }), 400, 'invalid_request', /'refresh_token' is required/);
});

test('an access token is not a refresh token, and a code is not either', async (t) => {
  const { server, client, code } = await setUp(t);
  const issued = await code();
  const tokens = assertTokens(await redeemCode(server, client, issued));
  assertError(await refresh(server, client, tokens.access_token), 400, 'invalid_grant', /refresh token is invalid/);
  assertError(await refresh(server, client, issued), 400, 'invalid_grant', /refresh token is invalid/);
  assertError(await redeemCode(server, client, tokens.refresh_token), 400, 'invalid_grant', /authorization code is invalid/);
});

// grant_type

test('unsupported grant types are unsupported_grant_type', async (t) => {
  const { server, client } = await setUp(t);
  const grantTypes = ['password', 'implicit', 'token', 'urn:ietf:params:oauth:grant-type:device_code', 'Authorization_Code', 'x7Hq'];
  for (const grantType of grantTypes) {
    const response = await postToken(server, { grant_type: grantType, username: 'alice', password: 'x' }, { authorization: client.basic });
    const body = assertError(response, 400, 'unsupported_grant_type');
    assert.ok(body.error_description.includes(`'${grantType}'`), body.error_description);
  }
});

test('a missing or empty grant_type is invalid_request', async (t) => {
  const { server, client } = await setUp(t);
  assertError(await postToken(server, { code: 'x' }, { authorization: client.basic }), 400, 'invalid_request', /'grant_type' is required/);
  assertError(await postToken(server, { grant_type: '' }, { authorization: client.basic }), 400, 'invalid_request', /'grant_type' is required/);
});

// Nothing secret in the clear (DESIGN invariant 4)

test('codes and tokens are stored only as hashes', async (t) => {
  const { server, client, code } = await setUp(t);
  const issued = await code();
  const tokens = assertTokens(await redeemCode(server, client, issued));
  const next = assertTokens(await refresh(server, client, tokens.refresh_token));

  for (const accessToken of [tokens.access_token, next.access_token]) {
    assert.equal(await server.storage.findAccessToken(accessToken), undefined);
    const stored = await server.storage.findAccessToken(hashSecret(accessToken));
    assert.equal(stored?.clientId, client.clientId);
  }
  const everything = databaseText(server);
  for (const secret of [issued, tokens.access_token, tokens.refresh_token, next.access_token, next.refresh_token, client.clientSecret!]) {
    assert.ok(!everything.includes(secret), 'a secret is stored in the clear');
    assert.ok(everything.includes(hashSecret(secret)), 'the hash of a secret is missing');
  }
});

// GET/POST /userinfo (RFC 6750)

test('userinfo answers GET and POST with the profile the token allows', async (t) => {
  const { server, client, user, code } = await setUp(t);
  const tokens = assertTokens(await redeemCode(server, client, await code({ scope: 'profile' })));
  const expected = { sub: user.id, preferred_username: 'alice', name: 'Alice Kim' };
  assert.deepEqual((await callUserinfo(server, tokens.access_token)).json(), expected);
  const post = await server.app.inject({ method: 'POST', url: '/userinfo', headers: { authorization: `bearer ${tokens.access_token}` } });
  assert.equal(post.statusCode, 200, post.body);
  assert.deepEqual(post.json(), expected);
});

test('userinfo without credentials is 401 with a bare Bearer challenge (RFC 6750 §3.1)', async (t) => {
  const { server } = await setUp(t);
  for (const method of ['GET', 'POST'] as const) {
    for (const headers of [{}, { authorization: '' }]) {
      const response = await server.app.inject({ method, url: '/userinfo', headers });
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers['www-authenticate'], 'Bearer realm="gatehouse"');
      assert.doesNotMatch(response.headers['www-authenticate'] as string, /error=/);
    }
  }
});

test('userinfo with an unknown, expired or revoked token is 401 invalid_token', async (t) => {
  const { server, client, code } = await setUp(t);
  const expectInvalid = async (token: string, description: string) => {
    const response = await callUserinfo(server, token);
    assertError(response, 401, 'invalid_token');
    assert.equal(
      response.headers['www-authenticate'],
      `Bearer realm="gatehouse", error="invalid_token", error_description="${description}"`,
    );
  };
  await expectInvalid('C'.repeat(43), 'the access token is unknown');

  const issued = await code();
  const revokedTokens = assertTokens(await redeemCode(server, client, issued));
  await redeemCode(server, client, issued);
  await expectInvalid(revokedTokens.access_token, 'the access token has been revoked');

  const expiring = assertTokens(await redeemCode(server, client, await code()));
  server.clock.advance(3600);
  await expectInvalid(expiring.access_token, 'the access token has expired');
});

test('a malformed Authorization header at userinfo is 400 invalid_request', async (t) => {
  const { server, client, code } = await setUp(t);
  const tokens = assertTokens(await redeemCode(server, client, await code()));
  const headers = [
    'Bearer',
    'Bearer ',
    `Bearer ${tokens.access_token} extra`,
    `Bearer ${tokens.access_token}!`,
    `Bearer=${tokens.access_token}`,
    `Basic ${Buffer.from('a:b').toString('base64')}`,
    tokens.access_token,
    `Bearer "${tokens.access_token}"`,
  ];
  for (const authorization of headers) {
    const response = await server.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization } });
    assertError(response, 400, 'invalid_request', /must be 'Bearer <token>'/);
    assert.match(response.headers['www-authenticate'] as string, /error="invalid_request"/, authorization);
  }
});

// Direct database reads, to check what is (and is not) stored.

function openDatabase(server: TestServer): Database.Database {
  return new Database(server.config.databaseUrl.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
}

function countRows(server: TestServer, table: 'access_tokens' | 'refresh_tokens' | 'authorization_codes'): number {
  const db = openDatabase(server);
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Every value of every table, as one string, to look for a secret anywhere in the database. */
function databaseText(server: TestServer): string {
  const db = openDatabase(server);
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    return tables.map(({ name }) => JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all())).join('\n');
  } finally {
    db.close();
  }
}
