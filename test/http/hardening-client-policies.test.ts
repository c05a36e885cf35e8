import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { registerClient, type ClientRegistration } from '../../src/server/clients/register-client.ts';
import { defaultConfig, type GatehouseConfig } from '../../src/server/config/defaults.ts';
import { ConfigError, finishConfig } from '../../src/server/config/load.ts';
import {
  authorize,
  authorizeUrl,
  buildTestServer,
  createTestClient,
  createTestUser,
  form,
  issueCode,
  logIn,
  redeemCode,
  rfc7636Verifier,
  type CookieJar,
  type TestClient,
  type TestServer,
} from '../support/test-server.ts';

/*
 * Issue 13, per-client policies: consent for public clients (RFC 8252 §8.6), who may introspect
 * what (RFC 7662 §4), the registered token endpoint auth method (RFC 7591 §2), loopback redirect
 * URIs (RFC 8252 §7.3, §8.3), and error descriptions that echo nothing (RFC 6749 §4.1.2.1, §5.2).
 */

const notesApi = 'https://api.example/notes';
const calendarApi = 'https://api.example/calendar';
/** RFC 6749 §4.1.2.1 and §5.2: the characters an error_description may hold. */
const descriptionCharset = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

async function setUp(t: TestContext, config: Partial<GatehouseConfig> = {}) {
  const server = await buildTestServer({ resources: { [notesApi]: { accessTokenFormat: 'opaque' }, [calendarApi]: { accessTokenFormat: 'opaque' } }, ...config });
  t.after(() => server.close());
  await createTestUser(server);
  const jar = await logIn(server);
  return { server, jar };
}

function post(server: TestServer, url: string, fields: Record<string, string>, authorization?: string) {
  const body = form(fields);
  return server.app.inject({ method: 'POST', url, ...body, headers: { ...body.headers, ...(authorization === undefined ? {} : { authorization }) } });
}

function get(server: TestServer, jar: CookieJar, url: string) {
  return server.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
}

async function introspect(server: TestServer, caller: TestClient, token: string): Promise<Record<string, unknown>> {
  const response = await post(server, '/introspect', { token }, caller.basic);
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as Record<string, unknown>;
}

async function tokensFor(server: TestServer, jar: CookieJar, client: TestClient, extra: Record<string, string> = {}) {
  const code = await issueCode(server, jar, client, { scope: 'profile offline_access', extra });
  const response = await redeemCode(server, client, code);
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as { access_token: string; refresh_token: string };
}

function assertInvalidClient(response: LightMyRequestResponse, description: RegExp) {
  assert.equal(response.statusCode, 401, response.body);
  const body = response.json() as { error: string; error_description: string };
  assert.equal(body.error, 'invalid_client');
  assert.match(body.error_description, description);
}

// ─── item 4: remembered consent and public clients ───────────────────────────────────────────

describe('consent policy', () => {
  const loopback = 'http://127.0.0.1/callback';

  test('a public client with remembered consent is shown the consent page again, and prompt=none gets consent_required', async (t) => {
    const { server, jar } = await setUp(t);
    const app = await createTestClient(server, { type: 'public', redirectUris: [loopback] });
    const first = await authorize(server, jar, app, { scope: 'profile', redirectUri: 'http://127.0.0.1:50001/callback' });
    assert.ok(first.searchParams.get('code'), 'the user consented once');

    // Anyone can send this client ID with a loopback port of their own.
    const again = await get(server, jar, authorizeUrl(app, { scope: 'profile', redirectUri: 'http://127.0.0.1:50002/callback' }));
    assert.equal(again.statusCode, 200, 'the consent page, not a code');
    assert.match(again.body, /name="decision"/);

    const silent = await get(server, jar, authorizeUrl(app, { scope: 'profile offline_access', redirectUri: 'http://127.0.0.1:50003/callback', extra: { prompt: 'none' } }));
    assert.equal(silent.statusCode, 302);
    const location = new URL(silent.headers.location as string);
    assert.equal(`${location.origin}${location.pathname}`, 'http://127.0.0.1:50003/callback');
    assert.equal(location.searchParams.get('error'), 'consent_required');
    assert.equal(location.searchParams.get('code'), null);
  });

  test('a confidential client keeps remembered consent', async (t) => {
    const { server, jar } = await setUp(t);
    const web = await createTestClient(server);
    await authorize(server, jar, web, { scope: 'profile' });
    const silent = await get(server, jar, authorizeUrl(web, { scope: 'profile', extra: { prompt: 'none' } }));
    assert.equal(silent.statusCode, 302);
    assert.ok(new URL(silent.headers.location as string).searchParams.get('code'));
  });

  test('consent_policy always_ask makes a confidential client ask every time', async (t) => {
    const { server, jar } = await setUp(t);
    const web = await createTestClient(server, { consentPolicy: 'always_ask' });
    await authorize(server, jar, web, { scope: 'profile' });
    assert.equal((await get(server, jar, authorizeUrl(web, { scope: 'profile' }))).statusCode, 200);
    const silent = await get(server, jar, authorizeUrl(web, { scope: 'profile', extra: { prompt: 'none' } }));
    assert.equal(new URL(silent.headers.location as string).searchParams.get('error'), 'consent_required');
  });

  test('a public client set to remember does so only for an https redirect URI and without offline_access', async (t) => {
    const { server, jar } = await setUp(t);
    const spa = await createTestClient(server, { type: 'public', redirectUris: ['https://client.example/callback', loopback], consentPolicy: 'remember' });
    await authorize(server, jar, spa, { scope: 'profile offline_access' });
    const https = await get(server, jar, authorizeUrl(spa, { scope: 'profile', extra: { prompt: 'none' } }));
    assert.ok(new URL(https.headers.location as string).searchParams.get('code'), 'https, no offline_access: remembered');
    const offline = await get(server, jar, authorizeUrl(spa, { scope: 'profile offline_access', extra: { prompt: 'none' } }));
    assert.equal(new URL(offline.headers.location as string).searchParams.get('error'), 'consent_required');
    const native = await get(server, jar, authorizeUrl(spa, { scope: 'profile', redirectUri: 'http://127.0.0.1:5000/callback', extra: { prompt: 'none' } }));
    assert.equal(new URL(native.headers.location as string).searchParams.get('error'), 'consent_required');
  });

  test('the policy defaults by client type and an unknown one is refused', async (t) => {
    const { server } = await setUp(t);
    const { client: pub } = await registerClient({ name: 'App', type: 'public', redirectUris: [loopback] }, server.ctx);
    const { client: web } = await registerClient({ name: 'Web', redirectUris: ['https://client.example/cb'] }, server.ctx);
    assert.equal(pub.consentPolicy, 'always_ask');
    assert.equal(web.consentPolicy, 'remember');
    await assert.rejects(
      registerClient({ name: 'Web', redirectUris: ['https://client.example/cb'], consentPolicy: 'sometimes' as never }, server.ctx),
      /consent policy must be one of remember, always_ask/,
    );
  });
});

// ─── item 5: who may introspect what ─────────────────────────────────────────────────────────

describe('introspection permissions', () => {
  test('another web client learns nothing about a token that is not its own', async (t) => {
    const { server, jar } = await setUp(t);
    const owner = await createTestClient(server);
    const other = await createTestClient(server, { name: 'Other web app' });
    const issued = await tokensFor(server, jar, owner);
    assert.deepEqual(await introspect(server, other, issued.access_token), { active: false });
    assert.deepEqual(await introspect(server, other, issued.refresh_token), { active: false });
    // Its own client still sees both.
    assert.equal((await introspect(server, owner, issued.access_token)).active, true);
    assert.equal((await introspect(server, owner, issued.refresh_token)).active, true);
  });

  test('a client registered to introspect sees access tokens, never another client’s refresh token', async (t) => {
    const { server, jar } = await setUp(t);
    const owner = await createTestClient(server, { resources: [notesApi, calendarApi] });
    const api = await createTestClient(server, { name: 'Any API', redirectUris: [], grantTypes: ['client_credentials'], canIntrospect: true });
    const issued = await tokensFor(server, jar, owner);
    const described = await introspect(server, api, issued.access_token);
    assert.equal(described.active, true);
    assert.equal(described.client_id, owner.clientId);
    assert.deepEqual(await introspect(server, api, issued.refresh_token), { active: false });
  });

  test('a token with an audience is described only to a caller that serves it', async (t) => {
    const { server, jar } = await setUp(t);
    const owner = await createTestClient(server, { resources: [notesApi, calendarApi] });
    const notes = await createTestClient(server, { name: 'Notes API', redirectUris: [], grantTypes: ['client_credentials'], canIntrospect: true, servedResources: [notesApi] });
    const calendar = await createTestClient(server, { name: 'Calendar API', redirectUris: [], grantTypes: ['client_credentials'], canIntrospect: true, servedResources: [calendarApi] });
    const unbound = await createTestClient(server, { name: 'Any API', redirectUris: [], grantTypes: ['client_credentials'], canIntrospect: true });
    const forNotes = await tokensFor(server, jar, owner, { resource: notesApi });
    assert.equal((await introspect(server, notes, forNotes.access_token)).aud, notesApi);
    assert.deepEqual(await introspect(server, calendar, forNotes.access_token), { active: false });
    assert.deepEqual(await introspect(server, unbound, forNotes.access_token), { active: false });
    assert.equal((await introspect(server, owner, forNotes.access_token)).active, true, 'its own client always');
  });

  test('introspection permission is refused to public clients', async (t) => {
    const { server } = await setUp(t);
    await assert.rejects(
      registerClient({ name: 'App', type: 'public', redirectUris: ['http://127.0.0.1/cb'], canIntrospect: true }, server.ctx),
      /a public client cannot be given introspection/,
    );
  });
});

// ─── item 8: the registered token endpoint auth method ───────────────────────────────────────

describe('token endpoint auth method', () => {
  async function machine(server: TestServer, overrides: Partial<ClientRegistration> = {}) {
    return createTestClient(server, { redirectUris: [], grantTypes: ['client_credentials'], scopes: ['calendar.read'], ...overrides });
  }
  const grant = { grant_type: 'client_credentials', scope: 'calendar.read' };

  test('a client registered for client_secret_basic cannot send its secret in the body', async (t) => {
    const { server } = await setUp(t);
    const client = await machine(server);
    assert.equal((await post(server, '/token', grant, client.basic)).statusCode, 200);
    const posted = await post(server, '/token', { ...grant, client_id: client.clientId, client_secret: client.clientSecret! });
    assertInvalidClient(posted, /registered for client_secret_basic/);
  });

  test('a client registered for client_secret_post cannot use HTTP Basic, at /token, /introspect and /revoke', async (t) => {
    const { server } = await setUp(t);
    const client = await machine(server, { tokenEndpointAuthMethod: 'client_secret_post' });
    const credentials = { client_id: client.clientId, client_secret: client.clientSecret! };
    const issued = await post(server, '/token', { ...grant, ...credentials });
    assert.equal(issued.statusCode, 200, issued.body);
    const token = (issued.json() as { access_token: string }).access_token;
    for (const [path, fields] of [['/token', grant], ['/introspect', { token }], ['/revoke', { token }]] as const) {
      const basic = await post(server, path, fields, client.basic);
      assertInvalidClient(basic, /registered for client_secret_post/);
      assert.match(basic.headers['www-authenticate'] as string, /^Basic /, path);
    }
    assert.equal(((await post(server, '/introspect', { token, ...credentials })).json() as { active: boolean }).active, true);
    assert.equal((await post(server, '/revoke', { token, ...credentials })).statusCode, 200);
  });

  test('the method is checked against the client type at registration', async (t) => {
    const { server } = await setUp(t);
    await assert.rejects(registerClient({ name: 'A', type: 'public', redirectUris: ['http://127.0.0.1/cb'], tokenEndpointAuthMethod: 'client_secret_post' }, server.ctx), /must be "none"/);
    await assert.rejects(registerClient({ name: 'A', redirectUris: ['https://a.example/cb'], tokenEndpointAuthMethod: 'none' }, server.ctx), /use client_secret_basic or client_secret_post/);
    await assert.rejects(
      registerClient({ name: 'A', redirectUris: ['https://a.example/cb'], tokenEndpointAuthMethod: 'private_key_jwt' as never }, server.ctx),
      /"private_key_jwt" is not supported/,
    );
    const { client } = await registerClient({ name: 'A', redirectUris: ['https://a.example/cb'] }, server.ctx);
    assert.equal(client.tokenEndpointAuthMethod, 'client_secret_basic', 'RFC 7591 §2 default');
  });
});

// ─── item 11: loopback redirect URIs ─────────────────────────────────────────────────────────

describe('loopback redirect URIs', () => {
  test('http on loopback is for public clients and IP literals only', async (t) => {
    const { server } = await setUp(t);
    const register = (type: 'public' | 'confidential', uri: string) => registerClient({ name: 'A', type, redirectUris: [uri] }, server.ctx);
    await assert.rejects(register('confidential', 'http://127.0.0.1/cb'), /uses http on loopback, which only native \(public\) clients may use \(RFC 8252 §7\.3\)/);
    await assert.rejects(register('confidential', 'http://[::1]:3000/cb'), /only native \(public\) clients/);
    await assert.rejects(register('public', 'http://localhost/cb'), /loopback redirect URIs must use an IP literal \(127\.0\.0\.1 or \[::1\]\), RFC 8252 §8\.3/);
    await assert.rejects(register('confidential', 'http://localhost:3000/cb'), /must use an IP literal/);
    assert.deepEqual((await register('public', 'http://127.0.0.1/cb')).client.redirectUris, ['http://127.0.0.1/cb']);
    assert.deepEqual((await register('public', 'http://[::1]/cb')).client.redirectUris, ['http://[::1]/cb']);
  });

  test('allowInsecureHttpRedirectUris lets a web client use loopback http, never localhost, and is refused in production', async (t) => {
    const { server } = await setUp(t, { allowInsecureHttpRedirectUris: true });
    const { client } = await registerClient({ name: 'Mine', redirectUris: ['http://127.0.0.1:3000/callback'] }, server.ctx);
    assert.deepEqual(client.redirectUris, ['http://127.0.0.1:3000/callback']);
    await assert.rejects(registerClient({ name: 'Mine', redirectUris: ['http://localhost:3000/callback'] }, server.ctx), /must use an IP literal/);
    assert.throws(
      () => finishConfig({ ...defaultConfig(), production: true, keyEncryptionKey: 'A'.repeat(43), allowInsecureHttpRedirectUris: true }),
      (error: unknown) => error instanceof ConfigError && /refused in production mode/.test(error.message),
    );
  });
});

// ─── item 10: error descriptions echo nothing ────────────────────────────────────────────────

describe('error descriptions', () => {
  const injected = 'Injected';

  test('an error redirected to the client quotes no request value and keeps to RFC 6749’s characters', async (t) => {
    const { server, jar } = await setUp(t);
    const web = await createTestClient(server);
    const cases: [string, Record<string, string>, string][] = [
      ['response_type with CR LF', { response_type: `token\r\n${injected}: x` }, 'unsupported_response_type'],
      ['response_type with non-ASCII and quotes', { response_type: `"${injected}" — ünïcödé` }, 'unsupported_response_type'],
      ['an unknown scope', { scope: `profile ${injected}-call-+1-555-0100` }, 'invalid_scope'],
      ['an unknown prompt', { prompt: `${injected}é` }, 'invalid_request'],
      ['a code_challenge_method', { code_challenge_method: `${injected}\r\n` }, 'invalid_request'],
      ['a malformed resource', { resource: `${injected} not a URI` }, 'invalid_target'],
      ['a resource the client may not use', { resource: `https://${injected}.example/` }, 'invalid_target'],
    ];
    for (const [name, extra, error] of cases) {
      const response = await get(server, jar, authorizeUrl(web, { extra }));
      assert.equal(response.statusCode, 302, `${name}: ${response.body}`);
      const location = new URL(response.headers.location as string);
      assert.equal(location.searchParams.get('error'), error, name);
      const description = location.searchParams.get('error_description')!;
      assert.match(description, descriptionCharset, name);
      assert.ok(!description.includes(injected), `${name}: ${description}`);
    }
  });

  test('a redirected description spells § and quotes within the charset', async (t) => {
    const { server, jar } = await setUp(t);
    const web = await createTestClient(server);
    const response = await get(server, jar, authorizeUrl(web, { verifier: null, extra: { code_challenge: 'short', code_challenge_method: 'S256' } }));
    const description = new URL(response.headers.location as string).searchParams.get('error_description');
    assert.equal(description, "'code_challenge' must be 43 characters of base64url (RFC 7636 section 4.2)");
  });

  test('the token endpoint’s JSON errors keep to the same characters', async (t) => {
    const { server } = await setUp(t);
    const web = await createTestClient(server);
    const unknownGrant = await post(server, '/token', { grant_type: `x"\\\r\n${injected}é` }, web.basic);
    assert.equal(unknownGrant.statusCode, 400);
    const body = unknownGrant.json() as { error: string; error_description: string };
    assert.equal(body.error, 'unsupported_grant_type');
    assert.match(body.error_description, descriptionCharset);
    const repeated = await server.app.inject({
      method: 'POST',
      url: '/token',
      payload: 'grant_type=client_credentials&grant_type=client_credentials',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: web.basic },
    });
    assert.equal((repeated.json() as { error_description: string }).error_description, "'grant_type' must not be repeated (RFC 6749 section 3.1)");
  });

  test('a code exchange error is described within the charset too', async (t) => {
    const { server, jar } = await setUp(t);
    const web = await createTestClient(server);
    const code = await issueCode(server, jar, web);
    const wrong = await redeemCode(server, web, code, { code_verifier: `${rfc7636Verifier.slice(0, 40)}ü` });
    assert.match((wrong.json() as { error_description: string }).error_description, descriptionCharset);
  });
});
