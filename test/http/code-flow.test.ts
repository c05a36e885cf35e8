import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authorize,
  buildTestServer,
  callUserinfo,
  createTestClient,
  createTestUser,
  issueCode,
  logIn,
  redeemCode,
  refresh,
  issuer,
  redirectUri,
} from '../support/test-server.ts';

test('the seed story: log in, consent, code, token, API call, refresh, API call', async (t) => {
  const server = await buildTestServer();
  t.after(() => server.close());
  const client = await createTestClient(server);
  const user = await createTestUser(server);
  const jar = await logIn(server);

  const location = await authorize(server, jar, client, { scope: 'profile email', state: 's-1' });
  assert.equal(`${location.origin}${location.pathname}`, redirectUri);
  assert.equal(location.searchParams.get('state'), 's-1');
  assert.equal(location.searchParams.get('iss'), issuer);
  const code = location.searchParams.get('code')!;
  assert.match(code, /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/);

  const tokenResponse = await redeemCode(server, client, code);
  assert.equal(tokenResponse.statusCode, 200, tokenResponse.body);
  assert.equal(tokenResponse.headers['cache-control'], 'no-store');
  const tokens = tokenResponse.json();
  assert.equal(tokens.token_type, 'Bearer');
  assert.equal(tokens.expires_in, 3600);
  assert.equal(tokens.scope, 'profile email');
  assert.match(tokens.access_token, /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/);
  assert.match(tokens.refresh_token, /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/);

  const profile = await callUserinfo(server, tokens.access_token);
  assert.equal(profile.statusCode, 200);
  assert.deepEqual(profile.json(), {
    sub: user.id,
    preferred_username: 'alice',
    name: 'Alice Kim',
    email: 'alice@example.com',
    email_verified: false,
  });

  server.clock.advance(3601);
  const expired = await callUserinfo(server, tokens.access_token);
  assert.equal(expired.statusCode, 401);
  assert.match(expired.headers['www-authenticate'] as string, /error="invalid_token"/);

  const refreshed = await refresh(server, client, tokens.refresh_token);
  assert.equal(refreshed.statusCode, 200, refreshed.body);
  const next = refreshed.json();
  assert.notEqual(next.refresh_token, tokens.refresh_token);
  assert.equal((await callUserinfo(server, next.access_token)).statusCode, 200);
});

test('consent is remembered: a second request for the same scopes skips the page', async (t) => {
  const server = await buildTestServer();
  t.after(() => server.close());
  const client = await createTestClient(server);
  await createTestUser(server);
  const jar = await logIn(server);
  await issueCode(server, jar, client, { scope: 'profile' });
  const { authorizeUrl } = await import('../support/test-server.ts');
  const again = await server.app.inject({ method: 'GET', url: authorizeUrl(client, { scope: 'profile' }), headers: { cookie: jar.header() } });
  assert.equal(again.statusCode, 302);
  assert.ok(new URL(again.headers.location as string).searchParams.get('code'));
});
