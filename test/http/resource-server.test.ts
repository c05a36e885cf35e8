import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import {
  createAccessTokenVerifier,
  fastifyResourceServer,
  OAuthError,
  type ResourceServerOptions,
  type VerifiedAccessToken,
} from '../../src/resource-server/index.ts';
import { registerClient, type ClientRegistration } from '../../src/server/clients/register-client.ts';
import type { GatehouseConfig } from '../../src/server/config/defaults.ts';
import { rotateSigningKeys } from '../../src/server/keys/rotate-keys.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { freePort, startListeningServer, type ListeningServer } from '../support/listening-server.ts';

/**
 * The resource-server helper (`gatehouse/resource-server`) against a real Gatehouse on a socket:
 * local verification of RFC 9068 JWT access tokens through the issuer's JWKS, RFC 7662
 * introspection of opaque tokens, and RFC 6750 Bearer usage and errors in the Fastify preHandler.
 */

/** Tokens for this API are JWTs (RFC 9068) the API checks with /jwks alone. */
const calendarApi = 'https://api.example/calendar';
/** Another JWT resource: its tokens must not open the calendar. */
const contactsApi = 'https://api.example/contacts';
/** Tokens for this API are opaque and checked by introspection (RFC 7662). */
const notesApi = 'https://api.example/notes';

interface Credentials {
  clientId: string;
  clientSecret: string;
}

interface SetUp {
  server: ListeningServer;
  /** A machine client that gets client-credentials tokens for all three APIs. */
  client: Credentials;
  /** The notes API's own confidential client, for introspection. */
  apiClient: Credentials;
  /** A client-credentials token; `resource` picks the API (RFC 8707), none gives an opaque token for the issuer. */
  token(resource?: string): Promise<string>;
}

async function setUp(t: TestContext, config: Partial<GatehouseConfig> = {}): Promise<SetUp> {
  const server = await startListeningServer({
    resources: {
      [calendarApi]: { accessTokenFormat: 'jwt' },
      [contactsApi]: { accessTokenFormat: 'jwt' },
      [notesApi]: { accessTokenFormat: 'opaque' },
    },
    ...config,
  });
  t.after(() => server.close());
  const { ctx, close } = await server.openContext();
  const register = async (name: string, extra: Partial<ClientRegistration> = {}): Promise<Credentials> => {
    const { client, clientSecret } = await registerClient(
      { name, redirectUris: [], grantTypes: ['client_credentials'], scopes: ['calendar.read'], resources: [calendarApi, contactsApi, notesApi], ...extra },
      ctx,
    );
    return { clientId: client.id, clientSecret: clientSecret! };
  };
  const client = await register('Calendar sync job');
  // A resource server may introspect others' tokens only when registered to, for what it serves (RFC 7662 §4).
  const apiClient = await register('Notes API', { canIntrospect: true, servedResources: [notesApi] });
  await close();
  const token = async (resource?: string) => {
    const fields: Record<string, string> = { grant_type: 'client_credentials', scope: 'calendar.read' };
    if (resource !== undefined) fields.resource = resource;
    const response = await post(server, '/token', client, fields);
    const body = (await response.json()) as { access_token: string };
    assert.equal(response.status, 200, JSON.stringify(body));
    return body.access_token;
  };
  return { server, client, apiClient, token };
}

/** A client-authenticated form POST to the authorization server (RFC 6749 §2.3.1). */
function post(server: ListeningServer, path: string, credentials: Credentials, fields: Record<string, string>): Promise<Response> {
  const basic = Buffer.from(`${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`).toString('base64');
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
}

async function revoke(setup: SetUp, token: string): Promise<void> {
  const response = await post(setup.server, '/revoke', setup.client, { token, token_type_hint: 'access_token' });
  assert.equal(response.status, 200, await response.text());
}

/** How often the server answered `route`, from its Prometheus metrics (all methods and statuses). */
async function requestCount(server: ListeningServer, route: string): Promise<number> {
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  let total = 0;
  for (const line of (await response.text()).split('\n')) {
    const match = /^gatehouse_http_requests_total\{([^}]*)\} (\d+)$/.exec(line);
    if (match !== null && match[1]!.includes(`route="${route}"`)) total += Number(match[2]);
  }
  return total;
}

function calendarOptions(setup: SetUp, extra: Partial<ResourceServerOptions> = {}): ResourceServerOptions {
  return { issuer: setup.server.url, audience: calendarApi, realm: 'calendar', ...extra };
}

function notesOptions(setup: SetUp, extra: Partial<ResourceServerOptions> = {}, cacheSeconds = 0): ResourceServerOptions {
  return {
    issuer: setup.server.url,
    audience: notesApi,
    realm: 'notes',
    introspection: { endpoint: `${setup.server.url}/introspect`, ...setup.apiClient, cacheSeconds },
    ...extra,
  };
}

interface Api {
  app: FastifyInstance;
  /** Requests that reached a route handler, i.e. got past the preHandler. */
  handled: number;
}

/** A small API: reading needs `calendar.read`, writing `calendar.write`. */
async function buildApi(t: TestContext, options: ResourceServerOptions): Promise<Api> {
  const app = Fastify({ logger: false });
  t.after(() => app.close());
  // RFC 6750 §2.2: the form-encoded body method; Fastify parses only JSON by itself.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  const resourceServer = fastifyResourceServer(options);
  const api: Api = { app, handled: 0 };
  const answer = async (request: { accessToken?: VerifiedAccessToken }) => {
    api.handled += 1;
    return { token: request.accessToken };
  };
  app.get('/events', { preHandler: resourceServer.requireAccessToken('calendar.read') }, answer);
  app.post('/events/search', { preHandler: resourceServer.requireAccessToken('calendar.read') }, answer);
  app.post('/events', { preHandler: resourceServer.requireAccessToken('calendar.write') }, answer);
  await app.ready();
  return api;
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function assertAccepted(response: LightMyRequestResponse): VerifiedAccessToken {
  assert.equal(response.statusCode, 200, response.body);
  return (response.json() as { token: VerifiedAccessToken }).token;
}

/**
 * RFC 6750 §3: status, a JSON body that no cache keeps, and the route never ran. Returns the
 * `WWW-Authenticate` challenge, which every 400, 401 and 403 carries (a 503 is about the
 * authorization server, not the credentials, and needs none).
 */
function assertRefused(api: Api, response: LightMyRequestResponse, status: number, error: string, description?: RegExp): string {
  assert.equal(response.statusCode, status, response.body);
  assert.equal(api.handled, 0, 'the route handler ran for a refused request');
  assert.match(response.headers['content-type'] as string, /^application\/json/);
  assert.equal(response.headers['cache-control'], 'no-store');
  const body = response.json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
  assert.equal(body.error, error, String(body.error_description));
  assert.equal(typeof body.error_description, 'string');
  if (description !== undefined) assert.match(body.error_description as string, description);
  const challenge = response.headers['www-authenticate'];
  if (status === 503) return String(challenge ?? '');
  assert.equal(typeof challenge, 'string', 'a refused request carries a WWW-Authenticate challenge');
  return challenge as string;
}

/** The verifier's error as it would reach the wire. */
async function verifyError(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => assert.fail('the token was accepted'),
    (error: unknown) => error,
  );
  assert.ok(error instanceof OAuthError, `not an OAuthError: ${String(error)}`);
  return error;
}

/** A JWT with `claims` and `header`, signed by the server's current access-token key. */
async function signWithServerKey(setup: SetUp, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const { ctx, close } = await setup.server.openContext();
  try {
    const key = await ctx.keys.activeKey(ctx.config.accessTokenSigningAlg);
    return await new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
  } finally {
    await close();
  }
}

// Each test starts its own authorization server (about half a second, mostly key generation);
// they share nothing, so they run side by side.
describe('the resource-server helper', { concurrency: 6 }, () => {
  // ─── JWT access tokens, verified locally ──────────────────────────────────────────────────────

  test('a JWT access token is verified locally, with no introspection configured', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, calendarOptions(setup));
    const token = await setup.token(calendarApi);
    assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
    const verified = assertAccepted(await api.app.inject({ url: '/events', headers: bearer(token) }));
    assert.equal(verified.subject, setup.client.clientId, 'a client-credentials token is about the client itself');
    assert.equal(verified.clientId, setup.client.clientId);
    assert.deepEqual(verified.scopes, ['calendar.read']);
    assert.deepEqual(verified.audience, [calendarApi]);
    assert.equal(verified.verifiedBy, 'jwt');
    assert.equal(verified.expiresAt, decodeJwt(token).exp);
    assert.equal(verified.claims.iss, setup.server.url);
  });

  test('a JWT access token for another API is refused with invalid_token', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, calendarOptions(setup));
    const token = await setup.token(contactsApi);
    assert.equal(decodeJwt(token).aud, contactsApi);
    const challenge = assertRefused(api, await api.app.inject({ url: '/events', headers: bearer(token) }), 401, 'invalid_token');
    assert.match(challenge, /^Bearer realm="calendar", error="invalid_token", error_description="[^"]+"$/);
  });

  test('a tampered JWT access token is refused', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, calendarOptions(setup));
    const [header, payload, signature] = (await setup.token(calendarApi)).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const escalated = Buffer.from(JSON.stringify({ ...claims, scope: 'calendar.read calendar.write' })).toString('base64url');
    assertRefused(api, await api.app.inject({ method: 'POST', url: '/events', headers: bearer(`${header}.${escalated}.${signature}`) }), 401, 'invalid_token');
    const otherSignature = Buffer.from(signature, 'base64url').reverse().toString('base64url');
    assertRefused(api, await api.app.inject({ url: '/events', headers: bearer(`${header}.${payload}.${otherSignature}`) }), 401, 'invalid_token');
    // The untouched token still works: the refusals above were about the tampering.
    assertAccepted(await api.app.inject({ url: '/events', headers: bearer(`${header}.${payload}.${signature}`) }));
  });

  test('an expired JWT access token is refused, and the description says it expired', async (t) => {
    const setup = await setUp(t);
    const clock = new ManualClock(Date.now());
    const api = await buildApi(t, calendarOptions(setup, { clock }));
    const token = await setup.token(calendarApi);
    assertAccepted(await api.app.inject({ url: '/events', headers: bearer(token) }));
    api.handled = 0;
    clock.advance(Number(decodeJwt(token).exp) - Math.floor(clock.now() / 1000) + 1);
    const challenge = assertRefused(api, await api.app.inject({ url: '/events', headers: bearer(token) }), 401, 'invalid_token', /expired/);
    assert.match(challenge, /error="invalid_token", error_description="[^"]*expired[^"]*"/);
  });

  test('a JWT typed as an ID token (typ JWT, not at+jwt) is refused even when its claims would pass', async (t) => {
    const setup = await setUp(t);
    const verifier = createAccessTokenVerifier(calendarOptions(setup));
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: setup.server.url, sub: setup.client.clientId, aud: calendarApi, client_id: setup.client.clientId, scope: 'calendar.read', iat: now, exp: now + 300 };
    // RFC 9068 §4: the typ is what tells an access token from an ID token signed by the same keys.
    const idToken = await signWithServerKey(setup, { typ: 'JWT' }, claims);
    const error = await verifyError(verifier.verifyToken(idToken));
    assert.equal(error.code, 'invalid_token');
    assert.equal(error.status, 401);
    const untyped = await signWithServerKey(setup, {}, claims);
    assert.equal((await verifyError(verifier.verifyToken(untyped))).code, 'invalid_token');
    // The same claims typed at+jwt pass, so the refusals were for the type alone.
    assert.equal((await verifier.verifyToken(await signWithServerKey(setup, { typ: 'at+jwt' }, claims))).subject, setup.client.clientId);
  });

  test('the JWKS is fetched once for many tokens, and once more after a key rotation for the new kid', async (t) => {
    const setup = await setUp(t, { metricsEnabled: true });
    const verifier = createAccessTokenVerifier(calendarOptions(setup));
    const tokens = await Promise.all(Array.from({ length: 20 }, () => setup.token(calendarApi)));
    assert.equal(await requestCount(setup.server, '/jwks'), 0);
    const verified = await Promise.all(tokens.map((token) => verifier.verifyToken(token)));
    assert.equal(verified.length, 20);
    assert.ok(verified.every((token) => token.verifiedBy === 'jwt'));
    for (const token of tokens.slice(0, 5)) await verifier.verifyToken(token);
    assert.equal(await requestCount(setup.server, '/jwks'), 1, 'the JWKS is cached');

    const { ctx, close } = await setup.server.openContext();
    await rotateSigningKeys(ctx);
    await close();
    const rotated = await setup.token(calendarApi);
    assert.notEqual(decodeProtectedHeader(rotated).kid, decodeProtectedHeader(tokens[0]!).kid);
    assert.equal((await verifier.verifyToken(rotated)).verifiedBy, 'jwt', 'a token signed with the new key is accepted');
    assert.equal(await requestCount(setup.server, '/jwks'), 2, 'the unknown kid caused exactly one fetch');
    await verifier.verifyToken(await setup.token(calendarApi));
    await verifier.verifyToken(tokens[0]!);
    assert.equal(await requestCount(setup.server, '/jwks'), 2, 'the old key is still published and both are cached');

    // Unknown kids do not make every request a JWKS fetch (a cheap way to flood the issuer).
    const [, payload, signature] = rotated.split('.') as [string, string, string];
    for (const kid of ['forged-1', 'forged-2', 'forged-3']) {
      const header = Buffer.from(JSON.stringify({ ...decodeProtectedHeader(rotated), kid })).toString('base64url');
      assert.equal((await verifyError(verifier.verifyToken(`${header}.${payload}.${signature}`))).code, 'invalid_token');
    }
    assert.equal(await requestCount(setup.server, '/jwks'), 2, 'forged kids right after a fetch cause no more fetches');
  });

  test('the issuer\'s keys cannot be fetched: 503 temporarily_unavailable, not invalid_token', { timeout: 10_000 }, async (t) => {
    const setup = await setUp(t);
    const token = await setup.token(calendarApi);
    const api = await buildApi(t, calendarOptions(setup));
    await setup.server.close();
    // A valid token must not be called invalid (which tells the client to throw it away) because the issuer is away.
    const challenge = assertRefused(api, await api.app.inject({ url: '/events', headers: bearer(token) }), 503, 'temporarily_unavailable');
    assert.doesNotMatch(challenge, /invalid_token/);
  });

  // ─── opaque tokens, by introspection ──────────────────────────────────────────────────────────

  test('an opaque access token is accepted by introspection', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, notesOptions(setup));
    const token = await setup.token(notesApi);
    assert.match(token, /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/);
    const verified = assertAccepted(await api.app.inject({ url: '/events', headers: bearer(token) }));
    assert.equal(verified.verifiedBy, 'introspection');
    assert.equal(verified.subject, setup.client.clientId);
    assert.equal(verified.clientId, setup.client.clientId);
    assert.deepEqual(verified.scopes, ['calendar.read']);
    assert.deepEqual(verified.audience, [notesApi]);
    assert.ok(verified.expiresAt * 1000 > Date.now());
  });

  test('an unknown opaque token is refused with 401 invalid_token', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, notesOptions(setup));
    const challenge = assertRefused(api, await api.app.inject({ url: '/events', headers: bearer('A'.repeat(43)) }), 401, 'invalid_token');
    assert.match(challenge, /^Bearer realm="notes", error="invalid_token"/);
  });

  test('an opaque token is refused when no introspection is configured', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, calendarOptions(setup, { audience: notesApi }));
    assertRefused(api, await api.app.inject({ url: '/events', headers: bearer(await setup.token(notesApi)) }), 401, 'invalid_token');
  });

  test('a revoked opaque token is refused at once with cacheSeconds 0', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, notesOptions(setup, {}, 0));
    const token = await setup.token(notesApi);
    assertAccepted(await api.app.inject({ url: '/events', headers: bearer(token) }));
    api.handled = 0;
    await revoke(setup, token);
    assertRefused(api, await api.app.inject({ url: '/events', headers: bearer(token) }), 401, 'invalid_token');
  });

  test('with cacheSeconds 30 an answer is reused within the window, and a revocation is seen after it', async (t) => {
    const setup = await setUp(t, { metricsEnabled: true });
    const clock = new ManualClock(Date.now());
    const verifier = createAccessTokenVerifier(notesOptions(setup, { clock }, 30));
    const token = await setup.token(notesApi);
    assert.equal((await verifier.verifyToken(token)).verifiedBy, 'introspection');
    assert.equal(await requestCount(setup.server, '/introspect'), 1);
    clock.advance(10);
    await verifier.verifyToken(token);
    assert.equal(await requestCount(setup.server, '/introspect'), 1, 'the second verification was answered from the cache');

    await revoke(setup, token);
    clock.advance(19);
    await verifier.verifyToken(token); // the documented trade-off: a revocation waits out the window
    assert.equal(await requestCount(setup.server, '/introspect'), 1);
    clock.advance(2);
    assert.equal((await verifyError(verifier.verifyToken(token))).code, 'invalid_token');
    assert.equal(await requestCount(setup.server, '/introspect'), 2);
  });

  test('an opaque token whose aud does not include this API is refused', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, notesOptions(setup));
    // Without a resource the token is for the issuer itself (its /userinfo), not for the notes API.
    const token = await setup.token();
    const introspected = await post(setup.server, '/introspect', setup.apiClient, { token });
    assert.equal(((await introspected.json()) as { active: boolean }).active, true, 'the token itself is live');
    assertRefused(api, await api.app.inject({ url: '/events', headers: bearer(token) }), 401, 'invalid_token');
  });

  test('with introspection configured a JWT access token is still verified locally', async (t) => {
    const setup = await setUp(t, { metricsEnabled: true });
    const verifier = createAccessTokenVerifier(notesOptions(setup, { audience: calendarApi }));
    assert.equal((await verifier.verifyToken(await setup.token(calendarApi))).verifiedBy, 'jwt');
    assert.equal(await requestCount(setup.server, '/introspect'), 0);
  });

  test('the authorization server down while introspecting: 503 temporarily_unavailable, not a 500 or a hang', { timeout: 10_000 }, async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, notesOptions(setup));
    const token = await setup.token(notesApi);
    assertAccepted(await api.app.inject({ url: '/events', headers: bearer(token) }));
    api.handled = 0;
    await setup.server.close();
    const challenge = assertRefused(api, await api.app.inject({ url: '/events', headers: bearer(token) }), 503, 'temporarily_unavailable');
    assert.doesNotMatch(challenge, /invalid_token/);
  });

  test('an introspection endpoint that never answers: 503 after the timeout, not a hang', { timeout: 10_000 }, async (t) => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const issuer = `http://127.0.0.1:${port}`;
    const options: ResourceServerOptions = {
      issuer,
      audience: notesApi,
      introspection: { endpoint: `${issuer}/introspect`, clientId: 'notes', clientSecret: 'secret', cacheSeconds: 0, timeoutSeconds: 0.3 },
    };
    const api = await buildApi(t, options);
    const started = Date.now();
    assertRefused(api, await api.app.inject({ url: '/events', headers: bearer('A'.repeat(43)) }), 503, 'temporarily_unavailable');
    assert.ok(Date.now() - started < 3000, 'the timeout was honoured');
  });

  test('an introspection endpoint answering something other than JSON: 503, not a 500', async (t) => {
    const upstream = Fastify({ logger: false });
    upstream.post('/introspect', async (_request, reply) => reply.type('text/html').send('<h1>Bad gateway</h1>'));
    t.after(() => upstream.close());
    const issuer = await upstream.listen({ port: 0, host: '127.0.0.1' });
    const api = await buildApi(t, {
      issuer,
      audience: notesApi,
      introspection: { endpoint: `${issuer}/introspect`, clientId: 'notes', clientSecret: 'secret', cacheSeconds: 0 },
    });
    assertRefused(api, await api.app.inject({ url: '/events', headers: bearer('A'.repeat(43)) }), 503, 'temporarily_unavailable');
  });

  // ─── RFC 6750: how the token is sent, and the errors ──────────────────────────────────────────

  test('no credentials: 401 with a bare Bearer challenge and no error code in it', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, calendarOptions(setup));
    for (const headers of [{}, { authorization: '' }]) {
      const challenge = assertRefused(api, await api.app.inject({ url: '/events', headers }), 401, 'invalid_token');
      // RFC 6750 §3.1: a request without authentication information gets no error information.
      assert.equal(challenge, 'Bearer realm="calendar"');
    }
  });

  test('a malformed Authorization header: 400 invalid_request', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, calendarOptions(setup));
    const token = await setup.token(calendarApi);
    for (const authorization of ['Bearer', 'Bearer ', `Bearer ${token} extra`, `Bearer "${token}"`, `Bearer${token}`, 'Bearer a,b']) {
      const challenge = assertRefused(api, await api.app.inject({ url: '/events', headers: { authorization } }), 400, 'invalid_request');
      assert.equal(challenge, 'Bearer realm="calendar", error="invalid_request"', authorization);
    }
    // The scheme is case-insensitive (RFC 7235 §2.1).
    assertAccepted(await api.app.inject({ url: '/events', headers: { authorization: `bearer ${token}` } }));
  });

  test('access_token in the query is ignored unless allowQueryToken', async (t) => {
    const setup = await setUp(t);
    const token = await setup.token(calendarApi);
    const strict = await buildApi(t, calendarOptions(setup));
    const url = `/events?access_token=${encodeURIComponent(token)}`;
    assert.equal(assertRefused(strict, await strict.app.inject({ url }), 401, 'invalid_token'), 'Bearer realm="calendar"');
    const lenient = await buildApi(t, calendarOptions(setup, { allowQueryToken: true }));
    assert.equal(assertAccepted(await lenient.app.inject({ url })).subject, setup.client.clientId);
  });

  test('access_token in a form body is ignored unless allowBodyToken, and only in a form body', async (t) => {
    const setup = await setUp(t);
    const token = await setup.token(calendarApi);
    const form = { method: 'POST' as const, url: '/events/search', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ access_token: token }).toString() };
    const strict = await buildApi(t, calendarOptions(setup));
    assert.equal(assertRefused(strict, await strict.app.inject(form), 401, 'invalid_token'), 'Bearer realm="calendar"');
    const lenient = await buildApi(t, calendarOptions(setup, { allowBodyToken: true }));
    assert.equal(assertAccepted(await lenient.app.inject(form)).subject, setup.client.clientId);
    lenient.handled = 0;
    // RFC 6750 §2.2: the body method is for application/x-www-form-urlencoded bodies only.
    const json = await lenient.app.inject({ method: 'POST', url: '/events/search', payload: { access_token: token } });
    assertRefused(lenient, json, 401, 'invalid_token');
  });

  test('a token sent in the header and the query at once: 400 invalid_request', async (t) => {
    const setup = await setUp(t);
    const token = await setup.token(calendarApi);
    const api = await buildApi(t, calendarOptions(setup, { allowQueryToken: true, allowBodyToken: true }));
    const url = `/events?access_token=${encodeURIComponent(token)}`;
    const challenge = assertRefused(api, await api.app.inject({ url, headers: bearer(token) }), 400, 'invalid_request', /more than one/);
    assert.equal(challenge, 'Bearer realm="calendar", error="invalid_request"');
    const both = await api.app.inject({
      method: 'POST',
      url: `/events/search?access_token=${encodeURIComponent(token)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ access_token: token }).toString(),
    });
    assertRefused(api, both, 400, 'invalid_request');
  });

  test('a valid token without the needed scope: 403 insufficient_scope naming the scope', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, calendarOptions(setup));
    const token = await setup.token(calendarApi);
    const response = await api.app.inject({ method: 'POST', url: '/events', headers: bearer(token) });
    const challenge = assertRefused(api, response, 403, 'insufficient_scope', /calendar\.write/);
    assert.match(challenge, /^Bearer realm="calendar", /);
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="calendar\.write"/);
  });

  test('the realm defaults to the audience', async (t) => {
    const setup = await setUp(t);
    const api = await buildApi(t, { issuer: setup.server.url, audience: calendarApi });
    assert.equal(assertRefused(api, await api.app.inject({ url: '/events' }), 401, 'invalid_token'), `Bearer realm="${calendarApi}"`);
  });
});
