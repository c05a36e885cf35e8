/**
 * The whole OpenID Connect flow driven by `openid-client` v6, the OpenID-certified relying-party
 * library, used the way its users use it: configured from the issuer URL alone by discovery,
 * against a real listening server. The browser's part (login and consent forms) is plain
 * `fetch`, with cookies kept by hand.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import * as client from 'openid-client';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import { startListeningServer, type ListeningServer } from '../support/listening-server.ts';
import { Browser, location, signInAndDecide } from '../support/http-browser.ts';

const password = 'correct horse battery staple';
const confidentialRedirectUri = 'https://client.example/callback';
/** A native app's loopback redirect URI, registered without a port (RFC 8252 §7.3). */
const registeredLoopbackUri = 'http://127.0.0.1/callback';
/** The same URI with the ephemeral port the native app listens on at run time. */
const loopbackRedirectUri = 'http://127.0.0.1:49152/callback';
const oidcScope = 'openid profile email offline_access';

interface Setup {
  server: ListeningServer;
  issuer: URL;
  accountId: string;
  confidential: { id: string; secret: string };
  publicClientId: string;
  machine: { id: string; secret: string };
}

/**
 * A fresh listening server with one user, a confidential web app, a public native app and a
 * confidential machine client allowed only `client_credentials`.
 */
async function setUp(t: TestContext): Promise<Setup> {
  const server = await startListeningServer();
  t.after(() => server.close());
  const { ctx, close } = await server.openContext();
  try {
    const scopes = ['openid', 'profile', 'email', 'offline_access', 'calendar.read'];
    const web = await registerClient({ name: 'Mine', redirectUris: [confidentialRedirectUri], scopes }, ctx);
    const native = await registerClient({ name: 'Mine for desktop', type: 'public', redirectUris: [registeredLoopbackUri], scopes }, ctx);
    const machine = await registerClient(
      { name: 'Calendar sync', redirectUris: [], grantTypes: ['client_credentials'], scopes: ['calendar.read'] },
      ctx,
    );
    const account = await createAccount({ username: 'alice', password, name: 'Alice Kim', email: 'alice@example.com' }, ctx);
    assert.ok(web.clientSecret !== null && machine.clientSecret !== null);
    assert.equal(native.clientSecret, null);
    return {
      server,
      issuer: new URL(server.url),
      accountId: account.id,
      confidential: { id: web.client.id, secret: web.clientSecret },
      publicClientId: native.client.id,
      machine: { id: machine.client.id, secret: machine.clientSecret },
    };
  } finally {
    await close();
  }
}

/**
 * `discovery()` from the issuer URL only. The server is plain http on 127.0.0.1, which the
 * library refuses unless told otherwise; non-repudiation checks make it verify the ID token's
 * signature against the published JWKS even though it arrives over a direct connection.
 */
function discover(issuer: URL, clientId: string, auth: client.ClientAuth): Promise<client.Configuration> {
  return client.discovery(issuer, clientId, undefined, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
}

interface PendingAuthorization {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** What a relying party keeps in its session before sending the browser away. */
async function startAuthorization(config: client.Configuration, redirectUri: string, scope = oidcScope): Promise<PendingAuthorization> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  return { url, state, nonce, codeVerifier };
}

/** The user's part: alice logs in and allows (test/support/http-browser.ts). */
function signIn(browser: Browser, authorizationUrl: URL, afterLogin?: () => void): Promise<URL> {
  return signInAndDecide(browser, authorizationUrl, { username: 'alice', password, afterLogin });
}

/**
 * A browser already signed in, for a client the user already allowed: the authorization request
 * comes straight back with a code, no forms shown (consent is remembered).
 */
async function returnSilently(browser: Browser, authorizationUrl: URL): Promise<URL> {
  const response = await browser.get(authorizationUrl);
  assert.equal(response.status, 302);
  const callback = new URL(location(response));
  assert.ok(callback.searchParams.get('code'), `expected a code in ${callback}`);
  return callback;
}

/**
 * Moves every login session's authentication an hour into the past, as if the user had signed
 * in then: the server runs on the real clock, and `auth_time` has a resolution of one second, so
 * only this makes "the refreshed ID token keeps the original auth_time" observable.
 */
function backdateLogins(server: ListeningServer, seconds: number): void {
  const db = new Database(server.databaseUrl.slice('sqlite:'.length), { fileMustExist: true });
  try {
    const changed = db.prepare('UPDATE sessions SET auth_time = auth_time - ?').run(seconds * 1000).changes;
    assert.equal(changed, 1);
  } finally {
    db.close();
  }
}

function rejectsWith(error: string) {
  return (thrown: unknown) => {
    assert.ok(thrown instanceof client.ResponseBodyError, `expected a ResponseBodyError, got ${String(thrown)}`);
    assert.equal(thrown.error, error);
    return true;
  };
}

function clientError(code: string, pattern: RegExp) {
  return (thrown: unknown) => {
    assert.ok(thrown instanceof client.ClientError, `expected a ClientError, got ${String(thrown)}`);
    assert.equal(thrown.code, code);
    assert.match(String((thrown.cause as Error | undefined)?.message ?? thrown.message), pattern);
    return true;
  };
}

test('openid-client: discovery, code + PKCE + state + nonce, ID token, userinfo, refresh, introspection, revocation', async (t) => {
  const { server, issuer, accountId, confidential } = await setUp(t);
  const config = await discover(issuer, confidential.id, client.ClientSecretBasic(confidential.secret));
  const metadata = config.serverMetadata();
  assert.equal(metadata.issuer, server.url);
  assert.equal(metadata.token_endpoint, `${server.url}/token`);
  assert.equal(metadata.jwks_uri, `${server.url}/jwks`);
  assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  assert.ok(metadata.supportsPKCE('S256'));

  const pending = await startAuthorization(config, confidentialRedirectUri);
  assert.equal(pending.url.origin + pending.url.pathname, `${server.url}/authorize`);
  assert.equal(pending.url.searchParams.get('client_id'), confidential.id);
  assert.equal(pending.url.searchParams.get('response_type'), 'code');

  const callback = await signIn(new Browser(server.url), pending.url, () => backdateLogins(server, 3600));
  assert.equal(`${callback.origin}${callback.pathname}`, confidentialRedirectUri);
  assert.equal(callback.searchParams.get('iss'), server.url);

  // Validates `iss` and `state` of the callback, redeems the code with the verifier, and checks
  // the ID token: signature against the JWKS, iss, aud, exp, iat, nonce, at_hash.
  const tokens = await client.authorizationCodeGrant(config, callback, {
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    pkceCodeVerifier: pending.codeVerifier,
  });
  assert.equal(tokens.token_type, 'bearer'); // the library lower-cases it
  assert.equal(tokens.scope, oidcScope);
  assert.equal(typeof tokens.refresh_token, 'string');
  assert.ok((tokens.expiresIn() ?? 0) > 3500);
  const idToken = tokens.claims();
  assert.ok(idToken !== undefined, 'an openid request returns an ID token');
  assert.equal(idToken.iss, server.url);
  assert.equal(idToken.sub, accountId);
  assert.equal(idToken.aud, confidential.id);
  assert.equal(idToken.azp, confidential.id);
  assert.equal(idToken.nonce, pending.nonce);
  assert.equal(typeof idToken.auth_time, 'number');
  assert.ok(Math.abs(idToken.auth_time! - (Date.now() / 1000 - 3600)) < 60, 'auth_time is when the user logged in');
  assert.ok(idToken.iat - idToken.auth_time! >= 3600 - 60);
  assert.equal(idToken.email, 'alice@example.com');
  assert.equal(idToken.email_verified, false);
  assert.equal(idToken.preferred_username, 'alice');
  assert.equal(idToken.name, 'Alice Kim');

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
  assert.deepEqual(
    { ...userinfo },
    { sub: accountId, preferred_username: 'alice', name: 'Alice Kim', email: 'alice@example.com', email_verified: false },
  );
  // The library refuses a UserInfo response about someone other than the signed-in user.
  await assert.rejects(
    client.fetchUserInfo(config, tokens.access_token, 'someone-else'),
    clientError('OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', /"sub"/),
  );

  // Core §12.2: a refresh returns a new ID token about the same authentication.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
  const refreshedIdToken = refreshed.claims();
  assert.ok(refreshedIdToken !== undefined, 'a refresh with openid returns an ID token');
  assert.equal(refreshedIdToken.sub, idToken.sub);
  assert.equal(refreshedIdToken.aud, idToken.aud);
  assert.equal(refreshedIdToken.auth_time, idToken.auth_time);
  assert.ok(refreshedIdToken.iat >= idToken.iat);
  assert.equal(refreshedIdToken.nonce, undefined);
  assert.equal(typeof refreshed.refresh_token, 'string');
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates');
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.equal((await client.fetchUserInfo(config, refreshed.access_token, accountId)).sub, accountId);

  // RFC 7662: what a resource server learns about the tokens.
  const introspected = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(introspected.active, true);
  assert.equal(introspected.sub, accountId);
  assert.equal(introspected.client_id, confidential.id);
  assert.equal(introspected.scope, oidcScope);
  assert.equal(introspected.iss, server.url);
  assert.ok(introspected.exp! > Date.now() / 1000);
  const introspectedRefresh = await client.tokenIntrospection(config, refreshed.refresh_token!, { token_type_hint: 'refresh_token' });
  assert.equal(introspectedRefresh.active, true);
  assert.equal(introspectedRefresh.sub, accountId);
  // The rotated-away refresh token is no longer active; the first access token still is.
  assert.equal((await client.tokenIntrospection(config, tokens.refresh_token!)).active, false);
  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, true);
  assert.deepEqual({ ...(await client.tokenIntrospection(config, 'not-a-token-this-server-issued')) }, { active: false });

  // RFC 7009 §2.1: revoking the refresh token takes every access token of its family with it.
  await client.tokenRevocation(config, refreshed.refresh_token!, { token_type_hint: 'refresh_token' });
  for (const token of [refreshed.refresh_token!, refreshed.access_token, tokens.access_token]) {
    assert.equal((await client.tokenIntrospection(config, token)).active, false);
  }
  await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token!), rejectsWith('invalid_grant'));
  await assert.rejects(
    client.fetchUserInfo(config, refreshed.access_token, accountId),
    (thrown: unknown) => {
      assert.ok(thrown instanceof client.WWWAuthenticateChallengeError);
      assert.equal(thrown.status, 401);
      assert.equal(thrown.cause[0]?.parameters.error, 'invalid_token');
      return true;
    },
  );
  // RFC 7009 §2.2: revoking an unknown (or already revoked) token is not an error.
  await client.tokenRevocation(config, refreshed.refresh_token!);
  await client.tokenRevocation(config, 'not-a-token-this-server-issued');
});

test('openid-client: client_credentials for a machine client — no refresh token, the client is the subject', async (t) => {
  const { issuer, machine } = await setUp(t);
  const config = await discover(issuer, machine.id, client.ClientSecretBasic(machine.secret));

  const tokens = await client.clientCredentialsGrant(config, { scope: 'calendar.read' });
  assert.equal(tokens.token_type, 'bearer');
  assert.equal(tokens.scope, 'calendar.read');
  assert.equal(tokens.refresh_token, undefined, 'RFC 6749 §4.4.3: no refresh token');
  assert.equal(tokens.id_token, undefined);
  assert.equal(tokens.claims(), undefined);

  const introspected = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(introspected.active, true);
  assert.equal(introspected.sub, machine.id);
  assert.equal(introspected.client_id, machine.id);
  assert.equal(introspected.scope, 'calendar.read');

  // Without `scope` the client gets everything it was registered for; more is refused.
  assert.equal((await client.clientCredentialsGrant(config)).scope, 'calendar.read');
  await assert.rejects(client.clientCredentialsGrant(config, { scope: 'calendar.read profile' }), rejectsWith('invalid_scope'));
  // The machine client may not use the code flow's grants.
  await assert.rejects(client.refreshTokenGrant(config, 'anything'), rejectsWith('unauthorized_client'));
  // A wrong secret is refused with a Basic challenge.
  const wrong = await discover(issuer, machine.id, client.ClientSecretBasic(`${machine.secret}x`));
  await assert.rejects(client.clientCredentialsGrant(wrong), (thrown: unknown) => {
    assert.ok(thrown instanceof client.WWWAuthenticateChallengeError);
    assert.equal(thrown.status, 401);
    assert.equal(thrown.cause[0]?.scheme, 'basic');
    return true;
  });
});

test('openid-client: a public native client signs in with PKCE and no client authentication', async (t) => {
  const { server, issuer, accountId, publicClientId, confidential } = await setUp(t);
  const config = await discover(issuer, publicClientId, client.None());
  const pending = await startAuthorization(config, loopbackRedirectUri);

  const callback = await signIn(new Browser(server.url), pending.url);
  assert.equal(`${callback.origin}${callback.pathname}`, loopbackRedirectUri);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    pkceCodeVerifier: pending.codeVerifier,
  });
  const idToken = tokens.claims();
  assert.ok(idToken !== undefined);
  assert.equal(idToken.sub, accountId);
  assert.equal(idToken.aud, publicClientId);
  assert.equal(idToken.email, 'alice@example.com');
  assert.equal((await client.fetchUserInfo(config, tokens.access_token, idToken.sub)).email, 'alice@example.com');

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
  assert.equal(refreshed.claims()?.sub, accountId);
  assert.equal(refreshed.claims()?.auth_time, idToken.auth_time);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

  // Introspection is for clients that can authenticate (resource servers), not for public apps.
  await assert.rejects(client.tokenIntrospection(config, refreshed.access_token), rejectsWith('unauthorized_client'));
  // Another client cannot revoke this client's token (RFC 7009 §2.1), and it stays usable.
  const other = await discover(issuer, confidential.id, client.ClientSecretBasic(confidential.secret));
  await assert.rejects(client.tokenRevocation(other, refreshed.refresh_token!), rejectsWith('unauthorized_client'));
  assert.equal((await client.fetchUserInfo(config, refreshed.access_token, idToken.sub)).sub, accountId);
  // Nor can it introspect it: it is no resource server registered to (RFC 7662 §4; issue 13).
  assert.equal((await client.tokenIntrospection(other, refreshed.access_token)).active, false);
  // The app itself can revoke, with no client authentication at all (`none`).
  await client.tokenRevocation(config, refreshed.refresh_token!);
  await assert.rejects(client.fetchUserInfo(config, refreshed.access_token, idToken.sub));
  await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token!), rejectsWith('invalid_grant'));

  // PKCE is required for public clients: without a challenge the browser never gets a code.
  const withoutPkce = client.buildAuthorizationUrl(config, {
    redirect_uri: loopbackRedirectUri,
    scope: oidcScope,
    state: client.randomState(),
    nonce: client.randomNonce(),
  });
  const refused = await new Browser(server.url).get(withoutPkce);
  assert.equal(refused.status, 302);
  const refusal = new URL(location(refused));
  assert.equal(`${refusal.origin}${refusal.pathname}`, loopbackRedirectUri);
  assert.equal(refusal.searchParams.get('error'), 'invalid_request');
  assert.equal(refusal.searchParams.get('code'), null);
});

test('openid-client refuses a callback with a tampered iss or state, an unexpected nonce, and a forged ID token signature', async (t) => {
  const { server, issuer, confidential } = await setUp(t);
  const config = await discover(issuer, confidential.id, client.ClientSecretBasic(confidential.secret));
  const browser = new Browser(server.url);
  const pending = await startAuthorization(config, confidentialRedirectUri);
  const callback = await signIn(browser, pending.url);
  const checks = { expectedState: pending.state, expectedNonce: pending.nonce, pkceCodeVerifier: pending.codeVerifier };
  const withParam = (name: string, value: string | null) => {
    const url = new URL(callback);
    if (value === null) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
    return url;
  };

  // RFC 9207: a response naming another issuer (a mix-up attack), or none, is refused before
  // the code is sent anywhere.
  await assert.rejects(client.authorizationCodeGrant(config, withParam('iss', 'https://attacker.example'), checks), clientError('OAUTH_INVALID_RESPONSE', /"iss"/));
  await assert.rejects(client.authorizationCodeGrant(config, withParam('iss', null), checks), clientError('OAUTH_INVALID_RESPONSE', /"iss"/));
  // RFC 6749 §10.12: a state this session did not start with (CSRF).
  await assert.rejects(
    client.authorizationCodeGrant(config, callback, { ...checks, expectedState: client.randomState() }),
    clientError('OAUTH_INVALID_RESPONSE', /"state"/),
  );

  // Core §3.1.3.7: an ID token whose nonce is not the one this session sent (a replayed ID
  // token) is refused, though the code has by then been redeemed …
  await assert.rejects(
    client.authorizationCodeGrant(config, callback, { ...checks, expectedNonce: client.randomNonce() }),
    clientError('OAUTH_JWT_CLAIM_COMPARISON_FAILED', /"nonce"/),
  );
  // … so the genuine callback cannot be replayed afterwards.
  await assert.rejects(client.authorizationCodeGrant(config, callback, checks), rejectsWith('invalid_grant'));

  // An ID token altered in transit fails the signature check against the server's JWKS.
  const second = await startAuthorization(config, confidentialRedirectUri);
  const secondCallback = await returnSilently(browser, second.url);
  const tampering = await discover(issuer, confidential.id, client.ClientSecretBasic(confidential.secret));
  tampering[client.customFetch] = async (url, options) => {
    const response = await fetch(url, options);
    if (new URL(url).pathname !== '/token') return response;
    const body = (await response.json()) as { id_token: string };
    const [header, payload, signature] = body.id_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, email: 'mallory@example.com' })).toString('base64url');
    return Response.json({ ...body, id_token: `${header}.${forged}.${signature}` });
  };
  await assert.rejects(
    client.authorizationCodeGrant(tampering, secondCallback, { expectedState: second.state, expectedNonce: second.nonce, pkceCodeVerifier: second.codeVerifier }),
    clientError('OAUTH_INVALID_RESPONSE', /JWT signature verification failed/),
  );
});
