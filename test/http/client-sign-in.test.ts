/**
 * The client library ("Mine") signing a user in for real: against a listening Gatehouse, and
 * against `oidc-provider`, an OpenID Connect server we did not write, so that the client is known
 * to work with a provider other than our own. The browser's part (login and consent forms) is
 * plain `fetch`, with cookies kept by hand.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import Provider from 'oidc-provider';
import {
  beginSignIn,
  completeSignIn,
  discoverProvider,
  openTransaction,
  requestTokens,
  sealTransaction,
  type Provider as ClientProvider,
  type SignInTransaction,
} from '../../src/client/index.ts';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { OAuthError, type OAuthErrorCode } from '../../src/shared/oauth-error.ts';
import { startListeningServer, type ListeningServer } from '../support/listening-server.ts';
import { Browser, hiddenFields, location, unescapeHtml } from '../support/http-browser.ts';

const password = 'correct horse battery staple';
const redirectUri = 'https://mine.example/callback';
const oidcScopes = ['openid', 'profile', 'email', 'offline_access'];
/** The secret that signs the transaction cookie: at least 32 bytes. */
const cookieSecret = 'a-cookie-signing-secret-of-at-least-32-bytes';

function assertOAuthError(code: OAuthErrorCode, message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof OAuthError, `expected an OAuthError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.description, message);
    return true;
  };
}

// ---------------------------------------------------------------------------------------------
// The browser: cookies per origin, redirects followed by hand, forms submitted by hand.

function formAction(page: string): string {
  const match = /<form[^>]*action="([^"]+)"/.exec(page);
  assert.ok(match, 'the page has a form');
  return unescapeHtml(match[1]!);
}


/** The user at Gatehouse: log in as alice, allow on the consent page; returns the callback URL. */
async function approveAtGatehouse(server: ListeningServer, authorizationUrl: string): Promise<URL> {
  const browser = new Browser(server.url);
  const first = await browser.get(authorizationUrl);
  assert.equal(first.status, 302);
  const loginUrl = new URL(location(first), browser.origin);
  assert.equal(loginUrl.pathname, '/login');
  const loginFields = hiddenFields(await (await browser.get(loginUrl)).text());
  const loggedIn = await browser.post(
    '/login',
    new Map([['_csrf', loginFields.get('_csrf')!], ['return_to', loginFields.get('return_to')!], ['username', 'alice'], ['password', password]]),
  );
  assert.equal(loggedIn.status, 303);
  const consentPage = await browser.get(location(loggedIn));
  assert.equal(consentPage.status, 200);
  const consentFields = hiddenFields(await consentPage.text());
  consentFields.set('decision', 'allow');
  const decided = await browser.post('/authorize/decision', consentFields);
  assert.equal(decided.status, 303);
  return new URL(location(decided));
}

// ---------------------------------------------------------------------------------------------
// Gatehouse as the provider.

interface GatehouseSetup {
  server: ListeningServer;
  accountId: string;
  confidential: { clientId: string; clientSecret: string };
  publicClientId: string;
}

async function setUpGatehouse(t: TestContext): Promise<GatehouseSetup> {
  const server = await startListeningServer();
  t.after(() => server.close());
  const { ctx, close } = await server.openContext();
  try {
    const scopes = ['openid', 'profile', 'email', 'offline_access', 'calendar.read'];
    const web = await registerClient({ name: 'Mine', redirectUris: [redirectUri], scopes }, ctx);
    const spa = await registerClient({ name: 'Mine in the browser', type: 'public', redirectUris: [redirectUri], scopes }, ctx);
    const account = await createAccount({ username: 'alice', password, name: 'Alice Kim', email: 'alice@example.com' }, ctx);
    assert.ok(web.clientSecret !== null);
    return { server, accountId: account.id, confidential: { clientId: web.client.id, clientSecret: web.clientSecret }, publicClientId: spa.client.id };
  } finally {
    await close();
  }
}

test('Gatehouse by discovery: sign in with openid, profile and a refresh token through a sealed transaction cookie', async (t) => {
  const { server, accountId, confidential } = await setUpGatehouse(t);
  const provider = await discoverProvider(server.url, { id: 'gatehouse', displayName: 'Gatehouse', ...confidential });
  assert.equal(provider.issuer, server.url);
  assert.equal(provider.authorizationEndpoint, `${server.url}/authorize`);
  assert.equal(provider.tokenEndpoint, `${server.url}/token`);
  assert.equal(provider.userinfoEndpoint, `${server.url}/userinfo`);
  assert.equal(provider.jwksUri, `${server.url}/jwks`);
  assert.equal(provider.tokenEndpointAuth, 'client_secret_basic');
  assert.equal(provider.authorizationResponseIssParameter, true);

  const { url, transaction } = beginSignIn(provider, redirectUri, oidcScopes);
  const authorization = new URL(url);
  assert.equal(authorization.searchParams.get('scope'), oidcScopes.join(' '));
  assert.equal(authorization.searchParams.get('nonce'), transaction.nonce);
  assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');

  // The transaction travels in a signed cookie; the browser cannot change it.
  const cookie = sealTransaction(transaction, cookieSecret);

  const callback = await approveAtGatehouse(server, url);
  assert.equal(`${callback.origin}${callback.pathname}`, redirectUri);
  assert.equal(callback.searchParams.get('iss'), server.url);

  const opened = openTransaction(cookie, cookieSecret);
  assert.deepEqual(opened, transaction);
  const { profile, tokens } = await completeSignIn(provider, callback, opened);
  assert.equal(profile.subject, accountId);
  assert.equal(profile.email, 'alice@example.com');
  assert.equal(profile.emailVerified, false);
  assert.equal(profile.name, 'Alice Kim');
  assert.equal(profile.username, 'alice');
  assert.equal(typeof tokens.accessToken, 'string');
  assert.equal(typeof tokens.refreshToken, 'string', 'offline_access brings a refresh token');
  assert.equal(typeof tokens.idToken, 'string');
  assert.deepEqual(tokens.scopes, oidcScopes);
  assert.ok(tokens.expiresAt !== undefined && Math.abs(tokens.expiresAt - (Date.now() + 3600_000)) < 60_000);

  // The refresh token works at the token endpoint and rotates.
  const refreshed = await requestTokens(provider, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken! }, tokens.scopes, systemClock);
  assert.notEqual(refreshed.accessToken, tokens.accessToken);
  assert.notEqual(refreshed.refreshToken, tokens.refreshToken);

  // The same callback a second time: the code is single use.
  await assert.rejects(completeSignIn(provider, callback, opened), assertOAuthError('invalid_grant', /./));
});

test('the transaction cookie: tampered, re-signed with another secret, or missing is refused', () => {
  const provider: ClientProvider = {
    id: 'p',
    displayName: 'P',
    authorizationEndpoint: 'https://p.example/authorize',
    tokenEndpoint: 'https://p.example/token',
    clientId: 'c',
    tokenEndpointAuth: 'none',
    defaultScopes: ['openid'],
    pkce: true,
    profileFrom: () => ({ subject: 's', emailVerified: false, raw: {} }),
  };
  const { transaction } = beginSignIn(provider, redirectUri);
  const sealed = sealTransaction(transaction, cookieSecret);
  const [payload, signature] = sealed.split('.') as [string, string];

  // The browser swaps in its own state and verifier but keeps the signature.
  const forged: SignInTransaction = { ...transaction, state: 'attacker-state', codeVerifier: 'attacker-verifier' };
  const forgedPayload = Buffer.from(JSON.stringify(forged)).toString('base64url');
  assert.throws(() => openTransaction(`${forgedPayload}.${signature}`, cookieSecret), assertOAuthError('invalid_request', /tampered/));
  // One character of the signature changed.
  const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
  assert.throws(() => openTransaction(`${payload}.${flipped}`, cookieSecret), assertOAuthError('invalid_request', /tampered/));
  // Signed with another secret.
  assert.throws(() => openTransaction(sealTransaction(forged, `${cookieSecret}-other`), cookieSecret), assertOAuthError('invalid_request', /tampered/));
  // No cookie, or not a sealed value at all.
  assert.throws(() => openTransaction(undefined, cookieSecret), assertOAuthError('invalid_request', /no sign-in/));
  assert.throws(() => openTransaction(payload, cookieSecret), assertOAuthError('invalid_request', /no sign-in/));
  assert.deepEqual(openTransaction(sealed, cookieSecret), transaction);
});

test('an ID token whose nonce is not the transaction\'s is refused', async (t) => {
  const { server, confidential } = await setUpGatehouse(t);
  const provider = await discoverProvider(server.url, { id: 'gatehouse', ...confidential });
  const { url, transaction } = beginSignIn(provider, redirectUri, ['openid', 'profile']);
  const callback = await approveAtGatehouse(server, url);
  // Same state and verifier, but the nonce of another sign-in (a replayed ID token).
  const other = beginSignIn(provider, redirectUri, ['openid', 'profile']).transaction;
  await assert.rejects(completeSignIn(provider, callback, { ...transaction, nonce: other.nonce }), assertOAuthError('invalid_request', /nonce/));
});

test('a callback naming another issuer is refused, and so is one without iss from Gatehouse, which promises it', async (t) => {
  const { server, confidential } = await setUpGatehouse(t);
  const provider = await discoverProvider(server.url, { id: 'gatehouse', ...confidential });
  const { url, transaction } = beginSignIn(provider, redirectUri, ['openid']);
  const callback = await approveAtGatehouse(server, url);
  const mixedUp = new URL(callback);
  mixedUp.searchParams.set('iss', 'https://other-provider.example');
  await assert.rejects(completeSignIn(provider, mixedUp, transaction), assertOAuthError('invalid_request', /other-provider\.example/));
  const withoutIss = new URL(callback);
  withoutIss.searchParams.delete('iss');
  await assert.rejects(completeSignIn(provider, withoutIss, transaction), assertOAuthError('invalid_request', /\(none\)/));
  // The untouched callback still works: nothing above spent the code.
  const { profile } = await completeSignIn(provider, callback, transaction);
  assert.ok(profile.subject.length > 0);
});

test('a public client (no secret) signs in with PKCE and no client authentication', async (t) => {
  const { server, accountId, publicClientId } = await setUpGatehouse(t);
  const provider = await discoverProvider(server.url, { id: 'gatehouse', clientId: publicClientId });
  assert.equal(provider.tokenEndpointAuth, 'none');
  assert.equal(provider.clientSecret, undefined);
  const { url, transaction } = beginSignIn(provider, redirectUri, oidcScopes);
  const callback = await approveAtGatehouse(server, url);
  const { profile, tokens } = await completeSignIn(provider, callback, transaction);
  assert.equal(profile.subject, accountId);
  assert.equal(profile.email, 'alice@example.com');
  assert.equal(typeof tokens.refreshToken, 'string');
});

test('discovery refuses a document that names another issuer', async (t) => {
  const { server, confidential } = await setUpGatehouse(t);
  // The same server asked for under a different spelling of its issuer (OpenID Connect Discovery §4.3).
  const otherSpelling = server.url.replace('127.0.0.1', 'localhost');
  await assert.rejects(discoverProvider(otherSpelling, confidential), assertOAuthError('invalid_request', /names issuer/));
});

// ---------------------------------------------------------------------------------------------
// oidc-provider: an independent OpenID Connect server.

interface IndependentProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

async function startOidcProvider(t: TestContext): Promise<IndependentProvider> {
  const clientId = 'mine';
  const clientSecret = 'mine-secret-for-oidc-provider-0123456789abcdef';
  // The issuer must be known before listening: take a port, then build the provider for it.
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  const oidc = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    // Any login is accepted by the dev interactions; every account has these claims.
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, name: `User ${id}`, email: `${id}@independent.example`, email_verified: true };
        },
      };
    },
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    pkce: { required: () => true },
  });
  listener.on('request', oidc.callback());
  t.after(() => new Promise<void>((resolve) => listener.close(() => resolve())));
  return { issuer, clientId, clientSecret };
}

/** The dev interactions: the login form (any login), then the consent form, then the redirect. */
async function approveAtOidcProvider(issuer: string, authorizationUrl: string, login: string): Promise<URL> {
  const browser = new Browser(issuer);
  let response = await browser.get(authorizationUrl);
  const pagesSeen: string[] = [];
  for (let step = 0; step < 10; step++) {
    if (response.status >= 300 && response.status < 400) {
      const next = new URL(location(response), issuer);
      if (next.href.startsWith(redirectUri)) {
        assert.deepEqual(pagesSeen, ['login', 'consent']);
        return next;
      }
      response = await browser.get(next);
      continue;
    }
    assert.equal(response.status, 200, `unexpected ${response.status} at ${response.url}`);
    const page = await response.text();
    const prompt = hiddenFields(page).get('prompt');
    assert.ok(prompt === 'login' || prompt === 'consent', `expected a login or consent form at ${response.url}`);
    pagesSeen.push(prompt);
    const fields = new Map([['prompt', prompt]]);
    if (prompt === 'login') {
      fields.set('login', login);
      fields.set('password', 'anything');
    }
    response = await browser.post(formAction(page), fields);
  }
  assert.fail('the interaction did not end at the redirect URI');
}

test('oidc-provider (independent): discovery, sign in with ID token and userinfo, refresh', async (t) => {
  const independent = await startOidcProvider(t);
  const provider = await discoverProvider(independent.issuer, {
    id: 'independent',
    displayName: 'Independent OP',
    clientId: independent.clientId,
    clientSecret: independent.clientSecret,
  });
  assert.equal(provider.issuer, independent.issuer);
  assert.equal(provider.tokenEndpointAuth, 'client_secret_basic');
  assert.equal(provider.authorizationResponseIssParameter, true);
  // oidc-provider grants offline_access only when consent is prompted (OpenID Connect Core §11).
  provider.extraAuthorizationParams = { prompt: 'consent' };

  const { url, transaction } = beginSignIn(provider, redirectUri, ['openid', 'email', 'profile', 'offline_access']);
  const callback = await approveAtOidcProvider(independent.issuer, url, 'bob');
  assert.equal(callback.searchParams.get('state'), transaction.state);
  assert.equal(callback.searchParams.get('iss'), independent.issuer);

  const { profile, tokens } = await completeSignIn(provider, callback, transaction);
  assert.equal(profile.subject, 'bob');
  assert.equal(profile.email, 'bob@independent.example');
  assert.equal(profile.emailVerified, true);
  assert.equal(profile.name, 'User bob');
  assert.equal(typeof tokens.idToken, 'string');
  assert.equal(typeof tokens.refreshToken, 'string');
  assert.deepEqual(new Set(tokens.scopes), new Set(['openid', 'email', 'profile', 'offline_access']));

  const refreshed = await requestTokens(provider, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken! }, tokens.scopes, systemClock);
  assert.notEqual(refreshed.accessToken, tokens.accessToken);
});

test('oidc-provider (independent): a wrong nonce and a tampered state are refused', async (t) => {
  const independent = await startOidcProvider(t);
  const provider = await discoverProvider(independent.issuer, { id: 'independent', clientId: independent.clientId, clientSecret: independent.clientSecret });

  const first = beginSignIn(provider, redirectUri, ['openid']);
  const callback = await approveAtOidcProvider(independent.issuer, first.url, 'carol');
  const forged = new URL(callback);
  forged.searchParams.set('state', beginSignIn(provider, redirectUri, ['openid']).transaction.state);
  await assert.rejects(completeSignIn(provider, forged, first.transaction), assertOAuthError('invalid_request', /state/));
  const other = beginSignIn(provider, redirectUri, ['openid']).transaction;
  await assert.rejects(completeSignIn(provider, callback, { ...first.transaction, nonce: other.nonce }), assertOAuthError('invalid_request', /nonce/));
});
