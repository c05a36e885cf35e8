/**
 * The authorization code flow driven by `oauth4webapi`, a client library written independently of
 * Gatehouse, used the way its users use it, against a real listening server. The browser's part
 * (login and consent forms) is plain `fetch`, with cookies kept by hand.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import * as oauth from 'oauth4webapi';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient, type ClientRegistration } from '../../src/server/clients/register-client.ts';
import { createServerContext, type ServerContext } from '../../src/server/context.ts';
import { KeyEncryption } from '../../src/server/keys/key-encryption.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { startListeningServer, type ListeningServer } from '../support/listening-server.ts';
import { Browser, signInAndDecide } from '../support/http-browser.ts';

const password = 'correct horse battery staple';
const confidentialRedirectUri = 'https://client.example/callback';
/** A native app's loopback redirect URI, registered without a port (RFC 8252 §7.3). */
const registeredLoopbackUri = 'http://127.0.0.1/callback';
/** The same URI with the ephemeral port the native app listens on at run time. */
const loopbackRedirectUri = 'http://127.0.0.1:49152/callback';

/** The server is plain http on 127.0.0.1, which the library refuses unless told otherwise. */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

interface Setup {
  server: ListeningServer;
  as: oauth.AuthorizationServer;
  accountId: string;
  confidential: { client: oauth.Client; secret: string };
  publicClient: oauth.Client;
}

/** A fresh listening server with one user, one confidential and one public client. */
async function setUp(t: TestContext): Promise<Setup> {
  const server = await startListeningServer();
  t.after(() => server.close());
  const storage = await openStorage(server.databaseUrl);
  const ctx: ServerContext = createServerContext(server.config, storage, systemClock, new KeyEncryption(Buffer.from(server.config.keyEncryptionKey, 'base64url')));
  try {
    const scopes = ['profile', 'email', 'calendar.read', 'offline_access'];
    const register = (input: ClientRegistration) => registerClient(input, ctx);
    const confidential = await register({ name: 'Mine', redirectUris: [confidentialRedirectUri], scopes });
    const native = await register({ name: 'Mine for desktop', type: 'public', redirectUris: [registeredLoopbackUri], scopes });
    const account = await createAccount({ username: 'alice', password, name: 'Alice Kim', email: 'alice@example.com' }, ctx);
    assert.ok(confidential.clientSecret !== null);
    assert.equal(native.clientSecret, null);
    // No discovery document yet (a later issue), so the metadata is written out by hand.
    const as: oauth.AuthorizationServer = {
      issuer: server.url,
      authorization_endpoint: `${server.url}/authorize`,
      token_endpoint: `${server.url}/token`,
      userinfo_endpoint: `${server.url}/userinfo`,
      // RFC 9207: the library then requires `iss` in every authorization response and checks it.
      authorization_response_iss_parameter_supported: true,
      code_challenge_methods_supported: ['S256'],
    };
    return {
      server,
      as,
      accountId: account.id,
      confidential: { client: { client_id: confidential.client.id }, secret: confidential.clientSecret },
      publicClient: { client_id: native.client.id, token_endpoint_auth_method: 'none' },
    };
  } finally {
    await storage.close();
  }
}

interface PendingAuthorization {
  url: URL;
  state: string;
  codeVerifier: string;
}

/** What a client app does before sending the browser away: PKCE, state, the authorization URL. */
async function startAuthorization(as: oauth.AuthorizationServer, client: oauth.Client, redirectUri: string, scope: string) {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('scope', scope);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return { url, state, codeVerifier } satisfies PendingAuthorization;
}

/** The user's part: alice logs in and answers the consent page (test/support/http-browser.ts). */
function signInAndAnswer(browser: Browser, authorizationUrl: URL, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  return signInAndDecide(browser, authorizationUrl, { username: 'alice', password, decision });
}

test('oauth4webapi: confidential client with client_secret_basic — code, userinfo, refresh', async (t) => {
  const { server, as, accountId, confidential } = await setUp(t);
  const { client, secret } = confidential;
  const auth = oauth.ClientSecretBasic(secret);
  const pending = await startAuthorization(as, client, confidentialRedirectUri, 'profile email calendar.read');

  const callback = await signInAndAnswer(new Browser(server.url), pending.url);
  assert.equal(`${callback.origin}${callback.pathname}`, confidentialRedirectUri);
  const params = oauth.validateAuthResponse(as, client, callback, pending.state);

  const codeResponse = await oauth.authorizationCodeGrantRequest(as, client, auth, params, confidentialRedirectUri, pending.codeVerifier, insecure);
  assert.equal(codeResponse.headers.get('cache-control'), 'no-store');
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, codeResponse);
  assert.equal(tokens.token_type, 'bearer'); // the library lower-cases it
  assert.equal(tokens.expires_in, 3600);
  assert.equal(tokens.scope, 'profile email calendar.read');
  assert.equal(typeof tokens.refresh_token, 'string');

  const profile = await oauth.processUserInfoResponse(
    as,
    client,
    accountId,
    await oauth.userInfoRequest(as, client, tokens.access_token, insecure),
  );
  assert.deepEqual(
    { ...profile },
    { sub: accountId, preferred_username: 'alice', name: 'Alice Kim', email: 'alice@example.com', email_verified: false },
  );

  // Refresh rotates the refresh token; asking for less scope narrows the new access token.
  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, { ...insecure, additionalParameters: { scope: 'profile' } }),
  );
  assert.equal(refreshed.scope, 'profile');
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  const narrowed = await oauth.processUserInfoResponse(
    as,
    client,
    accountId,
    await oauth.userInfoRequest(as, client, refreshed.access_token, insecure),
  );
  assert.deepEqual({ ...narrowed }, { sub: accountId, preferred_username: 'alice', name: 'Alice Kim' });

  // The rotated refresh token may still ask for everything first granted (RFC 6749 §6).
  const widened = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, auth, refreshed.refresh_token!, {
      ...insecure,
      additionalParameters: { scope: 'calendar.read' },
    }),
  );
  assert.equal(widened.scope, 'calendar.read');
  // A token without profile or email: the library reads RFC 6750's challenge from the 403.
  await assert.rejects(
    async () =>
      oauth.processUserInfoResponse(as, client, accountId, await oauth.userInfoRequest(as, client, widened.access_token, insecure)),
    (error: unknown) => {
      assert.ok(error instanceof oauth.WWWAuthenticateChallengeError);
      assert.equal(error.status, 403);
      assert.equal(error.cause[0]?.scheme, 'bearer');
      assert.equal(error.cause[0]?.parameters.error, 'insufficient_scope');
      return true;
    },
  );

  // Replaying an already rotated refresh token fails and revokes the whole family.
  await assert.rejects(
    async () =>
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure),
      ),
    (error: unknown) => {
      assert.ok(error instanceof oauth.ResponseBodyError);
      assert.equal(error.status, 400);
      assert.equal(error.error, 'invalid_grant');
      return true;
    },
  );
  await assert.rejects(
    async () =>
      oauth.processUserInfoResponse(as, client, accountId, await oauth.userInfoRequest(as, client, refreshed.access_token, insecure)),
    (error: unknown) => {
      assert.ok(error instanceof oauth.WWWAuthenticateChallengeError);
      assert.equal(error.status, 401);
      assert.equal(error.cause[0]?.parameters.error, 'invalid_token');
      return true;
    },
  );

  // A wrong client secret: 401 invalid_client with a Basic challenge.
  await assert.rejects(
    async () =>
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, oauth.ClientSecretBasic(`${secret}x`), widened.refresh_token!, insecure),
      ),
    (error: unknown) => {
      assert.ok(error instanceof oauth.WWWAuthenticateChallengeError);
      assert.equal(error.status, 401);
      assert.equal(error.cause[0]?.scheme, 'basic');
      return true;
    },
  );
});

test('oauth4webapi: public native client with no client authentication and a loopback redirect URI', async (t) => {
  const { server, as, accountId, publicClient: client } = await setUp(t);
  const none = oauth.None();
  const pending = await startAuthorization(as, client, loopbackRedirectUri, 'profile offline_access');

  const callback = await signInAndAnswer(new Browser(server.url), pending.url);
  assert.equal(`${callback.origin}${callback.pathname}`, loopbackRedirectUri);
  const params = oauth.validateAuthResponse(as, client, callback, pending.state);

  const tokens = await oauth.processAuthorizationCodeResponse(
    as,
    client,
    await oauth.authorizationCodeGrantRequest(as, client, none, params, loopbackRedirectUri, pending.codeVerifier, insecure),
  );
  assert.equal(tokens.scope, 'profile offline_access');

  const profile = await oauth.processUserInfoResponse(
    as,
    client,
    accountId,
    await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(as.userinfo_endpoint!), undefined, undefined, insecure),
  );
  assert.equal(profile.sub, accountId);
  assert.equal(profile.preferred_username, 'alice');

  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, none, tokens.refresh_token!, insecure),
  );
  assert.equal(refreshed.scope, 'profile offline_access');
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  const again = await oauth.processUserInfoResponse(
    as,
    client,
    accountId,
    await oauth.userInfoRequest(as, client, refreshed.access_token, insecure),
  );
  assert.equal(again.sub, accountId);
});

test('oauth4webapi rejects an authorization response whose iss or state is not the expected one', async (t) => {
  const { server, as, confidential } = await setUp(t);
  const { client, secret } = confidential;
  const pending = await startAuthorization(as, client, confidentialRedirectUri, 'profile');
  const callback = await signInAndAnswer(new Browser(server.url), pending.url);
  assert.equal(callback.searchParams.get('iss'), server.url);

  const invalidResponse = (pattern: RegExp) => (error: unknown) => {
    assert.ok(error instanceof oauth.OperationProcessingError);
    assert.equal(error.code, oauth.INVALID_RESPONSE);
    assert.match(error.message, pattern);
    return true;
  };
  const withParam = (name: string, value: string | null) => {
    const url = new URL(callback);
    if (value === null) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
    return url;
  };

  // RFC 9207 §2.4: a response naming another issuer (a mix-up attack) is refused …
  assert.throws(() => oauth.validateAuthResponse(as, client, withParam('iss', 'https://attacker.example'), pending.state), invalidResponse(/"iss"/));
  assert.throws(() => oauth.validateAuthResponse(as, client, withParam('iss', `${server.url}/`), pending.state), invalidResponse(/"iss"/));
  // … and so is one without `iss`, because the server declared it sends one.
  assert.throws(() => oauth.validateAuthResponse(as, client, withParam('iss', null), pending.state), invalidResponse(/"iss"/));
  // A client that believes it talks to another server refuses this server's genuine response.
  const otherServer = { ...as, issuer: 'https://other-server.example' };
  assert.throws(() => oauth.validateAuthResponse(otherServer, client, callback, pending.state), invalidResponse(/"iss"/));
  // RFC 6749 §10.12: a state this browser did not start with is refused (CSRF).
  assert.throws(() => oauth.validateAuthResponse(as, client, callback, oauth.generateRandomState()), invalidResponse(/"state"/));
  assert.throws(() => oauth.validateAuthResponse(as, client, withParam('state', null), pending.state), invalidResponse(/"state"/));

  // The untampered response passes, and its code redeems only with the right PKCE verifier.
  const params = oauth.validateAuthResponse(as, client, callback, pending.state);
  const auth = oauth.ClientSecretBasic(secret);
  await assert.rejects(
    async () =>
      oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(as, client, auth, params, confidentialRedirectUri, oauth.generateRandomCodeVerifier(), insecure),
      ),
    (error: unknown) => {
      assert.ok(error instanceof oauth.ResponseBodyError);
      assert.equal(error.error, 'invalid_grant');
      return true;
    },
  );
});

test('oauth4webapi: a denied consent reaches the client as access_denied, with iss and state checked', async (t) => {
  const { server, as, confidential } = await setUp(t);
  const { client } = confidential;
  const pending = await startAuthorization(as, client, confidentialRedirectUri, 'profile');
  const callback = await signInAndAnswer(new Browser(server.url), pending.url, 'deny');

  assert.throws(
    () => oauth.validateAuthResponse(as, client, callback, pending.state),
    (error: unknown) => {
      assert.ok(error instanceof oauth.AuthorizationResponseError);
      assert.equal(error.error, 'access_denied');
      return true;
    },
  );
  // The error response carries `iss` too (RFC 9207 §2): without it the library refuses it outright.
  const withoutIss = new URL(callback);
  withoutIss.searchParams.delete('iss');
  assert.throws(
    () => oauth.validateAuthResponse(as, client, withoutIss, pending.state),
    (error: unknown) => error instanceof oauth.OperationProcessingError && /"iss"/.test(error.message),
  );
});
