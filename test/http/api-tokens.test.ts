import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import type { ClientRegistration } from '../../src/server/clients/register-client.ts';
import type { GatehouseConfig } from '../../src/server/config/defaults.ts';
import { hashSecret } from '../../src/server/keys/opaque-secret.ts';
import type { ClientRecord } from '../../src/storage/storage.ts';
import {
  authorize,
  authorizeUrl,
  buildTestServer,
  callUserinfo,
  createTestClient,
  createTestUser,
  form,
  issueCode,
  issuer,
  logIn,
  redeemCode,
  redirectUri,
  refresh,
  rfc7636Verifier,
  type AuthorizeOptions,
  type CookieJar,
  type TestClient,
  type TestServer,
} from '../support/test-server.ts';

/**
 * Tokens for APIs: JWT access tokens (RFC 9068), resource indicators (RFC 8707), introspection
 * (RFC 7662), revocation (RFC 7009) and the client credentials grant (RFC 6749 §4.4).
 */

const calendarApi = 'https://api.example/calendar';
const contactsApi = 'https://api.example/contacts';
const mailApi = 'https://api.example/mail';
const opaqueToken = /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/;
const oidcScopes = ['openid', 'profile', 'email', 'calendar.read', 'offline_access'];

interface SetUpOptions {
  config?: Partial<GatehouseConfig>;
  client?: Partial<ClientRegistration>;
}

/** A fresh server with a confidential client, a user and a logged-in browser. */
async function setUp(t: TestContext, options: SetUpOptions = {}) {
  const server = await buildTestServer(options.config);
  t.after(() => server.close());
  const client = await createTestClient(server, options.client);
  const user = await createTestUser(server);
  const jar = await logIn(server);
  /** Runs the code flow to its end and returns the token response. */
  const tokens = async (authorizeOptions: AuthorizeOptions = {}, tokenFields: Record<string, string> = {}, forClient: TestClient = client) => {
    const code = await issueCode(server, jar, forClient, { scope: 'profile calendar.read', ...authorizeOptions });
    return assertTokens(await redeemCode(server, forClient, code, tokenFields));
  };
  return { server, client, user, jar, tokens };
}

interface Tokens {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  id_token?: string;
  scope: string;
}

function assertTokens(response: LightMyRequestResponse): Tokens {
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as Tokens;
}

/** RFC 6749 §5.2: a JSON error with the code and a description. */
function assertError(response: LightMyRequestResponse, status: number, error: string, description?: RegExp) {
  assert.equal(response.statusCode, status, response.body);
  assert.match(response.headers['content-type'] as string, /^application\/json/);
  const body = response.json() as { error: string; error_description: string };
  assert.equal(body.error, error, body.error_description);
  assert.equal(typeof body.error_description, 'string');
  if (description !== undefined) assert.match(body.error_description, description);
}

function post(server: TestServer, url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const body = form(fields);
  return server.app.inject({ method: 'POST', url, payload: body.payload, headers: { ...body.headers, ...headers } });
}

function introspect(server: TestServer, client: TestClient, token: string, fields: Record<string, string> = {}) {
  return post(server, '/introspect', { token, ...fields }, { authorization: client.basic });
}

function revoke(server: TestServer, client: TestClient, token: string, fields: Record<string, string> = {}) {
  return post(server, '/revoke', { token, ...fields }, { authorization: client.basic });
}

function clientCredentials(server: TestServer, client: TestClient, fields: Record<string, string> = {}) {
  return post(server, '/token', { grant_type: 'client_credentials', ...fields }, { authorization: client.basic });
}

async function introspection(server: TestServer, client: TestClient, token: string, fields: Record<string, string> = {}) {
  const response = await introspect(server, client, token, fields);
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.headers['cache-control'], 'no-store');
  return response.json() as Record<string, unknown>;
}

async function jwks(server: TestServer): Promise<JSONWebKeySet> {
  const response = await server.app.inject({ method: 'GET', url: '/jwks' });
  assert.equal(response.statusCode, 200);
  return response.json() as JSONWebKeySet;
}

/** Verifies a JWT access token the way an API would: /jwks alone, `typ` at+jwt (RFC 9068 §4). */
async function verifyAccessToken(server: TestServer, token: string, audience?: string) {
  return jwtVerify(token, createLocalJWKSet(await jwks(server)), {
    typ: 'at+jwt',
    issuer,
    ...(audience === undefined ? {} : { audience }),
    currentDate: new Date(server.clock.now()),
  });
}

/** /authorize with a query of repeated parameters (several `resource`s), consenting when asked. */
async function authorizeWith(server: TestServer, jar: CookieJar, client: TestClient, extra: [string, string][], options: AuthorizeOptions = {}) {
  const query = new URLSearchParams(extra);
  const url = `${authorizeUrl(client, { scope: 'profile calendar.read', ...options })}&${query}`;
  const response = await server.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
  jar.store(response);
  if (response.statusCode === 302) return new URL(response.headers.location as string);
  assert.equal(response.statusCode, 200, response.body);
  // The consent form carries every `resource` on to the decision (`formFields` would keep only the last).
  const fields: [string, string][] = [...hiddenFields(response.body), ['decision', 'allow']];
  const body = new URLSearchParams(fields).toString();
  const decision = await server.app.inject({
    method: 'POST',
    url: '/authorize/decision',
    payload: body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
  });
  assert.equal(decision.statusCode, 303, decision.body);
  return new URL(decision.headers.location as string);
}

/** Every hidden field of a form, repeated names included, in order. */
function hiddenFields(page: string): [string, string][] {
  const unescape = (text: string) =>
    text.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
  return [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((match) => [unescape(match[1]!), unescape(match[2]!)]);
}

function codeOf(location: URL): string {
  const code = location.searchParams.get('code');
  assert.ok(code !== null, `no code in ${location}`);
  return code;
}

function nowSeconds(server: TestServer): number {
  return Math.floor(server.clock.now() / 1000);
}

// JWT access tokens (RFC 9068)

test('a client registered for JWT access tokens gets RFC 9068 tokens that verify with /jwks alone', async (t) => {
  const { server, client, user, tokens } = await setUp(t, { client: { accessTokenFormat: 'jwt' } });
  const issued = await tokens();
  const header = decodeProtectedHeader(issued.access_token);
  assert.equal(header.typ, 'at+jwt');
  assert.ok(typeof header.kid === 'string' && header.kid !== '');
  assert.ok((await jwks(server)).keys.some((key) => key.kid === header.kid), 'the kid is published at /jwks');

  const { payload, protectedHeader } = await verifyAccessToken(server, issued.access_token, issuer);
  assert.equal(protectedHeader.typ, 'at+jwt');
  assert.notEqual(protectedHeader.alg, 'none');
  assert.equal(payload.iss, issuer);
  assert.equal(payload.sub, user.id);
  // With no resource named, the audience is this server itself (the token is good for /userinfo).
  assert.equal(payload.aud, issuer);
  assert.equal(payload.client_id, client.clientId);
  assert.equal(payload.scope, 'profile calendar.read');
  assert.equal(payload.iat, nowSeconds(server));
  assert.equal(payload.exp, nowSeconds(server) + 3600);
  assert.equal(issued.expires_in, 3600);
  assert.match(payload.jti!, /^[0-9a-f]{43}$/);

  // Another token of the same grant has its own jti.
  const refreshed = assertTokens(await refresh(server, client, issued.refresh_token!));
  const second = await verifyAccessToken(server, refreshed.access_token, issuer);
  assert.notEqual(second.payload.jti, payload.jti);
  assert.notEqual(refreshed.access_token, issued.access_token);
});

test('a JWT access token is stored by its hash: it works at /userinfo, is introspectable and revocable', async (t) => {
  const { server, client, user, tokens } = await setUp(t, { client: { accessTokenFormat: 'jwt' } });
  const issued = await tokens();
  assert.ok(await server.storage.findAccessToken(hashSecret(issued.access_token)), 'the hash of the JWT is stored');

  const info = await callUserinfo(server, issued.access_token);
  assert.equal(info.statusCode, 200, info.body);
  assert.equal((info.json() as { sub: string }).sub, user.id);

  const described = await introspection(server, client, issued.access_token);
  assert.equal(described.active, true);
  assert.equal(described.sub, user.id);
  assert.equal(described.client_id, client.clientId);
  assert.equal(described.token_type, 'Bearer');
  const claims = decodeJwt(issued.access_token);
  assert.equal(described.exp, claims.exp);
  assert.equal(described.iat, claims.iat);
  assert.equal(described.aud, claims.aud);

  const revoked = await revoke(server, client, issued.access_token);
  assert.equal(revoked.statusCode, 200, revoked.body);
  assertError(await callUserinfo(server, issued.access_token), 401, 'invalid_token');
  assert.deepEqual(await introspection(server, client, issued.access_token), { active: false });
  // The signature still verifies (a JWT cannot be unsigned); an API that must honour revocation introspects.
  await verifyAccessToken(server, issued.access_token);
});

test('a resource configured for JWT gets a JWT access token with that resource as aud, for an opaque client', async (t) => {
  const { server, client, user, tokens } = await setUp(t, {
    config: { resources: { [calendarApi]: { accessTokenFormat: 'jwt' } } },
    client: { resources: [calendarApi, contactsApi] },
  });
  const issued = await tokens({ extra: { resource: calendarApi } });
  const { payload } = await verifyAccessToken(server, issued.access_token, calendarApi);
  assert.equal(payload.aud, calendarApi);
  assert.equal(payload.sub, user.id);
  assert.equal(payload.client_id, client.clientId);
  assert.equal(payload.scope, 'profile calendar.read');
  assert.equal((await introspection(server, client, issued.access_token)).aud, calendarApi);

  // A resource without a JWT format keeps the opaque default.
  const opaque = await tokens({ extra: { resource: contactsApi } });
  assert.match(opaque.access_token, opaqueToken);
  assert.equal((await introspection(server, client, opaque.access_token)).aud, contactsApi);
});

test('access tokens are opaque by default: a time prefix and 256 random bits, not a JWT', async (t) => {
  const { server, client, tokens } = await setUp(t);
  const issued = await tokens();
  assert.match(issued.access_token, opaqueToken);
  assert.throws(() => decodeProtectedHeader(issued.access_token));
  assert.match(issued.refresh_token!, opaqueToken);
  const described = await introspection(server, client, issued.access_token);
  assert.equal(described.active, true);
  assert.equal(described.aud, issuer);
});

// Resource indicators (RFC 8707)

test('/authorize answers invalid_target for a resource the client is not registered for, and for malformed ones', async (t) => {
  const { server, jar, client } = await setUp(t, { client: { resources: [calendarApi] } });
  const cases: [resource: string, description: RegExp][] = [
    // Redirected errors quote no request value (RFC 6749 §4.1.2.1; issue 13).
    [mailApi, /may not obtain tokens for a resource the request names/],
    ['/calendar', /absolute URI without a fragment/],
    ['calendar', /absolute URI without a fragment/],
    [`${calendarApi}#events`, /absolute URI without a fragment/],
  ];
  for (const [resource, description] of cases) {
    const location = await authorize(server, jar, client, { scope: 'profile', extra: { resource } });
    assert.equal(location.origin + location.pathname, redirectUri, resource);
    assert.equal(location.searchParams.get('error'), 'invalid_target', resource);
    assert.match(location.searchParams.get('error_description') ?? '', description);
    assert.equal(location.searchParams.get('state'), 'xyz');
    assert.equal(location.searchParams.get('iss'), issuer);
    assert.equal(location.searchParams.get('code'), null);
  }
  // One allowed and one not: the whole request fails.
  const mixed = await authorizeWith(server, jar, client, [['resource', calendarApi], ['resource', mailApi]]);
  assert.equal(mixed.searchParams.get('error'), 'invalid_target');
});

test('resource at the token endpoint narrows aud; one outside the grant is invalid_target', async (t) => {
  const resources = { [calendarApi]: { accessTokenFormat: 'jwt' as const }, [contactsApi]: { accessTokenFormat: 'jwt' as const } };
  const { server, jar, client } = await setUp(t, { config: { resources }, client: { resources: [calendarApi, contactsApi, mailApi] } });
  const both: [string, string][] = [['resource', calendarApi], ['resource', contactsApi]];

  // Two resources asked at /authorize, one at /token: the token is for that one only.
  const narrowed = assertTokens(await redeemCode(server, client, codeOf(await authorizeWith(server, jar, client, both)), { resource: contactsApi }));
  const { payload } = await verifyAccessToken(server, narrowed.access_token, contactsApi);
  assert.equal(payload.aud, contactsApi);

  // None at /token: the token is for both.
  const wide = assertTokens(await redeemCode(server, client, codeOf(await authorizeWith(server, jar, client, both))));
  assert.deepEqual(decodeJwt(wide.access_token).aud, [calendarApi, contactsApi]);
  assert.deepEqual((await introspection(server, client, wide.access_token)).aud, [calendarApi, contactsApi]);

  // mail is registered for the client but was not in this grant.
  const code = codeOf(await authorizeWith(server, jar, client, both));
  assertError(await redeemCode(server, client, code, { resource: mailApi }), 400, 'invalid_target');
  // A malformed one is invalid_target too; the refused requests did not consume the code.
  assertError(await redeemCode(server, client, code, { resource: 'calendar' }), 400, 'invalid_target', /absolute URI/);
  assertError(await redeemCode(server, client, code, { resource: `${calendarApi}#x` }), 400, 'invalid_target', /without a fragment/);
  assertTokens(await redeemCode(server, client, code, { resource: calendarApi }));
});

test('without resource at /authorize, the token endpoint may still ask for a registered resource, and not another', async (t) => {
  const { server, client, tokens, jar } = await setUp(t, { client: { resources: [calendarApi] } });
  const issued = await tokens({}, { resource: calendarApi });
  assert.equal((await introspection(server, client, issued.access_token)).aud, calendarApi);
  const code = await issueCode(server, jar, client, { scope: 'profile' });
  assertError(await redeemCode(server, client, code, { resource: mailApi }), 400, 'invalid_target');
});

test('a refresh can narrow the resources of its grant, but not widen them', async (t) => {
  const { server, jar, client } = await setUp(t, {
    config: { resources: { [calendarApi]: { accessTokenFormat: 'jwt' }, [contactsApi]: { accessTokenFormat: 'jwt' } } },
    client: { resources: [calendarApi, contactsApi, mailApi] },
  });
  const code = codeOf(await authorizeWith(server, jar, client, [['resource', calendarApi], ['resource', contactsApi]]));
  const first = assertTokens(await redeemCode(server, client, code, { resource: calendarApi }));

  const narrowed = assertTokens(await refresh(server, client, first.refresh_token!, { resource: contactsApi }));
  assert.equal((await verifyAccessToken(server, narrowed.access_token, contactsApi)).payload.aud, contactsApi);

  // Without resource, the refresh gets everything the grant carries.
  const wide = assertTokens(await refresh(server, client, narrowed.refresh_token!));
  assert.deepEqual(decodeJwt(wide.access_token).aud, [calendarApi, contactsApi]);

  assertError(await refresh(server, client, wide.refresh_token!, { resource: mailApi }), 400, 'invalid_target');
  // The refused refresh did not rotate the refresh token.
  assertTokens(await refresh(server, client, wide.refresh_token!, { resource: calendarApi }));
});

// Introspection (RFC 7662)

test('introspection describes an active access token and a refresh token', async (t) => {
  const { server, client, user, tokens } = await setUp(t);
  const issued = await tokens();
  const iat = nowSeconds(server);
  const access = await introspection(server, client, issued.access_token);
  assert.deepEqual(access, {
    active: true,
    scope: 'profile calendar.read',
    client_id: client.clientId,
    sub: user.id,
    exp: iat + 3600,
    iat,
    token_type: 'Bearer',
    aud: issuer,
    iss: issuer,
  });

  const refreshToken = await introspection(server, client, issued.refresh_token!);
  assert.equal(refreshToken.active, true);
  assert.equal(refreshToken.token_type, 'refresh_token');
  assert.equal(refreshToken.client_id, client.clientId);
  assert.equal(refreshToken.sub, user.id);
  assert.equal(refreshToken.scope, 'profile calendar.read');
  assert.equal(refreshToken.iat, iat);
  assert.equal(refreshToken.exp, iat + 30 * 24 * 3600);
  assert.equal(refreshToken.iss, issuer);
});

test('introspection: token_type_hint is only where to look first; a wrong or unknown hint still finds the token', async (t) => {
  const { server, client, tokens } = await setUp(t);
  const issued = await tokens();
  for (const hint of ['access_token', 'refresh_token', 'id_token']) {
    assert.equal((await introspection(server, client, issued.access_token, { token_type_hint: hint })).token_type, 'Bearer', hint);
    assert.equal((await introspection(server, client, issued.refresh_token!, { token_type_hint: hint })).token_type, 'refresh_token', hint);
  }
});

test('introspection is for authenticated confidential clients only', async (t) => {
  const { server, client, tokens } = await setUp(t);
  const issued = await tokens();
  assertError(await post(server, '/introspect', { token: issued.access_token }), 401, 'invalid_client');
  const wrong = `Basic ${Buffer.from(`${client.clientId}:not-the-secret`).toString('base64')}`;
  assertError(await post(server, '/introspect', { token: issued.access_token }, { authorization: wrong }), 401, 'invalid_client');
  assertError(
    await post(server, '/introspect', { token: issued.access_token, client_id: client.clientId, client_secret: 'not-the-secret' }),
    401,
    'invalid_client',
  );
  // A client_id without a secret is not authentication for a confidential client.
  assertError(await post(server, '/introspect', { token: issued.access_token, client_id: client.clientId }), 401, 'invalid_client');

  const publicClient = await createTestClient(server, { type: 'public' });
  assertError(await post(server, '/introspect', { token: issued.access_token, client_id: publicClient.clientId }), 400, 'unauthorized_client');

  // Only the method the client is registered for (client_secret_basic here): the right secret in the body is refused.
  assertError(
    await post(server, '/introspect', { token: issued.access_token, client_id: client.clientId, client_secret: client.clientSecret! }),
    401,
    'invalid_client',
    /registered for client_secret_basic/,
  );
});

test('introspection answers active:false for unknown, expired, revoked and rotated tokens', async (t) => {
  const { server, client, tokens } = await setUp(t);
  assert.deepEqual(await introspection(server, client, 'no-such-token'), { active: false });

  const expiring = await tokens();
  const revoked = await tokens();
  assert.equal((await revoke(server, client, revoked.access_token)).statusCode, 200);
  assert.deepEqual(await introspection(server, client, revoked.access_token), { active: false });

  const rotated = await tokens();
  const next = assertTokens(await refresh(server, client, rotated.refresh_token!));
  assert.deepEqual(await introspection(server, client, rotated.refresh_token!), { active: false });
  assert.equal((await introspection(server, client, next.refresh_token!)).active, true);

  server.clock.advance(3599);
  assert.equal((await introspection(server, client, expiring.access_token)).active, true);
  server.clock.advance(1);
  assert.deepEqual(await introspection(server, client, expiring.access_token), { active: false });
  assert.equal((await introspection(server, client, expiring.refresh_token!)).active, true);
  server.clock.advance(30 * 24 * 3600);
  assert.deepEqual(await introspection(server, client, expiring.refresh_token!), { active: false });
});

test('introspection without a token is invalid_request, and no-store like every answer', async (t) => {
  const { server, client } = await setUp(t);
  const missing = await post(server, '/introspect', {}, { authorization: client.basic });
  assertError(missing, 400, 'invalid_request', /'token' is required/);
  assert.equal(missing.headers['cache-control'], 'no-store');
  assertError(await introspect(server, client, ''), 400, 'invalid_request', /'token' is required/);
  assertError(
    await server.app.inject({
      method: 'POST',
      url: '/introspect',
      payload: 'token=a&token=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client.basic },
    }),
    400,
    'invalid_request',
    /must not be repeated/,
  );
});

test('a resource server registered to introspect may introspect tokens issued to another client', async (t) => {
  const { server, tokens } = await setUp(t);
  const api = await createTestClient(server, { name: 'Calendar API', grantTypes: ['client_credentials'], redirectUris: [], canIntrospect: true });
  const issued = await tokens();
  assert.equal((await introspection(server, api, issued.access_token)).active, true);
});

// Revocation (RFC 7009)

test('revoking a refresh token revokes it and every access token of its family', async (t) => {
  const { server, client, tokens } = await setUp(t);
  const first = await tokens();
  const second = assertTokens(await refresh(server, client, first.refresh_token!));
  const unrelated = await tokens();

  const response = await revoke(server, client, second.refresh_token!, { token_type_hint: 'refresh_token' });
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.headers['cache-control'], 'no-store');

  for (const accessToken of [first.access_token, second.access_token]) {
    assertError(await callUserinfo(server, accessToken), 401, 'invalid_token');
    assert.deepEqual(await introspection(server, client, accessToken), { active: false });
  }
  assert.deepEqual(await introspection(server, client, second.refresh_token!), { active: false });
  assertError(await refresh(server, client, second.refresh_token!), 400, 'invalid_grant');
  // Another grant of the same user and client is untouched.
  assert.equal((await callUserinfo(server, unrelated.access_token)).statusCode, 200);
  assertTokens(await refresh(server, client, unrelated.refresh_token!));
});

test('revoking an access token revokes only that token', async (t) => {
  const { server, client, tokens } = await setUp(t);
  const first = await tokens();
  const second = assertTokens(await refresh(server, client, first.refresh_token!));

  const response = await revoke(server, client, second.access_token, { token_type_hint: 'access_token' });
  assert.equal(response.statusCode, 200, response.body);
  assertError(await callUserinfo(server, second.access_token), 401, 'invalid_token');
  assert.equal((await callUserinfo(server, first.access_token)).statusCode, 200);
  assert.equal((await introspection(server, client, second.refresh_token!)).active, true);
  assertTokens(await refresh(server, client, second.refresh_token!));
});

test('a wrong token_type_hint at revocation still revokes the token', async (t) => {
  const { server, client, tokens } = await setUp(t);
  const issued = await tokens();
  assert.equal((await revoke(server, client, issued.access_token, { token_type_hint: 'refresh_token' })).statusCode, 200);
  assertError(await callUserinfo(server, issued.access_token), 401, 'invalid_token');
  const other = await tokens();
  assert.equal((await revoke(server, client, other.refresh_token!, { token_type_hint: 'access_token' })).statusCode, 200);
  assertError(await callUserinfo(server, other.access_token), 401, 'invalid_token');
});

test('revoking an unknown or already revoked token answers 200', async (t) => {
  const { server, client, tokens } = await setUp(t);
  const unknown = await revoke(server, client, 'no-such-token');
  assert.equal(unknown.statusCode, 200, unknown.body);
  const issued = await tokens();
  assert.equal((await revoke(server, client, issued.refresh_token!)).statusCode, 200);
  assert.equal((await revoke(server, client, issued.refresh_token!)).statusCode, 200);
  assert.equal((await revoke(server, client, issued.access_token)).statusCode, 200);
});

test("a client cannot revoke another client's tokens, which stay valid", async (t) => {
  const { server, client, tokens } = await setUp(t);
  const other = await createTestClient(server, { name: 'Other' });
  const issued = await tokens();
  assertError(await revoke(server, other, issued.access_token), 400, 'unauthorized_client');
  assertError(await revoke(server, other, issued.refresh_token!), 400, 'unauthorized_client');
  assert.equal((await callUserinfo(server, issued.access_token)).statusCode, 200);
  assert.equal((await introspection(server, client, issued.access_token)).active, true);
  assertTokens(await refresh(server, client, issued.refresh_token!));
});

test('revocation needs client authentication; a public client revokes its own tokens with client_id alone', async (t) => {
  const { server, client, jar, tokens } = await setUp(t);
  const issued = await tokens();
  assertError(await post(server, '/revoke', { token: issued.access_token }), 401, 'invalid_client');
  assertError(await post(server, '/revoke', { token: issued.access_token, client_id: client.clientId }), 401, 'invalid_client');
  assertError(
    await post(server, '/revoke', { token: issued.access_token, client_id: client.clientId, client_secret: 'not-the-secret' }),
    401,
    'invalid_client',
  );
  assert.equal((await callUserinfo(server, issued.access_token)).statusCode, 200);

  const app = await createTestClient(server, { name: 'Native app', type: 'public' });
  const code = await issueCode(server, jar, app, { scope: 'profile' });
  const body = form({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: rfc7636Verifier, client_id: app.clientId });
  const appTokens = assertTokens(await server.app.inject({ method: 'POST', url: '/token', ...body }));
  // A public client cannot revoke the confidential client's token either.
  assertError(await post(server, '/revoke', { token: issued.access_token, client_id: app.clientId }), 400, 'unauthorized_client');
  const revoked = await post(server, '/revoke', { token: appTokens.refresh_token!, client_id: app.clientId });
  assert.equal(revoked.statusCode, 200, revoked.body);
  assertError(await callUserinfo(server, appTokens.access_token), 401, 'invalid_token');
  assert.deepEqual(await introspection(server, client, appTokens.refresh_token!), { active: false });
});

test('revocation without a token is invalid_request', async (t) => {
  const { server, client } = await setUp(t);
  assertError(await post(server, '/revoke', {}, { authorization: client.basic }), 400, 'invalid_request', /'token' is required/);
  assertError(await revoke(server, client, ''), 400, 'invalid_request', /'token' is required/);
});

// Client credentials (RFC 6749 §4.4)

test('client_credentials: a confidential machine client gets an access token for itself, without refresh token', async (t) => {
  const server = await buildTestServer();
  t.after(() => server.close());
  const machine = await createTestClient(server, { name: 'Sync job', grantTypes: ['client_credentials'], redirectUris: [] });
  const response = await clientCredentials(server, machine);
  const issued = assertTokens(response);
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal(issued.token_type, 'Bearer');
  assert.equal(issued.expires_in, 3600);
  assert.match(issued.access_token, opaqueToken);
  assert.equal('refresh_token' in issued, false);
  assert.equal('id_token' in issued, false);
  // The registered scopes without those that describe a user.
  assert.equal(issued.scope, 'calendar.read');

  const described = await introspection(server, machine, issued.access_token);
  assert.equal(described.active, true);
  assert.equal(described.sub, machine.clientId);
  assert.equal(described.client_id, machine.clientId);
  assert.equal(described.scope, 'calendar.read');
  assert.equal(described.token_type, 'Bearer');

  // No user: /userinfo has nothing to say about this token.
  assertError(await callUserinfo(server, issued.access_token), 403, 'insufficient_scope');
  // Explicitly asking for the registered scope works too.
  assert.equal(assertTokens(await clientCredentials(server, machine, { scope: 'calendar.read' })).scope, 'calendar.read');
});

test('client_credentials: scopes are limited to the non-user scopes the client was registered for', async (t) => {
  const server = await buildTestServer({
    scopes: { 'calendar.read': { description: 'Read your calendar' }, 'calendar.write': { description: 'Change your calendar' } },
  });
  t.after(() => server.close());
  const machine = await createTestClient(server, { grantTypes: ['client_credentials'], redirectUris: [], scopes: ['calendar.read', 'profile'] });
  assertError(await clientCredentials(server, machine, { scope: 'calendar.write' }), 400, 'invalid_scope', /calendar\.write/);
  assertError(await clientCredentials(server, machine, { scope: 'calendar.read calendar.write' }), 400, 'invalid_scope');
  assertError(await clientCredentials(server, machine, { scope: 'openid' }), 400, 'invalid_scope', /openid/);
  assertError(await clientCredentials(server, machine, { scope: 'profile' }), 400, 'invalid_scope', /profile/);
  assertError(await clientCredentials(server, machine, { scope: 'no-such-scope' }), 400, 'invalid_scope');

  // RFC 6749 §3.3: a client whose only scopes describe a user has no default to fall back on;
  // it gets invalid_scope, not a token that grants nothing.
  const userOnly = await createTestClient(server, { grantTypes: ['client_credentials'], redirectUris: [], scopes: ['profile'] });
  assertError(await clientCredentials(server, userOnly), 400, 'invalid_scope', /no scope it can hold for itself/);
});

test('client_credentials: refused to a client without that grant; a public client cannot even register for it', async (t) => {
  const { server, client } = await setUp(t);
  assertError(await clientCredentials(server, client), 400, 'unauthorized_client', /client_credentials/);
  assertError(await clientCredentials(server, client, { scope: 'calendar.read' }), 400, 'unauthorized_client');
  await assert.rejects(
    createTestClient(server, { type: 'public', grantTypes: ['client_credentials'], redirectUris: [] }),
    (error: { code?: string }) => error.code === 'invalid_client_metadata',
  );
  await assert.rejects(
    createTestClient(server, { type: 'public', grantTypes: ['authorization_code', 'client_credentials'] }),
    (error: { code?: string }) => error.code === 'invalid_client_metadata',
  );
  // A public client stored with the grant (a row from before registration refused it) still gets nothing.
  const legacy: ClientRecord = {
    id: 'legacy-public-app',
    secretHash: null,
    name: 'Legacy app',
    type: 'public',
    redirectUris: [],
    grantTypes: ['client_credentials'],
    scopes: ['calendar.read'],
    accessTokenTtlSeconds: null,
    refreshTokenTtlSeconds: null,
    accessTokenFormat: 'opaque',
    resources: [],
    tokenEndpointAuthMethod: 'none',
    consentPolicy: 'always_ask',
    canIntrospect: false,
    servedResources: [],
    createdAt: server.clock.now(),
  };
  await server.storage.insertClient(legacy);
  assertError(await post(server, '/token', { grant_type: 'client_credentials', client_id: legacy.id }), 400, 'unauthorized_client', /public client/);
  // A machine client has no secret-less path either.
  const machine = await createTestClient(server, { grantTypes: ['client_credentials'], redirectUris: [] });
  assertError(await post(server, '/token', { grant_type: 'client_credentials', client_id: machine.clientId }), 401, 'invalid_client');
});

test('client_credentials: a JWT access token names the client as sub, and resource narrows aud', async (t) => {
  const server = await buildTestServer({ resources: { [calendarApi]: { accessTokenFormat: 'jwt' } } });
  t.after(() => server.close());
  const machine = await createTestClient(server, {
    grantTypes: ['client_credentials'],
    redirectUris: [],
    accessTokenFormat: 'jwt',
    resources: [calendarApi],
  });
  const plain = assertTokens(await clientCredentials(server, machine));
  const { payload } = await verifyAccessToken(server, plain.access_token, issuer);
  assert.equal(payload.sub, machine.clientId);
  assert.equal(payload.client_id, machine.clientId);
  assert.equal(payload.scope, 'calendar.read');
  assert.equal(payload.auth_time, undefined);

  const forApi = assertTokens(await clientCredentials(server, machine, { resource: calendarApi }));
  assert.equal((await verifyAccessToken(server, forApi.access_token, calendarApi)).payload.aud, calendarApi);
  assertError(await clientCredentials(server, machine, { resource: mailApi }), 400, 'invalid_target');
  assertError(await clientCredentials(server, machine, { resource: 'relative/path' }), 400, 'invalid_target');

  // Signed on a signing thread, which also hashes it: stored under the same key as any JWT.
  assert.ok(await server.storage.findAccessToken(hashSecret(plain.access_token)), 'the hash of the JWT is stored');
  const described = await introspection(server, machine, plain.access_token);
  assert.equal(described.active, true);
  assert.equal(described.sub, machine.clientId);
  assert.equal((await revoke(server, machine, plain.access_token)).statusCode, 200);
  assert.deepEqual(await introspection(server, machine, plain.access_token), { active: false });
});

// Bad input

test('wrong token types at introspection: an ID token, a code, garbage are inactive; an oversized one is invalid_request', async (t) => {
  const { server, client, jar } = await setUp(t, { client: { scopes: oidcScopes } });
  const code = await issueCode(server, jar, client, { scope: 'openid profile offline_access' });
  const unused = await issueCode(server, jar, client, { scope: 'profile' });
  const issued = assertTokens(await redeemCode(server, client, code));
  assert.ok(issued.id_token, 'an ID token was issued');
  for (const token of [issued.id_token, unused, code, 'garbage', '%%%', 'ä'.repeat(100), 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'x'.repeat(8192)]) {
    for (const hint of [undefined, 'access_token', 'refresh_token']) {
      const response = await introspect(server, client, token, hint === undefined ? {} : { token_type_hint: hint });
      assert.equal(response.statusCode, 200, `${token.slice(0, 20)}: ${response.body}`);
      assert.deepEqual(response.json(), { active: false });
    }
  }
  assertError(await introspect(server, client, 'x'.repeat(10_000)), 400, 'invalid_request', /'token' is longer than/);
  // The code was not consumed by being introspected.
  assertTokens(await redeemCode(server, client, unused));
});

test('wrong token types at revocation: an ID token, a code, garbage answer 200 and revoke nothing; an oversized one is invalid_request', async (t) => {
  const { server, client, jar } = await setUp(t, { client: { scopes: oidcScopes } });
  const code = await issueCode(server, jar, client, { scope: 'openid profile offline_access' });
  const unused = await issueCode(server, jar, client, { scope: 'profile' });
  const issued = assertTokens(await redeemCode(server, client, code));
  for (const token of [issued.id_token!, unused, code, 'garbage', 'ä'.repeat(100), 'x'.repeat(8192)]) {
    const response = await revoke(server, client, token);
    assert.equal(response.statusCode, 200, `${token.slice(0, 20)}: ${response.body}`);
  }
  assertError(await revoke(server, client, 'x'.repeat(10_000)), 400, 'invalid_request', /'token' is longer than/);
  assertError(await revoke(server, client, issued.access_token, { token_type_hint: 'x'.repeat(100) }), 400, 'invalid_request');
  // Nothing was revoked, and the code still works.
  assert.equal((await callUserinfo(server, issued.access_token)).statusCode, 200);
  assertTokens(await refresh(server, client, issued.refresh_token!));
  assertTokens(await redeemCode(server, client, unused));
});

test('a tampered, re-signed or unsigned JWT access token is invalid_token at /userinfo', async (t) => {
  const { server, tokens } = await setUp(t, { client: { accessTokenFormat: 'jwt', scopes: oidcScopes } });
  const issued = await tokens({ scope: 'openid profile offline_access' });
  const [header, payload, signature] = issued.access_token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'openid profile email' })).toString('base64url');
  const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
  const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
  for (const forged of [`${header}.${widened}.${signature}`, unsigned, flipped, issued.id_token!, `${issued.access_token}x`]) {
    const response = await callUserinfo(server, forged);
    assertError(response, 401, 'invalid_token');
    assert.match(response.headers['www-authenticate'] as string, /error="invalid_token"/);
  }
  assert.equal((await callUserinfo(server, issued.access_token)).statusCode, 200);
});
