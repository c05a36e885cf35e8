/**
 * OpenID Connect (issue 3, "Discovery and keys" and "OpenID Connect"): discovery, JWKS, signing
 * keys at rest and their rotation, ID tokens, userinfo, and the authorization request parameters
 * of Core §3.1.2.1. The checks of the OpenID Foundation's Basic OP and Config OP certification
 * plans are reproduced here as HTTP tests; each test names the module it stands for
 * (oidcc-…) where there is one.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import { SignJWT, createLocalJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import type { ClientRegistration } from '../../src/server/clients/register-client.ts';
import type { GatehouseConfig } from '../../src/server/config/defaults.ts';
import { KeyEncryption } from '../../src/server/keys/key-encryption.ts';
import { rotateSigningKeys } from '../../src/server/keys/rotate-keys.ts';
import { signIdToken } from '../../src/server/oidc/id-token.ts';
import {
  CookieJar,
  authorize,
  authorizeUrl,
  buildTestServer,
  callUserinfo,
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
  type AuthorizeOptions,
  type TestClient,
  type TestServer,
} from '../support/test-server.ts';

// ---------------------------------------------------------------------------------------------
// Helpers

/** The scopes an OpenID Connect client is registered for in these tests. */
const oidcScopes = ['openid', 'profile', 'email', 'offline_access', 'calendar.read'];

interface SetUpOptions {
  config?: Partial<GatehouseConfig>;
  client?: Partial<ClientRegistration>;
}

/** A fresh server with an OpenID Connect client and the user alice (not logged in). */
async function setUp(t: TestContext, options: SetUpOptions = {}) {
  const server = await buildTestServer(options.config);
  t.after(() => server.close());
  const client = await createTestClient(server, { scopes: oidcScopes, ...options.client });
  const user = await createTestUser(server);
  return { server, client, user };
}

function get(server: TestServer, url: string, jar?: CookieJar): Promise<LightMyRequestResponse> {
  return server.app.inject({ method: 'GET', url, headers: jar ? { cookie: jar.header() } : {} });
}

function post(server: TestServer, url: string, fields: Record<string, string> | Map<string, string>, jar?: CookieJar) {
  const body = form(fields);
  return server.app.inject({ method: 'POST', url, ...body, headers: { ...body.headers, ...(jar ? { cookie: jar.header() } : {}) } });
}

interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  id_token?: string;
  scope: string;
}

function tokensOf(response: LightMyRequestResponse): TokenSet {
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as TokenSet;
}

/** Consents if asked, redeems the code and returns the token response. */
async function obtainTokens(server: TestServer, jar: CookieJar, client: TestClient, options: AuthorizeOptions = {}): Promise<TokenSet> {
  return tokensOf(await redeemCode(server, client, await issueCode(server, jar, client, options)));
}

function idTokenOf(tokens: TokenSet): string {
  assert.equal(typeof tokens.id_token, 'string', `no id_token in ${JSON.stringify(tokens)}`);
  return tokens.id_token!;
}

async function fetchJwks(server: TestServer): Promise<{ keys: JWK[] }> {
  const response = await get(server, '/jwks');
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as { keys: JWK[] };
}

/**
 * Validates an ID token the way a relying party must (Core §3.1.3.7): signature against the
 * published /jwks, iss, aud, exp — at the server's (frozen) time.
 */
async function verifyIdToken(server: TestServer, idToken: string, client: TestClient) {
  const jwks = createLocalJWKSet(await fetchJwks(server));
  return jwtVerify(idToken, jwks, {
    issuer: server.config.issuer,
    audience: client.clientId,
    algorithms: ['RS256'],
    currentDate: new Date(server.clock.now()),
  });
}

/** Core §3.1.3.6, computed independently: base64url of the left 16 bytes of SHA-256 of the token. */
function expectedAtHash(accessToken: string): string {
  return Buffer.from(createHash('sha256').update(accessToken).digest()).subarray(0, 16).toString('base64url');
}

function nowSeconds(server: TestServer): number {
  return Math.floor(server.clock.now() / 1000);
}

/** A success redirect: back to the client with a code, state and iss, and no page on the way. */
function codeFrom(response: LightMyRequestResponse, expectedIssuer = issuer, state = 'xyz'): string {
  assert.equal(response.statusCode, 302, `expected a redirect with a code, got ${response.statusCode} ${response.headers.location ?? ''}`);
  const location = new URL(response.headers.location as string);
  assert.equal(`${location.origin}${location.pathname}`, redirectUri, location.toString());
  assert.equal(location.searchParams.get('error'), null, location.toString());
  assert.equal(location.searchParams.get('state'), state);
  assert.equal(location.searchParams.get('iss'), expectedIssuer);
  const code = location.searchParams.get('code');
  assert.ok(code !== null && code !== '', location.toString());
  return code;
}

/** RFC 6749 §4.1.2.1 / Core §3.1.2.6: an error redirect to the client with state and iss, no code. */
function assertErrorRedirect(response: LightMyRequestResponse, error: string, description?: RegExp): void {
  assert.ok(response.statusCode < 500, `never a 5xx: ${response.statusCode} ${response.body}`);
  assert.equal(response.statusCode, 302, response.body);
  const location = new URL(response.headers.location as string);
  assert.equal(`${location.origin}${location.pathname}`, redirectUri);
  assert.equal(location.searchParams.get('error'), error, location.searchParams.get('error_description') ?? '');
  assert.equal(location.searchParams.get('state'), 'xyz');
  assert.equal(location.searchParams.get('iss'), issuer);
  assert.equal(location.searchParams.get('code'), null);
  if (description !== undefined) assert.match(location.searchParams.get('error_description') ?? '', description);
}

/** A redirect to this server's login form; returns its URL (relative, as sent). */
function assertLoginRedirect(response: LightMyRequestResponse): string {
  assert.equal(response.statusCode, 302, response.body);
  const location = response.headers.location as string;
  assert.ok(location.startsWith('/login?'), `expected the login form, got ${location}`);
  return location;
}

/** An error page for the user: never a redirect (RFC 6749 §4.1.2.1). */
function assertErrorPage(response: LightMyRequestResponse, code: string): void {
  assert.equal(response.statusCode, 400, response.body);
  assert.match(String(response.headers['content-type']), /^text\/html/);
  assert.equal(response.headers.location, undefined);
  assert.ok(response.body.includes(`<code>${code}</code>`), response.body);
}

/**
 * Fills in the login form a redirect led to and follows the 303 back into /authorize.
 * `beforeReturn` runs between the login and following its redirect (time passing in a browser).
 */
async function completeLogin(
  server: TestServer,
  jar: CookieJar,
  loginLocation: string,
  username = 'alice',
  beforeReturn: () => void = () => {},
): Promise<LightMyRequestResponse> {
  const page = await get(server, loginLocation, jar);
  assert.equal(page.statusCode, 200, page.body);
  jar.store(page);
  const fields = formFields(page.body);
  const login = await post(server, '/login', { ...Object.fromEntries(fields), username, password }, jar);
  assert.equal(login.statusCode, 303, login.body);
  jar.store(login);
  const returnTo = login.headers.location as string;
  assert.ok(returnTo.startsWith('/authorize?'), returnTo);
  beforeReturn();
  const back = await get(server, returnTo, jar);
  jar.store(back);
  return back;
}

/** A logged-in browser that has already consented to `scope` for the client. */
async function consentedBrowser(server: TestServer, client: TestClient, scope = 'openid profile email offline_access', username = 'alice') {
  const jar = await logIn(server, username);
  const first = await obtainTokens(server, jar, client, { scope });
  return { jar, first };
}

/** The consent page, carrying the authorization request on to the decision. */
function assertConsentPage(response: LightMyRequestResponse): void {
  assert.equal(response.statusCode, 200, `expected the consent page, got ${response.statusCode} ${response.headers.location ?? ''}`);
  assert.match(String(response.headers['content-type']), /^text\/html/);
  assert.ok(formFields(response.body).has('client_id'), response.body);
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

// ---------------------------------------------------------------------------------------------

describe('discovery (Discovery 1.0 §3, RFC 8414) — oidcc-discovery-endpoint-verification', () => {
  const wellKnown = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

  test('both well-known paths serve the same JSON document, with the configured issuer byte for byte', async (t) => {
    const { server } = await setUp(t);
    const [oidc, oauth] = await Promise.all(wellKnown.map((path) => get(server, path)));
    for (const response of [oidc!, oauth!]) {
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^application\/json/);
    }
    assert.deepEqual(oidc!.json(), oauth!.json());
    assert.equal(oidc!.json().issuer, issuer);
    assert.ok(oidc!.body.includes(`"issuer":"${issuer}"`), oidc!.body);
  });

  test('every endpoint is listed under the issuer and actually answers there', async (t) => {
    const { server } = await setUp(t);
    const metadata = (await get(server, wellKnown[0]!)).json();
    const expected: Record<string, string> = {
      authorization_endpoint: '/authorize',
      token_endpoint: '/token',
      userinfo_endpoint: '/userinfo',
      jwks_uri: '/jwks',
      introspection_endpoint: '/introspect',
      revocation_endpoint: '/revoke',
    };
    for (const [name, path] of Object.entries(expected)) assert.equal(metadata[name], `${issuer}${path}`, name);
    // Each endpoint is routed: an empty request gets its protocol error, not a 404.
    assertErrorPage(await get(server, '/authorize'), 'invalid_request');
    const token = await post(server, '/token', {});
    assert.equal(token.statusCode, 400, token.body);
    assert.equal(token.json().error, 'invalid_request');
    const userinfo = await get(server, '/userinfo');
    assert.equal(userinfo.statusCode, 401);
    assert.equal(userinfo.json().error, 'invalid_token');
    assert.equal((await get(server, '/jwks')).statusCode, 200);
    for (const path of ['/introspect', '/revoke']) {
      const response = await post(server, path, { token: 'x' });
      assert.equal(response.statusCode, 401, `${path}: ${response.body}`);
      assert.equal(response.json().error, 'invalid_client');
    }
  });

  test('the document advertises what the server does (Config OP checks)', async (t) => {
    const { server } = await setUp(t);
    const metadata = (await get(server, wellKnown[0]!)).json();
    for (const scope of ['openid', 'profile', 'email', 'offline_access', 'calendar.read']) {
      assert.ok(metadata.scopes_supported.includes(scope), `scopes_supported lacks ${scope}`);
    }
    assert.deepEqual(metadata.response_types_supported, ['code']);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.ok(metadata.grant_types_supported.includes('authorization_code'));
    assert.ok(metadata.grant_types_supported.includes('refresh_token'));
    assert.ok(metadata.grant_types_supported.includes('client_credentials'));
    assert.ok(!metadata.grant_types_supported.includes('implicit'));
    assert.ok(!metadata.grant_types_supported.includes('password'));
    assert.ok(metadata.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.ok(metadata.token_endpoint_auth_methods_supported.includes('client_secret_post'));
    assert.ok(metadata.id_token_signing_alg_values_supported.includes('RS256'));
    assert.ok(!metadata.id_token_signing_alg_values_supported.includes('none'));
    assert.deepEqual(metadata.subject_types_supported, ['public']);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    for (const claim of ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'name', 'preferred_username', 'email', 'email_verified']) {
      assert.ok(metadata.claims_supported.includes(claim), `claims_supported lacks ${claim}`);
    }
    // Core §6 / Discovery §3: the request object is rejected, so the document must not promise it.
    assert.equal(metadata.request_parameter_supported, false);
    assert.equal(metadata.request_uri_parameter_supported, false);
    assert.deepEqual(metadata.response_modes_supported, ['query']);
  });

  test('an https issuer is published byte for byte and is the iss of responses and ID tokens — oidcc-discovery-issuer-not-matching-config', async (t) => {
    const custom = 'https://id.example.com';
    const { server, client } = await setUp(t, { config: { issuer: custom } });
    for (const path of wellKnown) {
      const metadata = (await get(server, path)).json();
      assert.equal(metadata.issuer, custom);
      for (const name of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint']) {
        assert.ok(metadata[name].startsWith(`${custom}/`), `${name}: ${metadata[name]}`);
      }
    }
    const jar = await logIn(server);
    const location = await authorize(server, jar, client, { scope: 'openid' });
    assert.equal(location.searchParams.get('iss'), custom);
    const tokens = tokensOf(await redeemCode(server, client, location.searchParams.get('code')!));
    const { payload } = await verifyIdToken(server, idTokenOf(tokens), client);
    assert.equal(payload.iss, custom);
  });
});

describe('keys (RFC 7517) — oidcc-discovery-jwks, oidcc-idtoken-rs256', () => {
  test('/jwks publishes RS256 and ES256 public keys with distinct kids and no private parts', async (t) => {
    const { server, client } = await setUp(t);
    await obtainTokens(server, await logIn(server), client, { scope: 'openid' });
    const response = await get(server, '/jwks');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/jwk-set\+json/);
    const { keys } = response.json() as { keys: JWK[] };
    const kids = keys.map((key) => key.kid);
    assert.ok(kids.every((kid) => typeof kid === 'string' && kid !== ''));
    assert.equal(new Set(kids).size, kids.length);
    const rsa = keys.find((key) => key.alg === 'RS256');
    const ec = keys.find((key) => key.alg === 'ES256');
    assert.ok(rsa, JSON.stringify(keys));
    assert.ok(ec, JSON.stringify(keys));
    assert.equal(rsa.kty, 'RSA');
    assert.ok(Buffer.from(rsa.n!, 'base64url').length >= 256, 'RSA modulus of at least 2048 bits');
    assert.equal(ec.kty, 'EC');
    assert.equal(ec.crv, 'P-256');
    for (const key of keys) {
      assert.equal(key.use, 'sig');
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(secret in key, false, `${key.kid} publishes "${secret}"`);
    }
  });

  test('an ID token is an RS256 JWS whose kid is published, and verifies against /jwks', async (t) => {
    const { server, client } = await setUp(t);
    const idToken = idTokenOf(await obtainTokens(server, await logIn(server), client, { scope: 'openid' }));
    const header = decodeProtectedHeader(idToken);
    assert.equal(header.alg, 'RS256');
    assert.equal(header.typ, 'JWT');
    const { keys } = await fetchJwks(server);
    assert.equal(keys.find((key) => key.kid === header.kid)?.alg, 'RS256');
    const { protectedHeader } = await verifyIdToken(server, idToken, client);
    assert.equal(protectedHeader.kid, header.kid);
  });

  test('private keys are stored encrypted: v1 sealed blobs, no "d" anywhere, unreadable under another key', async (t) => {
    const { server, client } = await setUp(t);
    await obtainTokens(server, await logIn(server), client, { scope: 'openid' });
    const { keys } = await fetchJwks(server);
    const db = new Database(server.config.databaseUrl.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
    t.after(() => db.close());
    const rows = db.prepare('SELECT * FROM signing_keys').all() as Record<string, unknown>[];
    assert.equal(rows.length, 2);
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        assert.ok(!String(value).includes('"d":'), `signing_keys.${column} holds a private "d" in clear`);
      }
      const sealed = row.private_jwk_encrypted as string;
      assert.ok(sealed.startsWith('v1.'), sealed.slice(0, 20));
      assert.equal(sealed.split('.').length, 4);
      // The private JWK repeats the public values; in clear they would show through.
      const published = keys.find((key) => key.kid === row.kid);
      assert.ok(published, `${String(row.kid)} is not published`);
      assert.ok(!sealed.includes(published.n ?? published.x!), 'the public part is visible in the sealed private key');
      assert.throws(() => new KeyEncryption(randomBytes(32)).decrypt(sealed), /cannot decrypt/);
    }
  });

  test('rotation: new kid signs, old kid stays published until its tokens expire, then goes — oidcc-rotate-server-keys', async (t) => {
    const { server, client } = await setUp(t);
    const { jar, first } = await consentedBrowser(server, client);
    const oldToken = idTokenOf(first);
    const oldKid = decodeProtectedHeader(oldToken).kid!;
    const oldKids = (await fetchJwks(server)).keys.map((key) => key.kid);

    const created = await rotateSigningKeys(server.ctx);
    assert.deepEqual(created.map((key) => key.alg).sort(), ['ES256', 'RS256']);
    const after = (await fetchJwks(server)).keys.map((key) => key.kid!);
    assert.deepEqual([...after].sort(), [...oldKids, ...created.map((key) => key.kid)].sort());

    const fresh = idTokenOf(await obtainTokens(server, jar, client, { scope: 'openid profile email offline_access' }));
    const newKid = decodeProtectedHeader(fresh).kid;
    assert.notEqual(newKid, oldKid);
    assert.equal(newKid, created.find((key) => key.alg === 'RS256')!.kid);
    await verifyIdToken(server, fresh, client);
    // A refresh signs with the new key too.
    assert.equal(decodeProtectedHeader(idTokenOf(tokensOf(await refresh(server, client, first.refresh_token!)))).kid, newKid);

    // The token signed before the rotation keeps verifying for as long as it lives (1 hour).
    server.clock.advance(3599);
    await verifyIdToken(server, oldToken, client);
    await server.storage.deleteExpired(server.clock.now(), 1000);
    assert.ok((await fetchJwks(server)).keys.some((key) => key.kid === oldKid));
    assert.equal((await server.storage.listSigningKeys()).length, 4);

    server.clock.advance(2);
    await server.storage.deleteExpired(server.clock.now(), 1000);
    const remaining = (await fetchJwks(server)).keys.map((key) => key.kid!);
    assert.deepEqual([...remaining].sort(), created.map((key) => key.kid).sort());
    assert.deepEqual((await server.storage.listSigningKeys()).map((key) => key.kid).sort(), created.map((key) => key.kid).sort());
  });

  test('rotation keeps old keys published for the longest access token lifetime of any client', async (t) => {
    const { server, client } = await setUp(t, { client: { accessTokenTtlSeconds: 7200 } });
    const idToken = idTokenOf(await obtainTokens(server, await logIn(server), client, { scope: 'openid' }));
    const oldKid = decodeProtectedHeader(idToken).kid;
    await rotateSigningKeys(server.ctx);
    server.clock.advance(3601);
    await server.storage.deleteExpired(server.clock.now(), 1000);
    assert.ok((await fetchJwks(server)).keys.some((key) => key.kid === oldKid));
    server.clock.advance(3600);
    await server.storage.deleteExpired(server.clock.now(), 1000);
    assert.ok(!(await fetchJwks(server)).keys.some((key) => key.kid === oldKid));
  });
});

describe('the ID token (Core §2, §3.1.3.6) — oidcc-server', () => {
  test('carries iss, sub, aud, exp, iat, auth_time, nonce, azp and a correct at_hash', async (t) => {
    const { server, client, user } = await setUp(t);
    const jar = await logIn(server);
    const loginTime = nowSeconds(server);
    server.clock.advance(30);
    const tokens = await obtainTokens(server, jar, client, { scope: 'openid', extra: { nonce: 'n-0S6_WzA2Mj' } });
    const { payload } = await verifyIdToken(server, idTokenOf(tokens), client);
    assert.equal(payload.iss, issuer);
    assert.equal(payload.sub, user.id);
    assert.equal(payload.aud, client.clientId);
    assert.equal(payload.azp, client.clientId);
    assert.equal(payload.iat, nowSeconds(server));
    assert.equal(payload.exp, nowSeconds(server) + 3600);
    assert.equal(payload.auth_time, loginTime);
    assert.equal(payload.nonce, 'n-0S6_WzA2Mj');
    assert.equal(payload.at_hash, expectedAtHash(tokens.access_token));
  });

  test('a request without nonce succeeds and its ID token has no nonce — oidcc-ensure-request-without-nonce-succeeds-for-code-flow', async (t) => {
    const { server, client } = await setUp(t);
    const tokens = await obtainTokens(server, await logIn(server), client, { scope: 'openid' });
    assert.equal('nonce' in decodeJwt(idTokenOf(tokens)), false);
  });

  test('a nonce is echoed exactly, whatever its characters', async (t) => {
    const { server, client } = await setUp(t);
    const nonce = 'ñ "quoted" & <tagged> +/=';
    const tokens = await obtainTokens(server, await logIn(server), client, { scope: 'openid', extra: { nonce } });
    assert.equal(decodeJwt(idTokenOf(tokens)).nonce, nonce);
  });

  test('no openid scope, no ID token', async (t) => {
    const { server, client } = await setUp(t);
    const tokens = await obtainTokens(server, await logIn(server), client, { scope: 'profile email', extra: { nonce: 'abc' } });
    assert.equal(tokens.id_token, undefined);
  });

  test('the ID token is also issued to a client authenticating with client_secret_post — oidcc-server-client-secret-post', async (t) => {
    const { server, client } = await setUp(t, { client: { tokenEndpointAuthMethod: 'client_secret_post' } });
    const code = await issueCode(server, await logIn(server), client, { scope: 'openid' });
    const body = form({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: rfc7636Verifier,
      client_id: client.clientId,
      client_secret: client.clientSecret!,
    });
    const tokens = tokensOf(await server.app.inject({ method: 'POST', url: '/token', ...body }));
    await verifyIdToken(server, idTokenOf(tokens), client);
  });

  test('scopes in another order, and POST /authorize, work the same — oidcc-ensure-other-scope-order-succeeds, oidcc-ensure-post-request-succeeds', async (t) => {
    const { server, client, user } = await setUp(t);
    const jar = await logIn(server);
    const tokens = await obtainTokens(server, jar, client, { scope: 'email openid' });
    assert.equal(decodeJwt(idTokenOf(tokens)).email, 'alice@example.com');
    const params = Object.fromEntries(new URL(authorizeUrl(client, { scope: 'email openid', extra: { nonce: 'p' } }), issuer).searchParams);
    const response = await post(server, '/authorize', params, jar);
    assert.equal(response.statusCode, 303, response.body);
    const code = new URL(response.headers.location as string).searchParams.get('code')!;
    const second = tokensOf(await redeemCode(server, client, code));
    const claims = decodeJwt(idTokenOf(second));
    assert.equal(claims.sub, user.id);
    assert.equal(claims.nonce, 'p');
  });
});

describe('claims by scope (Core §5.4) — oidcc-scope-profile, oidcc-scope-email, oidcc-userinfo-*', () => {
  const cases: { scope: string; present: string[]; absent: string[] }[] = [
    { scope: 'openid', present: [], absent: ['name', 'preferred_username', 'email', 'email_verified'] },
    { scope: 'openid profile', present: ['name', 'preferred_username'], absent: ['email', 'email_verified'] },
    { scope: 'openid email', present: ['email', 'email_verified'], absent: ['name', 'preferred_username'] },
    { scope: 'openid profile email', present: ['name', 'preferred_username', 'email', 'email_verified'], absent: [] },
  ];
  const values: Record<string, unknown> = {
    name: 'Alice Kim',
    preferred_username: 'alice',
    email: 'alice@example.com',
    email_verified: false,
  };

  for (const { scope, present, absent } of cases) {
    test(`scope "${scope}": the ID token and /userinfo release exactly ${present.length === 0 ? 'sub' : `sub, ${present.join(', ')}`}`, async (t) => {
      const { server, client, user } = await setUp(t);
      const tokens = await obtainTokens(server, await logIn(server), client, { scope });
      const idClaims = (await verifyIdToken(server, idTokenOf(tokens), client)).payload;
      const userinfo = await callUserinfo(server, tokens.access_token);
      assert.equal(userinfo.statusCode, 200, userinfo.body);
      const infoClaims = userinfo.json() as JWTPayload;
      for (const claims of [idClaims, infoClaims]) {
        assert.equal(claims.sub, user.id);
        for (const name of present) assert.equal(claims[name], values[name], name);
        for (const name of absent) assert.equal(name in claims, false, `${name} released for "${scope}"`);
      }
      assert.deepEqual(Object.keys(infoClaims).sort(), ['sub', ...present].sort());
    });
  }

  test('an account without name or email releases neither, even with profile and email', async (t) => {
    const { server, client } = await setUp(t);
    await createAccount({ username: 'bare', password }, server.ctx);
    const tokens = await obtainTokens(server, await logIn(server, 'bare'), client, { scope: 'openid profile email' });
    const claims = decodeJwt(idTokenOf(tokens));
    assert.equal(claims.preferred_username, 'bare');
    for (const name of ['name', 'email', 'email_verified']) assert.equal(name in claims, false, name);
  });
});

describe('userinfo (Core §5.3) — oidcc-userinfo-get, oidcc-userinfo-post-header, oidcc-userinfo-post-body', () => {
  async function withTokens(t: TestContext) {
    const { server, client, user } = await setUp(t);
    const tokens = await obtainTokens(server, await logIn(server), client, { scope: 'openid profile email' });
    const sub = decodeJwt(idTokenOf(tokens)).sub;
    return { server, client, user, tokens, sub };
  }

  test('GET with the Authorization header returns the claims, sub equal to the ID token', async (t) => {
    const { server, tokens, sub, user } = await withTokens(t);
    const response = await callUserinfo(server, tokens.access_token);
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.equal(response.json().sub, sub);
    assert.equal(sub, user.id);
  });

  test('POST with the Authorization header returns the same claims', async (t) => {
    const { server, tokens, sub } = await withTokens(t);
    const response = await server.app.inject({ method: 'POST', url: '/userinfo', headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), (await callUserinfo(server, tokens.access_token)).json());
    assert.equal(response.json().sub, sub);
  });

  test('POST with access_token in a form body returns the same claims (RFC 6750 §2.2)', async (t) => {
    const { server, tokens, sub } = await withTokens(t);
    const response = await post(server, '/userinfo', { access_token: tokens.access_token });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().sub, sub);
    assert.equal(response.json().email, 'alice@example.com');
  });

  test('the token in both the header and the body is invalid_request (RFC 6750 §2)', async (t) => {
    const { server, tokens } = await withTokens(t);
    const body = form({ access_token: tokens.access_token });
    const response = await server.app.inject({
      method: 'POST',
      url: '/userinfo',
      ...body,
      headers: { ...body.headers, authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'invalid_request');
  });

  test('no token → 401 with a bare Bearer challenge; an unknown or expired one → invalid_token', async (t) => {
    const { server, tokens } = await withTokens(t);
    const none = await get(server, '/userinfo');
    assert.equal(none.statusCode, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer /);
    assert.doesNotMatch(String(none.headers['www-authenticate']), /error=/);
    const unknown = await callUserinfo(server, 'x'.repeat(43));
    assert.equal(unknown.statusCode, 401);
    assert.equal(unknown.json().error, 'invalid_token');
    server.clock.advance(3600);
    const expired = await callUserinfo(server, tokens.access_token);
    assert.equal(expired.statusCode, 401);
    assert.equal(expired.json().error, 'invalid_token');
  });

  test('a token without openid, profile or email is insufficient_scope', async (t) => {
    const { server, client } = await setUp(t);
    const tokens = await obtainTokens(server, await logIn(server), client, { scope: 'calendar.read' });
    const response = await callUserinfo(server, tokens.access_token);
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().error, 'insufficient_scope');
  });
});

describe('code reuse (RFC 6749 §4.1.2) — oidcc-codereuse, oidcc-codereuse-30seconds', () => {
  for (const delay of [0, 30]) {
    test(`a code redeemed again${delay ? ` ${delay} seconds later` : ''} → invalid_grant, and the tokens of its first use are revoked`, async (t) => {
      const { server, client } = await setUp(t);
      const code = await issueCode(server, await logIn(server), client, { scope: 'openid offline_access' });
      const first = tokensOf(await redeemCode(server, client, code));
      server.clock.advance(delay);
      const second = await redeemCode(server, client, code);
      assert.equal(second.statusCode, 400);
      assert.equal(second.json().error, 'invalid_grant');
      assert.equal(second.json().id_token, undefined);
      assert.equal((await callUserinfo(server, first.access_token)).statusCode, 401);
      const refreshed = await refresh(server, client, first.refresh_token!);
      assert.equal(refreshed.statusCode, 400);
      assert.equal(refreshed.json().error, 'invalid_grant');
    });
  }
});

describe('redirect URI and response_type — oidcc-ensure-registered-redirect-uri, oidcc-response-type-missing', () => {
  test('an unregistered redirect URI gets an error page, never a redirect', async (t) => {
    const { server, client } = await setUp(t);
    const jar = await logIn(server);
    for (const uri of ['https://attacker.example/callback', `${redirectUri}/extra`, `${redirectUri}?x=1`]) {
      assertErrorPage(await get(server, authorizeUrl(client, { scope: 'openid', redirectUri: uri }), jar), 'invalid_request');
    }
    const params = new URL(authorizeUrl(client, { scope: 'openid' }), issuer).searchParams;
    params.delete('redirect_uri');
    assertErrorPage(await get(server, `/authorize?${params}`, jar), 'invalid_request');
  });

  test('a missing response_type is an invalid_request redirect', async (t) => {
    const { server, client } = await setUp(t);
    const params = new URL(authorizeUrl(client, { scope: 'openid' }), issuer).searchParams;
    params.delete('response_type');
    assertErrorRedirect(await get(server, `/authorize?${params}`, await logIn(server)), 'invalid_request', /response_type/);
    assertErrorRedirect(await get(server, `/authorize?${params}`), 'invalid_request', /response_type/);
  });

  test('response_type id_token or "code id_token" is unsupported_response_type', async (t) => {
    const { server, client } = await setUp(t);
    for (const responseType of ['id_token', 'code id_token', 'token']) {
      const response = await get(server, authorizeUrl(client, { scope: 'openid', extra: { response_type: responseType, nonce: 'n' } }));
      assertErrorRedirect(response, 'unsupported_response_type');
    }
  });

  test('scope openid for a client not registered for it is invalid_scope', async (t) => {
    const { server } = await setUp(t);
    const plain = await createTestClient(server);
    const response = await get(server, authorizeUrl(plain, { scope: 'openid profile' }), await logIn(server));
    assertErrorRedirect(response, 'invalid_scope', /openid/);
  });
});

describe('prompt (Core §3.1.2.1) — oidcc-prompt-none-not-logged-in, oidcc-prompt-none-logged-in, oidcc-prompt-login', () => {
  test('prompt=none without a session → login_required redirect', async (t) => {
    const { server, client } = await setUp(t);
    assertErrorRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { prompt: 'none' } })), 'login_required');
  });

  test('prompt=none with a session but no consent → consent_required redirect, and nothing is remembered', async (t) => {
    const { server, client } = await setUp(t);
    const jar = await logIn(server);
    const url = authorizeUrl(client, { scope: 'openid profile', extra: { prompt: 'none' } });
    assertErrorRedirect(await get(server, url, jar), 'consent_required');
    assertErrorRedirect(await get(server, url, jar), 'consent_required');
  });

  test('prompt=none with a session and remembered consent → a code straight away', async (t) => {
    const { server, client, user } = await setUp(t);
    const { jar } = await consentedBrowser(server, client);
    const response = await get(server, authorizeUrl(client, { scope: 'openid profile', extra: { prompt: 'none', nonce: 'silent' } }), jar);
    const tokens = tokensOf(await redeemCode(server, client, codeFrom(response)));
    const { payload } = await verifyIdToken(server, idTokenOf(tokens), client);
    assert.equal(payload.sub, user.id);
    assert.equal(payload.nonce, 'silent');
  });

  test('prompt=none with consent for fewer scopes than asked → consent_required', async (t) => {
    const { server, client } = await setUp(t);
    const { jar } = await consentedBrowser(server, client, 'openid');
    assertErrorRedirect(await get(server, authorizeUrl(client, { scope: 'openid email', extra: { prompt: 'none' } }), jar), 'consent_required');
  });

  test('prompt=none combined with another value, or an unknown value, is invalid_request', async (t) => {
    const { server, client } = await setUp(t);
    const jar = await logIn(server);
    for (const prompt of ['none login', 'consent none', 'bogus']) {
      assertErrorRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { prompt } }), jar), 'invalid_request', /prompt/);
    }
  });

  test('prompt=login shows the login form despite a session; the new ID token has the new auth_time', async (t) => {
    const { server, client, user } = await setUp(t);
    const firstLogin = nowSeconds(server);
    const { jar, first } = await consentedBrowser(server, client);
    assert.equal(decodeJwt(idTokenOf(first)).auth_time, firstLogin);
    server.clock.advance(600);
    const response = await get(server, authorizeUrl(client, { scope: 'openid', extra: { prompt: 'login', nonce: 'again' } }), jar);
    const loginLocation = assertLoginRedirect(response);
    const secondLogin = nowSeconds(server);
    const back = await completeLogin(server, jar, loginLocation);
    const tokens = tokensOf(await redeemCode(server, client, codeFrom(back)));
    const { payload } = await verifyIdToken(server, idTokenOf(tokens), client);
    assert.equal(payload.sub, user.id);
    assert.equal(payload.auth_time, secondLogin);
    assert.notEqual(payload.auth_time, firstLogin);
    assert.equal(payload.nonce, 'again');
  });

  test('prompt=login cannot be satisfied by the old session: the return URL alone still needs a new login', async (t) => {
    const { server, client } = await setUp(t);
    const { jar } = await consentedBrowser(server, client);
    server.clock.advance(60);
    const loginLocation = assertLoginRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { prompt: 'login' } }), jar));
    const returnTo = new URL(loginLocation, issuer).searchParams.get('return_to')!;
    // Skipping the form and going straight back with the old session does not pass.
    assertLoginRedirect(await get(server, returnTo, jar));
  });

  test('prompt=consent shows the consent page although consent is remembered', async (t) => {
    const { server, client } = await setUp(t);
    const { jar } = await consentedBrowser(server, client);
    const silent = await get(server, authorizeUrl(client, { scope: 'openid profile' }), jar);
    codeFrom(silent);
    const response = await get(server, authorizeUrl(client, { scope: 'openid profile', extra: { prompt: 'consent' } }), jar);
    assert.equal(response.statusCode, 200, response.headers.location as string);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.equal(formFields(response.body).get('prompt'), 'consent');
    const location = await authorize(server, jar, client, { scope: 'openid profile', extra: { prompt: 'consent' } });
    tokensOf(await redeemCode(server, client, location.searchParams.get('code')!));
  });
});

describe('max_age (Core §3.1.2.1) — oidcc-max-age-1, oidcc-max-age-10000', () => {
  test('a session older than max_age must log in again; the ID token carries the new auth_time', async (t) => {
    const { server, client } = await setUp(t);
    const firstLogin = nowSeconds(server);
    const { jar } = await consentedBrowser(server, client);
    server.clock.advance(120);
    const loginLocation = assertLoginRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { max_age: '60' } }), jar));
    const secondLogin = nowSeconds(server);
    const back = await completeLogin(server, jar, loginLocation);
    const { payload } = await verifyIdToken(server, idTokenOf(tokensOf(await redeemCode(server, client, codeFrom(back)))), client);
    assert.equal(payload.auth_time, secondLogin);
    assert.notEqual(payload.auth_time, firstLogin);
  });

  test('max_age=1 after a one-second wait forces a login (oidcc-max-age-1)', async (t) => {
    const { server, client } = await setUp(t);
    const { jar } = await consentedBrowser(server, client);
    server.clock.advance(2);
    assertLoginRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { max_age: '1' } }), jar));
  });

  test('a session younger than max_age passes silently; auth_time is the original login', async (t) => {
    const { server, client } = await setUp(t);
    const firstLogin = nowSeconds(server);
    const { jar } = await consentedBrowser(server, client);
    server.clock.advance(120);
    const response = await get(server, authorizeUrl(client, { scope: 'openid', extra: { max_age: '10000' } }), jar);
    const { payload } = await verifyIdToken(server, idTokenOf(tokensOf(await redeemCode(server, client, codeFrom(response)))), client);
    assert.equal(payload.auth_time, firstLogin);
  });

  test('max_age=0 is prompt=login (Core §3.1.2.1): a login even for a session of this very instant', async (t) => {
    const { server, client } = await setUp(t);
    const { jar } = await consentedBrowser(server, client);
    assertLoginRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { max_age: '0' } }), jar));
  });

  test('the login that max_age forces completes the request, even when following the redirect back takes a moment', async (t) => {
    const { server, client } = await setUp(t);
    const { jar } = await consentedBrowser(server, client);
    for (const maxAge of ['0', '5']) {
      server.clock.advance(600);
      const loginLocation = assertLoginRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { max_age: maxAge } }), jar));
      const loginTime = nowSeconds(server);
      const back = await completeLogin(server, jar, loginLocation, 'alice', () => server.clock.advance(10));
      const { payload } = await verifyIdToken(server, idTokenOf(tokensOf(await redeemCode(server, client, codeFrom(back)))), client);
      assert.equal(payload.auth_time, loginTime, `max_age=${maxAge}`);
    }
  });

  test('prompt=none with a session older than max_age → login_required', async (t) => {
    const { server, client } = await setUp(t);
    const { jar } = await consentedBrowser(server, client);
    server.clock.advance(120);
    assertErrorRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { max_age: '60', prompt: 'none' } }), jar), 'login_required');
  });

  test('max_age that is not a whole number of seconds is invalid_request', async (t) => {
    const { server, client } = await setUp(t);
    for (const maxAge of ['-1', '1.5', 'abc', '99999999999']) {
      assertErrorRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { max_age: maxAge } })), 'invalid_request', /max_age/);
    }
  });
});

describe('id_token_hint (Core §3.1.2.1) — oidcc-id-token-hint', () => {
  test("a hint naming the session's user passes silently with prompt=none, even once the hint has expired", async (t) => {
    const { server, client, user } = await setUp(t);
    const { jar, first } = await consentedBrowser(server, client);
    const hint = idTokenOf(first);
    for (const wait of [0, 3601]) {
      server.clock.advance(wait);
      const response = await get(server, authorizeUrl(client, { scope: 'openid', extra: { prompt: 'none', id_token_hint: hint } }), jar);
      const tokens = tokensOf(await redeemCode(server, client, codeFrom(response)));
      assert.equal(decodeJwt(idTokenOf(tokens)).sub, user.id);
    }
  });

  test("a hint naming another user than the session's forces a login (prompt=none → login_required)", async (t) => {
    const { server, client } = await setUp(t);
    const bob = await createTestUser(server, 'bob');
    const bobTokens = await consentedBrowser(server, client, 'openid profile email offline_access', 'bob');
    const { jar } = await consentedBrowser(server, client);
    const hint = idTokenOf(bobTokens.first);
    assertErrorRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { prompt: 'none', id_token_hint: hint } }), jar), 'login_required');
    const loginLocation = assertLoginRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { id_token_hint: hint } }), jar));
    const back = await completeLogin(server, jar, loginLocation, 'bob');
    const tokens = tokensOf(await redeemCode(server, client, codeFrom(back)));
    assert.equal(decodeJwt(idTokenOf(tokens)).sub, bob.id);
  });

  test('a valid hint without a session → login_required with prompt=none', async (t) => {
    const { server, client } = await setUp(t);
    const { first } = await consentedBrowser(server, client);
    const response = await get(server, authorizeUrl(client, { scope: 'openid', extra: { prompt: 'none', id_token_hint: idTokenOf(first) } }));
    assertErrorRedirect(response, 'login_required');
  });

  test('malformed, unsigned, foreign-key, tampered and other-client hints → invalid_request redirect, never a 5xx', async (t) => {
    const { server, client } = await setUp(t);
    const other = await createTestClient(server, { scopes: oidcScopes, name: 'Other' });
    const { jar, first } = await consentedBrowser(server, client);
    const valid = idTokenOf(first);
    const otherClientToken = idTokenOf(await obtainTokens(server, jar, other, { scope: 'openid' }));
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const claims = decodeJwt(valid);
    const { kid } = decodeProtectedHeader(valid);
    const stranger = await generateKeyPair('RS256');
    const sign = (kidValue: string, alg = 'RS256', key: CryptoKey | Uint8Array = stranger.privateKey) =>
      new SignJWT({ ...claims }).setProtectedHeader({ alg, kid: kidValue, typ: 'JWT' }).sign(key);
    const publicJwk = (await fetchJwks(server)).keys.find((key) => key.kid === kid)!;
    const middle = Math.floor(signature.length / 2);
    const flipped = signature.slice(0, middle) + (signature[middle] === 'A' ? 'B' : 'A') + signature.slice(middle + 1);
    const hints: Record<string, string> = {
      'not a JWT': 'not-a-jwt',
      'three garbage parts': 'a.b.c',
      'two parts': `${header}.${payload}`,
      'a JWE-like five parts': `${header}.${payload}.${signature}.x.y`,
      'alg none': `${base64urlJson({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'alg none with the real kid': `${base64urlJson({ alg: 'none', kid })}.${payload}.${signature}`,
      'an unknown kid': await sign('unknown-kid'),
      'the real kid, a foreign key': await sign(kid!),
      'HS256 keyed with the public key': await sign(kid!, 'HS256', new TextEncoder().encode(JSON.stringify(publicJwk))),
      'a tampered payload': `${header}.${base64urlJson({ ...claims, sub: 'someone-else' })}.${signature}`,
      'a tampered signature': `${header}.${payload}.${flipped}`,
      'a header that is not JSON': `${Buffer.from('{nope').toString('base64url')}.${payload}.${signature}`,
      "another client's ID token": otherClientToken,
      'far too long': `${header}.${'A'.repeat(9000)}.${signature}`,
    };
    for (const [what, hint] of Object.entries(hints)) {
      for (const prompt of ['none', undefined]) {
        const extra: Record<string, string> = { id_token_hint: hint, ...(prompt ? { prompt } : {}) };
        const response = await get(server, authorizeUrl(client, { scope: 'openid', extra }), jar);
        assert.ok(response.statusCode < 500, `${what}: ${response.statusCode}`);
        assert.equal(new URL(response.headers.location as string, issuer).searchParams.get('error'), 'invalid_request', `${what} (prompt=${prompt})`);
        assertErrorRedirect(response, 'invalid_request', /id_token_hint/);
      }
    }
    // The server is still fine afterwards.
    codeFrom(await get(server, authorizeUrl(client, { scope: 'openid', extra: { prompt: 'none', id_token_hint: valid } }), jar));
  });

  test('an ID token of another server (its own issuer and keys) is invalid_request', async (t) => {
    const { server, client } = await setUp(t);
    const elsewhere = await setUp(t, { config: { issuer: 'https://elsewhere.example' } });
    const foreign = idTokenOf(await obtainTokens(elsewhere.server, await logIn(elsewhere.server), elsewhere.client, { scope: 'openid' }));
    const { jar } = await consentedBrowser(server, client);
    const response = await get(server, authorizeUrl(client, { scope: 'openid', extra: { prompt: 'none', id_token_hint: foreign } }), jar);
    assertErrorRedirect(response, 'invalid_request', /id_token_hint/);
  });
});

describe('other request parameters (Core §3.1.2.1, §5.5, §6)', () => {
  test('login_hint pre-fills the username on the login page (escaped) — oidcc-login-hint', async (t) => {
    const { server, client } = await setUp(t);
    const jar = new CookieJar();
    const loginLocation = assertLoginRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { login_hint: 'alice' } }), jar));
    assert.equal(new URL(loginLocation, issuer).searchParams.get('login_hint'), 'alice');
    const page = await get(server, loginLocation, jar);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<input type="text" id="username" name="username" value="alice"/);
    assertConsentPage(await completeLogin(server, jar, loginLocation));

    const hostile = assertLoginRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { login_hint: '"><script>x</script>' } })));
    const hostilePage = await get(server, hostile);
    assert.ok(!hostilePage.body.includes('<script>x'), 'login_hint must be escaped');
    assert.match(hostilePage.body, /name="username" value="&quot;&gt;&lt;script&gt;x&lt;\/script&gt;"/);
  });

  test('ui_locales, claims_locales, display, acr_values, claims and unknown parameters are accepted — oidcc-ui-locales, oidcc-display-*, oidcc-ensure-request-with-acr-values-succeeds, oidcc-claims-essential, oidcc-ensure-request-with-unknown-parameter-succeeds', async (t) => {
    const { server, client } = await setUp(t);
    const { jar } = await consentedBrowser(server, client);
    const accepted: Record<string, string>[] = [
      { ui_locales: 'se fr-CA en' },
      { claims_locales: 'de' },
      { display: 'page' },
      { display: 'popup' },
      { acr_values: 'urn:mace:incommon:iap:silver 1 2' },
      { claims: JSON.stringify({ userinfo: { name: { essential: true } }, id_token: { auth_time: { essential: true } } }) },
      { claims: '{}' },
      { extra_parameter: 'ignored' },
    ];
    for (const extra of accepted) {
      const response = await get(server, authorizeUrl(client, { scope: 'openid profile', extra }), jar);
      const tokens = tokensOf(await redeemCode(server, client, codeFrom(response)));
      await verifyIdToken(server, idTokenOf(tokens), client);
    }
  });

  test('the claims parameter travels through login and consent unharmed', async (t) => {
    const { server, client } = await setUp(t);
    const jar = new CookieJar();
    const claims = JSON.stringify({ userinfo: { email: { essential: true } } });
    const loginLocation = assertLoginRedirect(await get(server, authorizeUrl(client, { scope: 'openid email', extra: { claims, ui_locales: 'fr' } }), jar));
    const consent = await completeLogin(server, jar, loginLocation);
    assert.equal(consent.statusCode, 200);
    assert.equal(formFields(consent.body).get('claims'), claims);
    assertConsentPage(consent);
  });

  test('claims that are not a JSON object are invalid_request', async (t) => {
    const { server, client } = await setUp(t);
    for (const claims of ['{not json', '[1]', '"text"', 'null', '42']) {
      assertErrorRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { claims } })), 'invalid_request', /claims/);
    }
  });

  test('request → request_not_supported, request_uri → request_uri_not_supported — oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported, oidcc-request-uri-unsigned', async (t) => {
    const { server, client } = await setUp(t);
    const jar = await logIn(server);
    const requestObject = `${base64urlJson({ alg: 'none' })}.${base64urlJson({ client_id: client.clientId, scope: 'openid' })}.`;
    for (const session of [undefined, jar]) {
      assertErrorRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { request: requestObject } }), session), 'request_not_supported');
      assertErrorRedirect(
        await get(server, authorizeUrl(client, { scope: 'openid', extra: { request_uri: 'https://client.example/request.jwt' } }), session),
        'request_uri_not_supported',
      );
    }
  });

  test('response_mode other than query is invalid_request; query is accepted', async (t) => {
    const { server, client } = await setUp(t);
    const { jar } = await consentedBrowser(server, client);
    for (const mode of ['fragment', 'form_post', 'jwt']) {
      assertErrorRedirect(await get(server, authorizeUrl(client, { scope: 'openid', extra: { response_mode: mode } }), jar), 'invalid_request', /response_mode/);
    }
    codeFrom(await get(server, authorizeUrl(client, { scope: 'openid', extra: { response_mode: 'query' } }), jar));
  });
});

describe('refresh and offline_access (Core §11, §12) — oidcc-refresh-token', () => {
  test('a refresh returns a fresh ID token: same sub, aud, azp, auth_time; new iat and exp; no nonce; its own at_hash', async (t) => {
    const { server, client } = await setUp(t);
    const jar = await logIn(server);
    const loginTime = nowSeconds(server);
    const first = await obtainTokens(server, jar, client, { scope: 'openid profile offline_access', extra: { nonce: 'once' } });
    const original = (await verifyIdToken(server, idTokenOf(first), client)).payload;
    assert.equal(original.nonce, 'once');
    server.clock.advance(300);
    const second = tokensOf(await refresh(server, client, first.refresh_token!));
    const { payload } = await verifyIdToken(server, idTokenOf(second), client);
    assert.equal(payload.iss, issuer);
    assert.equal(payload.sub, original.sub);
    assert.equal(payload.aud, original.aud);
    assert.equal(payload.azp, client.clientId);
    assert.equal(payload.auth_time, loginTime);
    assert.equal(payload.auth_time, original.auth_time);
    assert.equal(payload.iat, original.iat! + 300);
    assert.equal(payload.exp, payload.iat! + 3600);
    assert.equal('nonce' in payload, false);
    assert.equal(payload.at_hash, expectedAtHash(second.access_token));
    assert.equal(payload.name, 'Alice Kim');
    assert.ok(second.refresh_token && second.refresh_token !== first.refresh_token);
    // And again from the rotated refresh token.
    server.clock.advance(300);
    const third = tokensOf(await refresh(server, client, second.refresh_token));
    assert.equal((await verifyIdToken(server, idTokenOf(third), client)).payload.auth_time, loginTime);
  });

  test('a refresh narrowed to scopes without openid returns no ID token', async (t) => {
    const { server, client } = await setUp(t);
    const first = await obtainTokens(server, await logIn(server), client, { scope: 'openid offline_access calendar.read' });
    const narrowed = tokensOf(await refresh(server, client, first.refresh_token!, { scope: 'calendar.read' }));
    assert.equal(narrowed.id_token, undefined);
    assert.equal(narrowed.scope, 'calendar.read');
  });

  test('an OpenID Connect request without offline_access gets no refresh token; with it, one', async (t) => {
    const { server, client } = await setUp(t);
    const jar = await logIn(server);
    const without = await obtainTokens(server, jar, client, { scope: 'openid profile' });
    assert.equal(without.refresh_token, undefined);
    idTokenOf(without);
    const withOffline = await obtainTokens(server, jar, client, { scope: 'openid profile offline_access' });
    assert.equal(typeof withOffline.refresh_token, 'string');
    idTokenOf(withOffline);
  });

  test('a plain OAuth request (no openid) still gets a refresh token and no ID token', async (t) => {
    const { server, client } = await setUp(t);
    const tokens = await obtainTokens(server, await logIn(server), client, { scope: 'profile calendar.read' });
    assert.equal(typeof tokens.refresh_token, 'string');
    assert.equal(tokens.id_token, undefined);
    tokensOf(await refresh(server, client, tokens.refresh_token!));
  });
});

test('an ID token is signed after its code is spent, so without the signing threads it is signed on the event loop and still verifies', async (t) => {
  const { server, client, user } = await setUp(t);
  const jar = await logIn(server);
  const tokens = await obtainTokens(server, jar, client, { scope: 'openid profile' });
  const { payload: fromEndpoint } = await verifyIdToken(server, idTokenOf(tokens), client);
  assert.equal(fromEndpoint.at_hash, expectedAtHash(tokens.access_token));
  // A lost thread, as `close()` leaves it: every signature sent to it fails.
  await server.ctx.signingThreads.close();
  const idToken = await signIdToken(
    { account: user, client: (await server.storage.findClient(client.clientId))!, scopes: ['openid', 'profile'], authTime: server.clock.now(), nonce: 'n-0S6', accessToken: tokens.access_token },
    server.storage,
    server.ctx,
  );
  const { payload } = await verifyIdToken(server, idToken, client);
  assert.equal(payload.sub, user.id);
  assert.equal(payload.nonce, 'n-0S6');
  assert.equal(payload.at_hash, expectedAtHash(tokens.access_token));
  assert.equal(payload.name, 'Alice Kim');
});
