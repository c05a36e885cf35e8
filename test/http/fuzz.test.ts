import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { machineEndpointPaths } from '../../src/server/http/machine-endpoints.ts';
import {
  buildTestServer,
  CookieJar,
  createTestClient,
  form,
  formFields,
  issueCode,
  password as alicePassword,
  redeemCode,
  redirectUri,
  rfc7636Challenge,
  rfc7636Verifier,
  type TestServer,
} from '../support/test-server.ts';

/**
 * Issue 13, item 17: generated requests to every endpoint the server has. Whatever arrives (query
 * strings, form and JSON bodies, headers, bytes that are not UTF-8, overlong values), the answer
 * is never a 5xx (DESIGN invariant 5), no promise is left rejected, every JSON error has the
 * RFC 6749 §5.2 shape, pages fail with pages, and every redirect goes to a local path or to a
 * registered redirect URI (invariant 9).
 *
 * The routes come from the server itself (Fastify's route tree and the machine lane's paths), so a
 * new endpoint is fuzzed without editing this file. The requests carry, among the noise, what a
 * real caller has (a signed-in session and its CSRF token, client credentials, live tokens, valid
 * PKCE values), so that they get past the first checks into the code behind them.
 *
 * FUZZ_RUNS sets the cases per route and method (default 60; CI keeps the default, a deep run
 * uses thousands); FUZZ_SEED replays a run (fast-check prints the seed and the smallest failing
 * case on failure).
 */

/**
 * RFC 6749 §5.2: `error_description` is limited to %x20-21 / %x23-5B / %x5D-7E. Another change of
 * issue 13 (item 10) makes descriptions keep to it; this switch exists so that the check can be
 * seen separately from the others while that lands.
 */
const ASSERT_DESCRIPTION_CHARSET = true;

const runsPerRoute = Number(process.env.FUZZ_RUNS ?? 60);
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/** RFC 6749 §5.2: `error` is 1*( %x20-21 / %x23-5B / %x5D-7E ), and error codes have no space. */
const errorCodeCharset = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const descriptionCharset = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

const publicRedirectUri = 'https://spa.example/callback';
const registeredRedirectUris = [redirectUri, publicRedirectUri];
const bobPassword = 'bob has another password';

interface Route {
  method: string;
  /** With `:name` path parameters. */
  path: string;
}

/**
 * Every route of the app: Fastify's route tree (`printRoutes`), whose lines are a path segment
 * and its methods, indented by depth, plus the machine lane in front of Fastify, which serves
 * POST only. HEAD is left out: Fastify answers it with the GET handler.
 */
function everyRoute(server: TestServer): Route[] {
  const routes: Route[] = machineEndpointPaths.map((path) => ({ method: 'POST', path }));
  const prefixes: string[] = [];
  for (const line of server.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^(.*?)(?:[├└]── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (match === null) continue;
    const depth = match[1]!.length / 4;
    const path = (prefixes[depth - 1] ?? '') + match[2]!;
    prefixes[depth] = path;
    prefixes.length = depth + 1;
    for (const method of (match[3] ?? '').split(', ')) {
      if (method !== '' && method !== 'HEAD') routes.push({ method, path });
    }
  }
  return routes;
}

interface Fixtures {
  server: TestServer;
  session: Session;
  confidential: { clientId: string; basic: string };
  publicClientId: string;
  /** Things the fuzz may change or delete: the admin routes' path parameters are these. */
  victimClientId: string;
  victimSub: string;
  aliceSub: string;
  accessToken: string;
  refreshToken: string;
  idToken: string;
  adminToken: string;
}

interface Session {
  jar: CookieJar;
  csrf: string;
}

let signIns = 0;

/**
 * Alice signs in through the login form as a browser does, each time from an address of her own
 * (the login form counts attempts per address), and the account page gives her a CSRF token.
 */
async function signIn(server: TestServer): Promise<Session> {
  const remoteAddress = `10.0.0.${++signIns}`;
  const jar = new CookieJar();
  const page = await server.app.inject({ method: 'GET', url: '/login', remoteAddress });
  jar.store(page);
  const body = form({ _csrf: formFields(page.body).get('_csrf')!, return_to: '/account', username: 'alice', password: alicePassword });
  const login = await server.app.inject({ method: 'POST', url: '/login', remoteAddress, ...body, headers: { ...body.headers, cookie: jar.header() } });
  assert.equal(login.statusCode, 303, `sign-in failed: ${login.body}`);
  jar.store(login);
  const account = await server.app.inject({ method: 'GET', url: '/account', remoteAddress, headers: { cookie: jar.header() } });
  assert.equal(account.statusCode, 200, 'the account page after signing in');
  jar.store(account);
  const csrf = formFields(account.body).get('_csrf');
  assert.ok(csrf !== undefined, 'the account page has a CSRF token');
  return { jar, csrf };
}

let victims = 0;

/** The admin routes may have deleted the victims; the next route gets them back. */
async function victimsBack(f: Fixtures): Promise<void> {
  if ((await f.server.storage.findClient(f.victimClientId)) === undefined) f.victimClientId = (await createTestClient(f.server, { name: 'Victim' })).clientId;
  if ((await f.server.storage.findAccount(f.victimSub)) === undefined) {
    f.victimSub = (await createAccount({ username: `victim-${++victims}`, password: bobPassword }, f.server.ctx)).id;
  }
}

/** A fuzzed /logout or password change may end the session; the next route gets a live one. */
async function liveSession(fixtures: Fixtures): Promise<Session> {
  const account = await fixtures.server.app.inject({ method: 'GET', url: '/account', headers: { cookie: fixtures.session.jar.header() } });
  if (account.statusCode !== 200) fixtures.session = await signIn(fixtures.server);
  return fixtures.session;
}

async function buildFixtures(): Promise<Fixtures> {
  const server = await buildTestServer();
  const aliceAccount = await createAccount({ username: 'alice', password: alicePassword, name: 'Alice Kim', isAdmin: true }, server.ctx);
  await createAccount({ username: 'bob', password: bobPassword }, server.ctx);
  const victim = await createAccount({ username: 'victim', password: bobPassword }, server.ctx);
  const confidential = await createTestClient(server, { name: 'Confidential', scopes: ['openid', 'profile', 'email', 'calendar.read', 'offline_access'] });
  const publicClient = await createTestClient(server, { name: 'Public', type: 'public', redirectUris: [publicRedirectUri] });
  const victimClient = await createTestClient(server, { name: 'Victim' });
  const ops = await createTestClient(server, { name: 'Ops', redirectUris: [], grantTypes: ['client_credentials'], scopes: ['admin'] });

  const session = await signIn(server);
  const code = await issueCode(server, session.jar, confidential, { scope: 'openid profile email offline_access' });
  const tokens = (await redeemCode(server, confidential, code)).json() as Record<string, string>;
  assert.ok(tokens.access_token && tokens.refresh_token && tokens.id_token, JSON.stringify(tokens));
  const admin = await server.app.inject({
    method: 'POST',
    url: '/token',
    ...form({ grant_type: 'client_credentials', scope: 'admin' }),
    headers: { ...form({}).headers, authorization: ops.basic },
  });
  assert.equal(admin.statusCode, 200, admin.body);
  return {
    server,
    session,
    confidential,
    publicClientId: publicClient.clientId,
    victimClientId: victimClient.clientId,
    victimSub: victim.id,
    aliceSub: aliceAccount.id,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    idToken: tokens.id_token,
    adminToken: (admin.json() as { access_token: string }).access_token,
  };
}

// ---------------------------------------------------------------------------------------------
// What a request is made of.

const parameterNames = [
  'response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'prompt',
  'max_age', 'id_token_hint', 'nonce', 'login_hint', 'ui_locales', 'response_mode', 'return_to', 'to', 'grant_type',
  'code', 'code_verifier', 'refresh_token', 'token', 'token_type_hint', 'client_secret', 'client_assertion',
  'client_assertion_type', 'resource', 'audience', 'request', 'request_uri', 'access_token', '_csrf', 'decision',
  'username', 'password', 'current_password', 'new_password', 'name', 'email', 'redirect_uris', 'grant_types',
  'lang', 'cursor', 'limit',
];

/** Values that mean something to some endpoint, so that generated requests get past its first checks. */
function meaningfulValues(f: Fixtures): string[] {
  return [
    f.confidential.clientId, f.publicClientId, f.victimClientId, redirectUri, publicRedirectUri, 'https://spa.example/callback/',
    'code', 'token', 'id_token', 'code id_token', 'S256', 'plain', rfc7636Challenge, rfc7636Verifier,
    'openid', 'profile', 'openid profile email offline_access', 'admin', 'calendar.read',
    'none', 'login', 'consent', 'select_account', '0', '-1', '1e309', '99999999999999999999',
    'authorization_code', 'refresh_token', 'client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:device_code',
    f.accessToken, f.refreshToken, f.idToken, 'access_token', f.session.csrf, 'allow', 'deny', 'bob', bobPassword,
    'https://evil.example/', '//evil.example', '/\\evil.example', '/%2F%2Fevil.example', '/%5Cevil', '/account', '/..//x',
    '/%2e%2e/admin', 'javascript:alert(1)', 'en', 'fr', 'de-CH', 'zz', f.victimSub, f.aliceSub, '', ' ', 'query', 'fragment',
  ];
}

/** Bytes: meaningful text, any Unicode (lone surrogates included), any bytes (often not UTF-8), or overlong text. */
function valueBytes(f: Fixtures): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...meaningfulValues(f)).map((text) => Buffer.from(text)) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 30 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.integer({ min: 4_000, max: 70_000 }).map((length) => Buffer.alloc(length, 'a')) },
  );
}

function nameBytes(): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...parameterNames).map((name) => Buffer.from(name)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }).map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)) },
  );
}

type Pair = [name: Buffer, value: Buffer];

/**
 * The parameters of a well-formed request of one of the test clients (authorization request,
 * consent form, token request, revocation, sign-in), as a real caller sends them: a random subset
 * of them reaches past the first checks of whichever endpoint reads them, where random pairs alone
 * would mostly be refused as incomplete.
 */
function coherentPairs(f: Fixtures): fc.Arbitrary<Pair[]> {
  const core = (clientId: string, redirect: string): [string, string][] => [
    ['response_type', 'code'], ['client_id', clientId], ['redirect_uri', redirect], ['scope', 'openid profile offline_access'],
    ['state', 'xyz'], ['code_challenge', rfc7636Challenge], ['code_challenge_method', 'S256'],
  ];
  const cores = fc.constantFrom(core(f.confidential.clientId, redirectUri), core(f.publicClientId, publicRedirectUri));
  const optional = fc
    .record({
      grant_type: fc.constantFrom('authorization_code', 'refresh_token', 'client_credentials'),
      token: fc.constantFrom(f.accessToken, f.refreshToken, f.adminToken),
      prompt: fc.constantFrom('none', 'login', 'consent'),
      decision: fc.constantFrom('allow', 'deny'),
    })
    .map((chosen) => Object.entries({
      ...chosen, nonce: 'n-0S6_WzA2Mj', code_verifier: rfc7636Verifier, return_to: '/account', username: 'bob',
      password: bobPassword, refresh_token: f.refreshToken, code: 'not-a-code',
    }));
  return fc
    .tuple(
      fc.oneof({ weight: 3, arbitrary: cores }, { weight: 1, arbitrary: cores.chain((pairs) => fc.subarray(pairs)) }),
      optional.chain((pairs) => fc.subarray(pairs, { maxLength: 4 })),
      fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(nameBytes(), valueBytes(f)), { maxLength: 2 }) }),
      fc.nat(),
      fc.option(valueBytes(f), { freq: 3 }),
    )
    .map(([corePairs, optionalPairs, withCsrf, extra, index, replacement]) => {
      const named: [string, string][] = [...corePairs, ...optionalPairs, ...(withCsrf ? [['_csrf', f.session.csrf] as [string, string]] : [])];
      const pairs: Pair[] = named.map(([name, value]) => [Buffer.from(name), Buffer.from(value)]);
      // Now and then one value is replaced by a generated one.
      if (replacement !== null && pairs.length > 0) pairs[index % pairs.length]![1] = replacement;
      return [...pairs, ...extra];
    });
}

function anyPairs(f: Fixtures): fc.Arbitrary<Pair[]> {
  return fc.oneof(
    { weight: 3, arbitrary: coherentPairs(f) },
    { weight: 1, arbitrary: fc.array(fc.tuple(nameBytes(), valueBytes(f)), { maxLength: 8 }) },
  );
}

/** Percent-encodes every byte outside RFC 3986's unreserved set: invalid UTF-8 arrives as %XX sequences. */
function percentEncode(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `application/x-www-form-urlencoded` text of the pairs, now and then with broken syntax mixed in. */
function encodedPairs(f: Fixtures): fc.Arbitrary<string> {
  const junk = fc.constantFrom('%', '%zz', '%C3%28', '%FF%FE', '&&', '==', '=x', 'x', '+', '%00', '%E2%82', 'a=%');
  return fc.tuple(anyPairs(f), fc.option(fc.tuple(junk, fc.nat()), { freq: 6 })).map(([pairs, broken]) => {
    const parts = pairs.map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`);
    if (broken !== null) parts.splice(broken[1] % (parts.length + 1), 0, broken[0]);
    return parts.join('&');
  });
}

interface Body {
  contentType: string | undefined;
  payload: Buffer | undefined;
}

const formType = 'application/x-www-form-urlencoded';

function body(f: Fixtures): fc.Arbitrary<Body> {
  const formBody = fc.record({
    contentType: fc.constantFrom(formType, `${formType}; charset=utf-8`),
    payload: encodedPairs(f).map((text) => Buffer.from(text)),
  });
  const jsonValue = fc.oneof(
    { weight: 3, arbitrary: anyPairs(f).map((pairs) => Object.fromEntries(pairs.map(([name, value]) => [name.toString(), value.toString()]))) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...parameterNames), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
  const json = fc.record({
    contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
    payload: jsonValue.map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  });
  // Anything in any envelope: mismatched types, unknown types, no type, bytes, an overlong body.
  const mismatched = fc.record({
    contentType: fc.constantFrom(
      formType, 'application/json', `${formType}; charset=latin1`, 'application/json; charset=utf-16', 'text/plain',
      'multipart/form-data; boundary=x', `${formType}, application/json`, '*/*', '', undefined,
    ),
    payload: fc.oneof(
      encodedPairs(f).map((text) => Buffer.from(text)),
      jsonValue.map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      fc.constant(undefined),
      fc.constant(Buffer.alloc(70_000, 'a')),
    ),
  });
  return fc.oneof({ weight: 5, arbitrary: formBody }, { weight: 3, arbitrary: json }, { weight: 2, arbitrary: mismatched });
}

function headerText(): fc.Arbitrary<string> {
  // What an HTTP/1.1 header value may carry: visible ASCII, space, tab and obs-text (RFC 9110 §5.5).
  const unit = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(9)).map((code) => String.fromCharCode(code));
  return fc.string({ unit, maxLength: 60 });
}

function authorization(f: Fixtures): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(f.confidential.basic) },
    { weight: 6, arbitrary: fc.constantFrom(`Bearer ${f.accessToken}`, `Bearer ${f.adminToken}`) },
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(`Bearer ${f.refreshToken}`, `Bearer ${f.idToken}`, 'Basic', 'Bearer', 'Basic =', 'Basic Og==', `bearer  ${f.accessToken}`) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.oneof(fc.constant(f.confidential.clientId), fc.string({ maxLength: 20 })), fc.string({ maxLength: 20 }))
        .map(([id, secret]) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`),
    },
    { weight: 1, arbitrary: headerText().map((text) => `Bearer ${text}`) },
    { weight: 1, arbitrary: headerText() },
  );
}

function cookie(f: Fixtures): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant('session') },
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: headerText().map((text) => `session; ${text}`) },
    { weight: 1, arbitrary: headerText() },
  ).map((value) => (value === 'session' ? f.session.jar.header() : value?.startsWith('session; ') ? `${f.session.jar.header()}; ${value.slice(9)}` : value));
}

interface FuzzRequest {
  path: string;
  query: string | undefined;
  body: Body;
  headers: Record<string, string | undefined>;
  remoteAddress: string;
}

function request(route: Route, f: Fixtures): fc.Arbitrary<FuzzRequest> {
  // Admin routes' parameters name only the victims or nobody, so the fuzz cannot delete what the
  // other routes' requests need.
  const pathParameter = (name: string) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(/client/i.test(name) ? f.victimClientId : f.victimSub) },
      { weight: 1, arbitrary: fc.constantFrom(f.victimClientId, f.victimSub) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map((text) => percentEncode(Buffer.from(text))) },
    );
  const segments = route.path.split('/').map((segment) => (segment.startsWith(':') ? pathParameter(segment) : fc.constant(segment)));
  return fc.record({
    path: fc.tuple(...segments).map((parts) => parts.join('/')),
    // A query on a GET is where its parameters are; on a POST it is mostly noise.
    query: fc.option(encodedPairs(f), { nil: undefined, freq: route.method === 'GET' ? 6 : 2 }),
    body: route.method === 'GET' ? fc.constant({ contentType: undefined, payload: undefined }) : body(f),
    headers: fc.record({
      authorization: authorization(f),
      cookie: cookie(f),
      accept: fc.constantFrom(undefined, 'text/html', 'application/json', '*/*', 'image/png'),
      'accept-language': fc.oneof(fc.constantFrom(undefined, 'fr', 'de-CH,de;q=0.9', 'zz;q=2', '*'), headerText()),
      'x-forwarded-for': fc.oneof(fc.constant(undefined), fc.ipV4(), headerText()),
      origin: fc.constantFrom(undefined, 'https://evil.example', 'null'),
    }),
    remoteAddress: fc.ipV4(),
  });
}

// ---------------------------------------------------------------------------------------------
// What every answer must be.

interface Seen {
  statuses: Map<number, number>;
  /** How this route answered errors: a route for browsers fails with pages, one for machines with JSON, never both. */
  errorFormats: Set<'json' | 'page'>;
}

function checkAnswer(route: Route, response: LightMyRequestResponse, seen: Seen): void {
  seen.statuses.set(response.statusCode, (seen.statuses.get(response.statusCode) ?? 0) + 1);
  assert.ok(response.statusCode < 500, `a ${response.statusCode}: ${response.body.slice(0, 300)}`);
  const contentType = String(response.headers['content-type'] ?? '');
  if (response.statusCode >= 400) {
    if (contentType.startsWith('application/json')) {
      checkErrorBody(response.body);
      seen.errorFormats.add('json');
    } else if (contentType.startsWith('text/html')) {
      assert.match(response.body, /^<!doctype html>/i, 'an HTML error is a whole page');
      seen.errorFormats.add('page');
    } else {
      assert.fail(`an error of ${route.method} ${route.path} must be JSON or a page, got "${contentType}": ${response.body.slice(0, 200)}`);
    }
    assert.equal(seen.errorFormats.size, 1, `${route.method} ${route.path} answers errors both as JSON and as pages`);
  }
  if (response.statusCode >= 300 && response.statusCode < 400) {
    const location = response.headers.location;
    assert.equal(typeof location, 'string', 'a redirect has a Location');
    checkLocation(location as string);
  }
}

/** RFC 6749 §5.2 (and §4.1.2.1 for redirects, RFC 6750 §3 for Bearer errors). */
function checkErrorBody(text: string): void {
  const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
  assert.equal(typeof body.error, 'string', `an error body has an "error" string: ${text.slice(0, 200)}`);
  assert.match(body.error as string, errorCodeCharset);
  if (body.error_description !== undefined) {
    assert.equal(typeof body.error_description, 'string');
    if (ASSERT_DESCRIPTION_CHARSET) {
      assert.match(body.error_description as string, descriptionCharset, `error_description keeps to RFC 6749 §5.2: ${JSON.stringify(body.error_description)}`);
    }
  }
}

/** DESIGN invariant 9: a local path (one `/`, then neither `/` nor `\`) or a registered redirect URI. */
function checkLocation(location: string): void {
  const target = location.split(/[?#]/)[0]!;
  if (registeredRedirectUris.includes(target)) return;
  assert.match(location, /^\/(?![/\\])/, `a redirect to "${location}" is neither local nor registered`);
}

// ---------------------------------------------------------------------------------------------

test('every endpoint, fuzzed: no 5xx, no unhandled rejection, RFC-shaped errors, safe redirects', { timeout: 600_000 }, async (t) => {
  const escaped: unknown[] = [];
  const onEscape = (error: unknown) => escaped.push(error);
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
  const fixtures = await buildFixtures();
  t.after(async () => {
    process.off('unhandledRejection', onEscape);
    process.off('uncaughtException', onEscape);
    await fixtures.server.close();
  });
  const routes = everyRoute(fixtures.server);
  // The tree parse works: known routes of each lane are there.
  for (const known of ['POST /token', 'POST /introspect', 'POST /revoke', 'GET /userinfo', 'GET /authorize', 'POST /login', 'DELETE /admin/api/clients/:client_id']) {
    assert.ok(routes.some((route) => `${route.method} ${route.path}` === known), `${known} is among the routes: ${routes.map((r) => `${r.method} ${r.path}`).join(', ')}`);
  }

  for (const route of routes) {
    await t.test(`${route.method} ${route.path}`, async (routeTest) => {
      await liveSession(fixtures);
      await victimsBack(fixtures);
      const seen: Seen = { statuses: new Map(), errorFormats: new Set() };
      const { statuses } = seen;
      await fc.assert(
        fc.asyncProperty(request(route, fixtures), async (generated) => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(generated.headers)) if (value !== undefined) headers[name] = value;
          if (generated.body.contentType !== undefined) headers['content-type'] = generated.body.contentType;
          const response = await fixtures.server.app.inject({
            method: route.method as 'GET',
            url: generated.query === undefined ? generated.path : `${generated.path}?${generated.query}`,
            headers,
            ...(generated.body.payload === undefined ? {} : { payload: generated.body.payload }),
            remoteAddress: generated.remoteAddress,
          });
          checkAnswer(route, response, seen);
        }),
        { numRuns: runsPerRoute, includeErrorInReport: true, ...(seed === undefined ? {} : { seed }) },
      );
      assert.deepEqual(escaped, [], 'no unhandled rejection or uncaught exception');
      // Rate limits may answer 429, but a fuzz that mostly meets them tests nothing.
      routeTest.diagnostic(`statuses: ${[...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ')}`);
      const total = [...statuses.values()].reduce((sum, count) => sum + count, 0);
      assert.ok((statuses.get(429) ?? 0) * 2 <= total, `most answers are 429: ${JSON.stringify([...statuses])}`);
    });
  }
});
