/**
 * The authorization endpoint and everything a browser meets on the way to a code (issue 2, §3):
 * trusting the client and redirect URI, error redirects, PKCE, scopes, login, consent, CSRF,
 * page headers, escaping and the code itself.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { hashSecret } from '../../src/server/keys/opaque-secret.ts';
import type { GatehouseConfig } from '../../src/server/config/defaults.ts';
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
  redirectUri,
  rfc7636Challenge,
  rfc7636Verifier,
  type TestClient,
  type TestServer,
} from '../support/test-server.ts';

// ---------------------------------------------------------------------------------------------
// Helpers

async function setup(t: TestContext, overrides: Partial<GatehouseConfig> = {}): Promise<TestServer> {
  const server = await buildTestServer(overrides);
  t.after(() => server.close());
  return server;
}

function get(server: TestServer, url: string, jar?: CookieJar): Promise<LightMyRequestResponse> {
  return server.app.inject({ method: 'GET', url, headers: jar ? { cookie: jar.header() } : {} });
}

function post(server: TestServer, url: string, fields: Record<string, string> | Map<string, string>, jar?: CookieJar) {
  const body = form(fields);
  return server.app.inject({ method: 'POST', url, ...body, headers: { ...body.headers, ...(jar ? { cookie: jar.header() } : {}) } });
}

/** The authorization parameters the helpers of test-server.ts would send, as a plain object. */
function authorizationParams(client: TestClient, options: Parameters<typeof authorizeUrl>[1] = {}): Record<string, string> {
  return Object.fromEntries(new URL(authorizeUrl(client, options), issuer).searchParams);
}

/** Sends an authorization request by GET (query) or POST (form body), RFC 6749 §3.1. */
function sendAuthorize(server: TestServer, method: 'GET' | 'POST', params: Record<string, string>, jar?: CookieJar) {
  if (method === 'GET') return get(server, `/authorize?${new URLSearchParams(params)}`, jar);
  return post(server, '/authorize', params, jar);
}

/** The text of a page with HTML entities decoded, for matching descriptions. */
function pageText(body: string): string {
  return body
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

function assertHtml(response: LightMyRequestResponse): void {
  assert.match(String(response.headers['content-type']), /^text\/html/);
}

/** An error shown to the user as a page: never a redirect (RFC 6749 §4.1.2.1). */
function assertErrorPage(response: LightMyRequestResponse, status: number, code: string, description: string): void {
  assert.equal(response.statusCode, status, response.body);
  assertHtml(response);
  assert.equal(response.headers.location, undefined);
  assert.doesNotMatch(response.body, /http-equiv="?refresh/i);
  assert.ok(pageText(response.body).includes(description), `page should say ${JSON.stringify(description)}:\n${response.body}`);
  assert.ok(response.body.includes(`<code>${code}</code>`), `page should show error code ${code}`);
}

interface ExpectedErrorRedirect {
  status: number;
  error: string;
  description: string;
  state?: string | null;
  target?: string;
}

/** RFC 6749 §4.1.2.1 and RFC 9207: the error goes back to the trusted redirect URI with state and iss. */
function assertErrorRedirect(response: LightMyRequestResponse, expected: ExpectedErrorRedirect): URL {
  assert.equal(response.statusCode, expected.status, response.body);
  const location = new URL(response.headers.location as string);
  assert.equal(`${location.origin}${location.pathname}`, expected.target ?? redirectUri);
  assert.equal(location.searchParams.get('error'), expected.error);
  const description = location.searchParams.get('error_description') ?? '';
  assert.ok(description.includes(expected.description), `error_description ${JSON.stringify(description)} should include ${JSON.stringify(expected.description)}`);
  assert.equal(location.searchParams.get('state'), expected.state === undefined ? 'xyz' : expected.state);
  assert.equal(location.searchParams.get('iss'), issuer);
  assert.equal(location.searchParams.get('code'), null);
  return location;
}

/** The code of a success redirect, after checking state and iss. */
function codeFrom(response: LightMyRequestResponse, status: number, state = 'xyz', target = redirectUri): string {
  assert.equal(response.statusCode, status, response.body);
  const location = new URL(response.headers.location as string);
  assert.equal(`${location.origin}${location.pathname}`, target);
  assert.equal(location.searchParams.get('error'), null, location.toString());
  assert.equal(location.searchParams.get('state'), state);
  assert.equal(location.searchParams.get('iss'), issuer);
  const code = location.searchParams.get('code');
  assert.ok(code !== null, `no code in ${location}`);
  return code;
}

/** Redeems a code with exactly the fields given: Basic for confidential clients, client_id for public ones. */
function redeem(server: TestServer, client: TestClient, fields: Record<string, string>) {
  const isPublic = client.clientSecret === null;
  const body = form({ grant_type: 'authorization_code', ...(isPublic ? { client_id: client.clientId } : {}), ...fields });
  return server.app.inject({
    method: 'POST',
    url: '/token',
    ...body,
    headers: { ...body.headers, ...(isPublic ? {} : { authorization: client.basic }) },
  });
}

function assertInvalidGrant(response: LightMyRequestResponse, description: string): void {
  assert.equal(response.statusCode, 400, response.body);
  assert.equal(response.json().error, 'invalid_grant');
  assert.ok(response.json().error_description.includes(description), response.json().error_description);
}

/** The raw Set-Cookie header for one cookie, or undefined. */
function setCookie(response: LightMyRequestResponse, name: string): string | undefined {
  const header = response.headers['set-cookie'];
  const all = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return all.find((cookie) => cookie.startsWith(`${name}=`));
}

/** GET /authorize → consent page, for a logged-in browser. */
async function consentPageFor(server: TestServer, jar: CookieJar, client: TestClient, options: Parameters<typeof authorizeUrl>[1] = {}) {
  const response = await get(server, authorizeUrl(client, options), jar);
  assert.equal(response.statusCode, 200, `expected the consent page, got ${response.statusCode} ${response.headers.location ?? ''}`);
  assertHtml(response);
  return response;
}

function decide(server: TestServer, jar: CookieJar, consentPage: LightMyRequestResponse, decision: 'allow' | 'deny') {
  const fields = formFields(consentPage.body);
  fields.set('decision', decision);
  return post(server, '/authorize/decision', fields, jar);
}

/** The list of scopes the consent page asks for now (not those already granted). */
function requestedScopeList(body: string): string {
  return /<ul class="scopes">([\s\S]*?)<\/ul>/.exec(body)?.[1] ?? '';
}

// ---------------------------------------------------------------------------------------------

describe('an untrusted client or redirect URI gets an error page, never a redirect', () => {
  for (const method of ['GET', 'POST'] as const) {
    test(`${method}: unknown client_id → 400 page`, async (t) => {
      const server = await setup(t);
      const client = await createTestClient(server);
      const response = await sendAuthorize(server, method, { ...authorizationParams(client), client_id: 'no-such-client' });
      assertErrorPage(response, 400, 'invalid_client', 'there is no client with ID "no-such-client"');
    });

    test(`${method}: missing or empty client_id → 400 page`, async (t) => {
      const server = await setup(t);
      const client = await createTestClient(server);
      const { client_id: _dropped, ...params } = authorizationParams(client);
      assertErrorPage(await sendAuthorize(server, method, params), 400, 'invalid_request', '"client_id" is required');
      // RFC 6749 §3.1: a parameter without a value is treated as omitted.
      assertErrorPage(await sendAuthorize(server, method, { ...params, client_id: '' }), 400, 'invalid_request', '"client_id" is required');
    });

    test(`${method}: missing redirect_uri → 400 page`, async (t) => {
      const server = await setup(t);
      const client = await createTestClient(server);
      const { redirect_uri: _dropped, ...params } = authorizationParams(client);
      assertErrorPage(await sendAuthorize(server, method, params), 400, 'invalid_request', '"redirect_uri" is required');
    });

    test(`${method}: an unregistered redirect_uri and near-misses of the registered one → 400 page`, async (t) => {
      const server = await setup(t);
      const client = await createTestClient(server);
      const nearMisses = [
        'https://attacker.example/callback',
        `${redirectUri}/`,
        `${redirectUri}?extra=1`,
        `${redirectUri}#fragment`,
        'https://CLIENT.example/callback',
        'https://client.example/Callback',
        'http://client.example/callback',
        'https://client.example:443/callback',
        'https://client.example/callback/../callback',
        'https://client.example.attacker.example/callback',
        'https://client.example@attacker.example/callback',
        'https://client.example/callback%2F',
        ` ${redirectUri}`,
      ];
      for (const uri of nearMisses) {
        const response = await sendAuthorize(server, method, authorizationParams(client, { redirectUri: uri }));
        assertErrorPage(response, 400, 'invalid_request', '"redirect_uri" is not registered for client "Mine"');
        assert.doesNotMatch(response.body, /href="https?:\/\/(?!client\.example)/, uri);
      }
    });
  }

  test('an untrusted redirect URI wins over every other error in the request', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    const response = await sendAuthorize(server, 'GET', {
      ...authorizationParams(client, { redirectUri: 'https://attacker.example/cb', scope: 'admin' }),
      response_type: 'token',
      code_challenge_method: 'plain',
    });
    assertErrorPage(response, 400, 'invalid_request', '"redirect_uri" is not registered');
  });

  test('a repeated client_id or redirect_uri is refused on a page (RFC 6749 §3.1), not resolved to either value', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server, { redirectUris: [redirectUri, 'https://client.example/other'] });
    const base = authorizationParams(client);
    const repeatedUri = `${authorizeUrl(client)}&redirect_uri=${encodeURIComponent('https://client.example/other')}`;
    assertErrorPage(await get(server, repeatedUri), 400, 'invalid_request', '"redirect_uri" must not be repeated');
    const repeatedClient = `/authorize?${new URLSearchParams(base)}&client_id=${encodeURIComponent(base.client_id!)}`;
    assertErrorPage(await get(server, repeatedClient), 400, 'invalid_request', '"client_id" must not be repeated');
  });

  test('the decision endpoint checks the client and redirect URI again: a tampered redirect_uri gets a page', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const page = await consentPageFor(server, jar, client);
    const fields = formFields(page.body);
    fields.set('redirect_uri', 'https://attacker.example/callback');
    fields.set('decision', 'allow');
    const response = await post(server, '/authorize/decision', fields, jar);
    assertErrorPage(response, 400, 'invalid_request', '"redirect_uri" is not registered');
  });
});

describe('once the client and redirect URI are trusted, errors redirect with error, error_description, state and iss', () => {
  interface ErrorCase {
    name: string;
    params: (base: Record<string, string>) => Record<string, string>;
    error: string;
    description: string;
    registration?: Parameters<typeof createTestClient>[1];
    /** Appended to the encoded parameters as sent, for repeated parameters. */
    repeat?: string;
  }
  const without = (base: Record<string, string>, ...names: string[]) =>
    Object.fromEntries(Object.entries(base).filter(([name]) => !names.includes(name)));
  const cases: ErrorCase[] = [
    { name: 'missing response_type', params: (b) => without(b, 'response_type'), error: 'invalid_request', description: "'response_type' is required" },
    {
      name: 'response_type=token (no implicit grant)',
      params: (b) => ({ ...b, response_type: 'token' }),
      error: 'unsupported_response_type',
      // Redirected errors quote no request value (RFC 6749 §4.1.2.1; issue 13).
      description: "'response_type' must be 'code'",
    },
    {
      name: 'an unknown scope',
      params: (b) => ({ ...b, scope: 'profile superuser' }),
      error: 'invalid_scope',
      description: "'scope' names a scope this server does not know",
    },
    {
      name: 'a known scope the client is not registered for',
      params: (b) => ({ ...b, scope: 'profile calendar.read' }),
      registration: { scopes: ['profile'] },
      error: 'invalid_scope',
      description: "client 'Mine' is not registered for scope 'calendar.read'",
    },
    {
      name: 'a repeated scope parameter',
      params: (b) => ({ ...b, scope: 'profile' }),
      repeat: 'scope=email',
      error: 'invalid_request',
      description: "'scope' must not be repeated",
    },
    {
      name: 'code_challenge_method=plain',
      params: (b) => ({ ...b, code_challenge: rfc7636Challenge, code_challenge_method: 'plain' }),
      error: 'invalid_request',
      description: "'code_challenge_method' must be S256",
    },
    {
      name: 'code_challenge without code_challenge_method (which means plain)',
      params: (b) => without(b, 'code_challenge_method'),
      error: 'invalid_request',
      description: "'code_challenge_method' is required and must be S256",
    },
    {
      name: 'code_challenge_method without code_challenge',
      params: (b) => without(b, 'code_challenge'),
      error: 'invalid_request',
      description: "'code_challenge_method' was sent without 'code_challenge'",
    },
    {
      name: 'a code_challenge that is too short',
      params: (b) => ({ ...b, code_challenge: 'too-short' }),
      error: 'invalid_request',
      description: "'code_challenge' must be 43 characters of base64url",
    },
    {
      name: 'a code_challenge in base64 rather than base64url',
      params: (b) => ({ ...b, code_challenge: rfc7636Challenge.replace('-', '+') }),
      error: 'invalid_request',
      description: "'code_challenge' must be 43 characters of base64url",
    },
    {
      name: 'a public client without PKCE',
      params: (b) => without(b, 'code_challenge', 'code_challenge_method'),
      registration: { type: 'public' },
      error: 'invalid_request',
      description: "'code_challenge' is required for public clients",
    },
  ];

  for (const method of ['GET', 'POST'] as const) {
    for (const c of cases) {
      test(`${method}: ${c.name} → ${c.error}`, async (t) => {
        const server = await setup(t);
        const client = await createTestClient(server, c.registration);
        const params = c.params(authorizationParams(client));
        const encoded = `${new URLSearchParams(params)}${c.repeat === undefined ? '' : `&${c.repeat}`}`;
        const response =
          method === 'GET'
            ? await get(server, `/authorize?${encoded}`)
            : await server.app.inject({ method: 'POST', url: '/authorize', payload: encoded, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        assertErrorRedirect(response, { status: method === 'GET' ? 302 : 303, error: c.error, description: c.description });
      });
    }
  }

  test('errors are redirected the same way for a logged-in user', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const response = await get(server, authorizeUrl(client, { scope: 'profile superuser' }), jar);
    assertErrorRedirect(response, { status: 302, error: 'invalid_scope', description: "'scope' names a scope this server does not know" });
  });

  test('without state the error redirect carries no state; a registered query is kept', async (t) => {
    const server = await setup(t);
    const target = 'https://client.example/callback?tenant=7';
    const client = await createTestClient(server, { redirectUris: [target] });
    const { state: _dropped, ...params } = authorizationParams(client, { redirectUri: target });
    const location = assertErrorRedirect(await sendAuthorize(server, 'GET', { ...params, response_type: 'token' }), {
      status: 302,
      error: 'unsupported_response_type',
      description: "'response_type' must be 'code'",
      state: null,
      target: 'https://client.example/callback',
    });
    assert.equal(location.searchParams.get('tenant'), '7');
  });

  test('a state with special characters comes back unchanged', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    const state = 'a b&c=d/é?"<>#';
    const response = await sendAuthorize(server, 'GET', { ...authorizationParams(client, { state }), response_type: 'token' });
    assertErrorRedirect(response, { status: 302, error: 'unsupported_response_type', description: "must be 'code'", state });
  });
});

describe('PKCE, parameters and scopes on the success path', () => {
  test('a confidential client may omit PKCE; the exchange then must not send a verifier (downgrade)', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const code = await issueCode(server, jar, client, { verifier: null, scope: 'profile' });
    assertInvalidGrant(
      await redeem(server, client, { code, redirect_uri: redirectUri, code_verifier: rfc7636Verifier }),
      "'code_verifier' was sent but the authorization request had no code_challenge",
    );
    // The refused exchange spent the code (DESIGN invariant 3).
    assertInvalidGrant(await redeem(server, client, { code, redirect_uri: redirectUri }), 'already been used');
    const fresh = await issueCode(server, jar, client, { verifier: null, scope: 'profile' });
    const response = await redeem(server, client, { code: fresh, redirect_uri: redirectUri });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().scope, 'profile');
  });

  test('a code issued with a challenge needs the matching verifier', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const code = () => issueCode(server, jar, client, { scope: 'profile' });
    const withoutVerifier = await code();
    assertInvalidGrant(await redeem(server, client, { code: withoutVerifier, redirect_uri: redirectUri }), "'code_verifier' is required");
    assertInvalidGrant(
      await redeem(server, client, { code: await code(), redirect_uri: redirectUri, code_verifier: 'x'.repeat(43) }),
      "'code_verifier' does not match the code_challenge",
    );
    // A refused exchange spent its code: the right verifier comes too late (DESIGN invariant 3).
    assertInvalidGrant(
      await redeem(server, client, { code: withoutVerifier, redirect_uri: redirectUri, code_verifier: rfc7636Verifier }),
      'already been used',
    );
    const response = await redeem(server, client, { code: await code(), redirect_uri: redirectUri, code_verifier: rfc7636Verifier });
    assert.equal(response.statusCode, 200, response.body);
  });

  test('unknown parameters are ignored and not carried through login and consent', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const extra = { foo: 'bar', 'x-custom': '1' };
    const anonymous = await get(server, authorizeUrl(client, { scope: 'profile', extra }));
    assert.equal(anonymous.statusCode, 302);
    const returnTo = new URL(anonymous.headers.location as string, issuer).searchParams.get('return_to')!;
    assert.ok(returnTo.startsWith('/authorize?'), returnTo);
    assert.equal(new URLSearchParams(returnTo.slice('/authorize?'.length)).get('foo'), null);

    const jar = await logIn(server);
    const page = await consentPageFor(server, jar, client, { scope: 'profile', extra });
    const fields = formFields(page.body);
    assert.equal(fields.has('foo'), false);
    assert.equal(fields.has('x-custom'), false);
    const allowed = await decide(server, jar, page, 'allow');
    const code = codeFrom(allowed, 303);
    const location = new URL(allowed.headers.location as string);
    assert.equal(location.searchParams.get('foo'), null);
    const tokens = await redeem(server, client, { code, redirect_uri: redirectUri, code_verifier: rfc7636Verifier });
    assert.equal(tokens.statusCode, 200, tokens.body);
  });

  test('no scope parameter means the scopes the client is registered for', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server, { scopes: ['profile', 'calendar.read'] });
    await createTestUser(server);
    const jar = await logIn(server);
    const page = await consentPageFor(server, jar, client);
    assert.match(page.body, /See your username and name/);
    assert.match(page.body, /Read your calendar events/);
    const code = codeFrom(await decide(server, jar, page, 'allow'), 303);
    const tokens = await redeem(server, client, { code, redirect_uri: redirectUri, code_verifier: rfc7636Verifier });
    assert.equal(tokens.statusCode, 200, tokens.body);
    assert.deepEqual(tokens.json().scope.split(' ').sort(), ['calendar.read', 'profile']);
  });

  test('a requested subset of the registered scopes is what the token gets', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const code = await issueCode(server, jar, client, { scope: 'calendar.read' });
    const tokens = await redeem(server, client, { code, redirect_uri: redirectUri, code_verifier: rfc7636Verifier });
    assert.equal(tokens.statusCode, 200, tokens.body);
    assert.equal(tokens.json().scope, 'calendar.read');
  });

  test('POST /authorize works like GET, answering 303', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const params = authorizationParams(client, { scope: 'profile' });
    const anonymous = await sendAuthorize(server, 'POST', params);
    assert.equal(anonymous.statusCode, 303);
    assert.equal(new URL(anonymous.headers.location as string, issuer).pathname, '/login');

    const jar = await logIn(server);
    const page = await sendAuthorize(server, 'POST', params, jar);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /wants to access your account/);
    codeFrom(await decide(server, jar, page, 'allow'), 303);
    // Consent is now remembered: the POST goes straight to the client.
    codeFrom(await sendAuthorize(server, 'POST', params, jar), 303);
  });
});

describe('loopback redirect URIs (RFC 8252 §7.3)', () => {
  test('a public client registered with http://127.0.0.1/callback may use any port, and must redeem with that port', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server, { type: 'public', redirectUris: ['http://127.0.0.1/callback'] });
    await createTestUser(server);
    const jar = await logIn(server);
    const used = 'http://127.0.0.1:51234/callback';
    const codeFor = async () => {
      const location = await authorize(server, jar, client, { redirectUri: used, scope: 'profile' });
      assert.equal(`${location.origin}${location.pathname}`, used);
      assert.equal(location.searchParams.get('iss'), issuer);
      return location.searchParams.get('code')!;
    };

    for (const other of ['http://127.0.0.1/callback', 'http://127.0.0.1:51235/callback']) {
      // Each refused exchange spends its code (DESIGN invariant 3), so each try gets a new one.
      assertInvalidGrant(
        await redeem(server, client, { code: await codeFor(), redirect_uri: other, code_verifier: rfc7636Verifier }),
        "'redirect_uri' does not match the one of the authorization request",
      );
    }
    const tokens = await redeem(server, client, { code: await codeFor(), redirect_uri: used, code_verifier: rfc7636Verifier });
    assert.equal(tokens.statusCode, 200, tokens.body);
  });

  test('the port exception also holds for [::1], and for nothing but the port', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server, { type: 'public', redirectUris: ['http://127.0.0.1/callback', 'http://[::1]/callback'] });
    await createTestUser(server);
    const jar = await logIn(server);
    const v6 = await authorize(server, jar, client, { redirectUri: 'http://[::1]:6000/callback', scope: 'profile' });
    assert.equal(`${v6.origin}${v6.pathname}`, 'http://[::1]:6000/callback');
    assert.ok(v6.searchParams.get('code'));

    for (const uri of [
      'http://127.0.0.1:51234/other',
      'http://127.0.0.1:51234/callback/',
      'http://127.0.0.1:51234/callback?x=1',
      'http://127.0.0.2:51234/callback',
      'https://127.0.0.1:51234/callback',
      'http://127.0.0.1:99999/callback',
      'http://127.0.0.1:051234/callback',
      'http://127.0.0.1:51234@attacker.example/callback',
    ]) {
      const response = await get(server, authorizeUrl(client, { redirectUri: uri }), jar);
      assertErrorPage(response, 400, 'invalid_request', '"redirect_uri" is not registered');
    }
  });

  test('a confidential client must use the registered loopback port exactly', async (t) => {
    // A web client on loopback http is a development setup (clients/redirect-uri.ts).
    const server = await setup(t, { allowInsecureHttpRedirectUris: true });
    const client = await createTestClient(server, { redirectUris: ['http://127.0.0.1/callback', 'http://127.0.0.1:8080/cb'] });
    assertErrorPage(
      await get(server, authorizeUrl(client, { redirectUri: 'http://127.0.0.1:51234/callback' })),
      400,
      'invalid_request',
      '"redirect_uri" is not registered',
    );
    assertErrorPage(
      await get(server, authorizeUrl(client, { redirectUri: 'http://127.0.0.1:8081/cb' })),
      400,
      'invalid_request',
      '"redirect_uri" is not registered',
    );
    for (const exact of ['http://127.0.0.1/callback', 'http://127.0.0.1:8080/cb']) {
      const response = await get(server, authorizeUrl(client, { redirectUri: exact }));
      assert.equal(response.statusCode, 302);
      assert.equal(new URL(response.headers.location as string, issuer).pathname, '/login');
    }
  });
});

describe('login', () => {
  test('without a session, /authorize redirects to /login with the authorization request as return_to', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    const params = authorizationParams(client, { scope: 'profile email' });
    const response = await sendAuthorize(server, 'GET', params);
    assert.equal(response.statusCode, 302);
    const location = new URL(response.headers.location as string, issuer);
    assert.equal(location.origin, issuer);
    assert.equal(location.pathname, '/login');
    const returnTo = location.searchParams.get('return_to')!;
    assert.ok(returnTo.startsWith('/authorize?'), returnTo);
    assert.deepEqual(Object.fromEntries(new URLSearchParams(returnTo.slice('/authorize?'.length))), params);
  });

  test('the login page has labelled username and password inputs and carries return_to', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    const returnTo = `/authorize?${new URLSearchParams(authorizationParams(client))}`;
    const page = await get(server, `/login?${new URLSearchParams({ return_to: returnTo })}`);
    assert.equal(page.statusCode, 200);
    assertHtml(page);
    assert.match(page.body, /<form method="post" action="\/login">/);
    assert.match(page.body, /<label for="username">Username<\/label>/);
    assert.match(page.body, /<input type="text" id="username" name="username"/);
    assert.match(page.body, /<label for="password">Password<\/label>/);
    assert.match(page.body, /<input type="password" id="password" name="password"/);
    const fields = formFields(page.body);
    assert.equal(fields.get('return_to'), returnTo);
    assert.ok((fields.get('_csrf') ?? '').length > 10);
  });

  test('a wrong password or an unknown user → 401 page with an error and no session', async (t) => {
    const server = await setup(t);
    await createTestUser(server);
    for (const [username, attempt] of [
      ['alice', 'wrong password'],
      ['nobody', password],
    ] as const) {
      const jar = new CookieJar();
      const page = await get(server, '/login?return_to=%2Fauthorize%3Fa%3D1', jar);
      jar.store(page);
      const fields = formFields(page.body);
      const response = await post(server, '/login', { ...Object.fromEntries(fields), username, password: attempt }, jar);
      assert.equal(response.statusCode, 401);
      assertHtml(response);
      assert.match(response.body, /<p class="error" role="alert">Wrong username or password.<\/p>/);
      assert.equal(setCookie(response, 'gatehouse_session'), undefined);
      assert.equal(response.headers.location, undefined);
      const again = formFields(response.body);
      assert.equal(again.get('return_to'), '/authorize?a=1');
      assert.match(response.body, new RegExp(`name="username" value="${username}"`));
      assert.doesNotMatch(response.body, new RegExp(attempt));
    }
  });

  test('a right password → 303 to return_to with a session, which leads on to consent', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = new CookieJar();
    // A state outside ASCII still makes it through: return_to carries it percent-encoded.
    const first = await get(server, authorizeUrl(client, { scope: 'profile', state: 'é ü "x"' }), jar);
    const loginUrl = first.headers.location as string;
    const page = await get(server, loginUrl, jar);
    jar.store(page);
    const response = await post(server, '/login', { ...Object.fromEntries(formFields(page.body)), username: 'alice', password }, jar);
    assert.equal(response.statusCode, 303);
    const returnTo = new URL(loginUrl, issuer).searchParams.get('return_to')!;
    assert.equal(response.headers.location, returnTo);
    assert.ok(setCookie(response, 'gatehouse_session'));
    jar.store(response);
    const consent = await get(server, returnTo, jar);
    assert.equal(consent.statusCode, 200);
    assert.match(consent.body, /Signed in as <strong>alice<\/strong>/);
    assert.equal(formFields(consent.body).get('state'), 'é ü "x"');
  });

  test('a return_to that is not an /authorize path leads home instead (no open redirect, no 5xx)', async (t) => {
    const server = await setup(t);
    await createTestUser(server);
    const unsafe = [
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      '///evil.example',
      'javascript:alert(1)',
      '/authorize',
      '/authorizeX?a=1',
      '/login?return_to=//evil.example',
      '/authorize?a=1\r\nSet-Cookie: x=y',
      '/authorize?a=€',
    ];
    for (const returnTo of unsafe) {
      const page = await get(server, `/login?${new URLSearchParams({ return_to: returnTo })}`);
      assert.equal(page.statusCode, 200);
      assert.equal(formFields(page.body).get('return_to'), '/', returnTo);

      const jar = new CookieJar();
      jar.store(page);
      const response = await post(server, '/login', { _csrf: formFields(page.body).get('_csrf')!, return_to: returnTo, username: 'alice', password }, jar);
      assert.equal(response.statusCode, 303, `${JSON.stringify(returnTo)}: ${response.body}`);
      assert.equal(response.headers.location, '/', returnTo);
    }
  });

  test('the session cookie is HttpOnly, SameSite=Lax, and not Secure on an http issuer', async (t) => {
    const server = await setup(t);
    await createTestUser(server);
    const page = await get(server, '/login');
    const jar = new CookieJar();
    jar.store(page);
    const response = await post(server, '/login', { _csrf: formFields(page.body).get('_csrf')!, return_to: '/', username: 'alice', password }, jar);
    assert.equal(response.statusCode, 303);
    const cookie = setCookie(response, 'gatehouse_session')!;
    assert.match(cookie, /^gatehouse_session=[0-9a-f]{11}[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /; HttpOnly(;|$)/i);
    assert.match(cookie, /; SameSite=Lax(;|$)/i);
    assert.match(cookie, /; Path=\/(;|$)/i);
    assert.doesNotMatch(cookie, /; Secure(;|$)/i);
    assert.doesNotMatch(cookie, /; Domain=/i);
  });

  test('the session cookie is Secure when the issuer is https, and iss says so', async (t) => {
    const server = await setup(t, { issuer: 'https://id.example' });
    const client = await createTestClient(server);
    await createTestUser(server);
    const page = await get(server, '/login');
    const jar = new CookieJar();
    jar.store(page);
    const response = await post(server, '/login', { _csrf: formFields(page.body).get('_csrf')!, return_to: '/', username: 'alice', password }, jar);
    assert.equal(response.statusCode, 303);
    const cookie = setCookie(response, 'gatehouse_session')!;
    assert.match(cookie, /; Secure(;|$)/i);
    assert.match(cookie, /; HttpOnly(;|$)/i);
    assert.match(cookie, /; SameSite=Lax(;|$)/i);
    jar.store(response);
    const location = await authorize(server, jar, client, { scope: 'profile' });
    assert.equal(location.searchParams.get('iss'), 'https://id.example');
  });

  test('each login starts a fresh session; the previous one stops working (session fixation)', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const before = jar.header();
    await logIn(server, 'alice', jar);
    assert.notEqual(jar.header(), before);
    const stale = await server.app.inject({ method: 'GET', url: authorizeUrl(client), headers: { cookie: before } });
    assert.equal(new URL(stale.headers.location as string, issuer).pathname, '/login');
  });

  test('a session expires after sessionTtlSeconds', async (t) => {
    const server = await setup(t, { sessionTtlSeconds: 600 });
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    await issueCode(server, jar, client, { scope: 'profile' });
    server.clock.advance(599);
    codeFrom(await get(server, authorizeUrl(client, { scope: 'profile' }), jar), 302);
    server.clock.advance(1);
    const expired = await get(server, authorizeUrl(client, { scope: 'profile' }), jar);
    assert.equal(expired.statusCode, 302);
    assert.equal(new URL(expired.headers.location as string, issuer).pathname, '/login');
  });
});

describe('consent', () => {
  test('the consent page names the client, describes each scope in words and shows the username', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const page = await consentPageFor(server, jar, client, { scope: 'profile calendar.read' });
    assert.match(page.body, /<h1><strong>Mine<\/strong> wants to access your account<\/h1>/);
    assert.match(page.body, /Signed in as <strong>alice<\/strong>/);
    const list = requestedScopeList(page.body);
    assert.match(list, /See your username and name/);
    assert.match(list, /Read your calendar events/);
    assert.doesNotMatch(list, /See your email address/);
    assert.match(page.body, /<form method="post" action="\/authorize\/decision">/);
    assert.match(page.body, /<button type="submit" name="decision" value="allow">Allow<\/button>/);
    assert.match(page.body, /<button type="submit" name="decision" value="deny"[^>]*>Deny<\/button>/);
  });

  test('Allow → 303 to the client with a code, state and iss', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const page = await consentPageFor(server, jar, client, { scope: 'profile', state: 's-42' });
    const response = await decide(server, jar, page, 'allow');
    const code = codeFrom(response, 303, 's-42');
    assert.match(code, /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/);
    assert.equal(response.headers['cache-control'], 'no-store');
  });

  test('Deny → 303 with error=access_denied, state and iss; nothing is remembered', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const page = await consentPageFor(server, jar, client, { scope: 'profile', state: 's-43' });
    const response = await decide(server, jar, page, 'deny');
    assertErrorRedirect(response, { status: 303, error: 'access_denied', description: 'the user denied the request', state: 's-43' });
    await consentPageFor(server, jar, client, { scope: 'profile' });
  });

  test('a decision after the session ended → access_denied, no code', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const page = await consentPageFor(server, jar, client, { scope: 'profile' });
    server.clock.advance(server.config.sessionTtlSeconds);
    const response = await decide(server, jar, page, 'allow');
    assertErrorRedirect(response, { status: 303, error: 'access_denied', description: 'the login session ended' });
  });

  test('consent is remembered: the same or fewer scopes skip the page, more scopes show it again', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    codeFrom(await decide(server, jar, await consentPageFor(server, jar, client, { scope: 'profile calendar.read' }), 'allow'), 303);

    codeFrom(await get(server, authorizeUrl(client, { scope: 'profile calendar.read' }), jar), 302);
    codeFrom(await get(server, authorizeUrl(client, { scope: 'calendar.read profile' }), jar), 302);
    codeFrom(await get(server, authorizeUrl(client, { scope: 'profile' }), jar), 302);

    const more = await consentPageFor(server, jar, client, { scope: 'profile email' });
    const list = requestedScopeList(more.body);
    assert.match(list, /See your email address/);
    assert.doesNotMatch(list, /See your username and name/);
    assert.match(more.body, /You already allowed: See your username and name\./);
    codeFrom(await decide(server, jar, more, 'allow'), 303);

    // A later grant adds to the earlier one.
    codeFrom(await get(server, authorizeUrl(client, { scope: 'email calendar.read' }), jar), 302);
    await consentPageFor(server, jar, client, { scope: 'offline_access' });
  });

  test('no scope parameter skips the page once every registered scope was allowed', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server, { scopes: ['profile', 'email'] });
    await createTestUser(server);
    const jar = await logIn(server);
    await consentPageFor(server, jar, client);
    await issueCode(server, jar, client, { scope: 'profile email' });
    codeFrom(await get(server, authorizeUrl(client), jar), 302);
  });

  test('consent is per user and per client', async (t) => {
    const server = await setup(t);
    const mine = await createTestClient(server);
    const other = await createTestClient(server, { name: 'Other App' });
    await createTestUser(server, 'alice');
    await createTestUser(server, 'bob');
    const alice = await logIn(server, 'alice');
    await issueCode(server, alice, mine, { scope: 'profile' });
    codeFrom(await get(server, authorizeUrl(mine, { scope: 'profile' }), alice), 302);

    const bob = await logIn(server, 'bob');
    const bobPage = await consentPageFor(server, bob, mine, { scope: 'profile' });
    assert.match(bobPage.body, /Signed in as <strong>bob<\/strong>/);

    const otherPage = await consentPageFor(server, alice, other, { scope: 'profile' });
    assert.match(otherPage.body, /<strong>Other App<\/strong> wants to access your account/);
  });
});

describe('CSRF protection of the forms', () => {
  async function loginPage(server: TestServer) {
    const jar = new CookieJar();
    const page = await get(server, '/login', jar);
    jar.store(page);
    return { jar, csrf: formFields(page.body).get('_csrf')! };
  }

  function assertCsrfRefused(response: LightMyRequestResponse): void {
    assertErrorPage(response, 403, 'invalid_request', 'the form has expired or did not come from this site');
    assert.equal(setCookie(response, 'gatehouse_session'), undefined);
  }

  test('POST /login without _csrf, with a wrong one, or with one from another browser → 403, no session', async (t) => {
    const server = await setup(t);
    await createTestUser(server);
    const { jar, csrf } = await loginPage(server);
    const credentials = { return_to: '/', username: 'alice', password };
    assertCsrfRefused(await post(server, '/login', credentials, jar));
    assertCsrfRefused(await post(server, '/login', { ...credentials, _csrf: 'wrong' }, jar));
    assertCsrfRefused(await post(server, '/login', { ...credentials, _csrf: `${csrf.slice(0, -2)}xx` }, jar));
    // The token alone, without the browser's secret cookie (a cross-site form post from another browser).
    assertCsrfRefused(await post(server, '/login', { ...credentials, _csrf: csrf }));
    const other = await loginPage(server);
    assertCsrfRefused(await post(server, '/login', { ...credentials, _csrf: other.csrf }, jar));
    // The real token works: the refusals above were about CSRF only.
    const ok = await post(server, '/login', { ...credentials, _csrf: csrf }, jar);
    assert.equal(ok.statusCode, 303);
  });

  test('POST /authorize/decision without _csrf or with a wrong one → 403, no code, no consent remembered', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const page = await consentPageFor(server, jar, client, { scope: 'profile' });
    const fields = formFields(page.body);
    fields.set('decision', 'allow');
    const withoutToken = new Map(fields);
    withoutToken.delete('_csrf');
    for (const attempt of [withoutToken, new Map([...fields, ['_csrf', 'wrong']])]) {
      const response = await post(server, '/authorize/decision', attempt, jar);
      assertErrorPage(response, 403, 'invalid_request', 'the form has expired or did not come from this site');
    }
    // A forged cross-site post carries the session cookie (in older browsers) but not our CSRF secret.
    const forged = await server.app.inject({
      method: 'POST',
      url: '/authorize/decision',
      ...form(fields),
      headers: { ...form(fields).headers, cookie: jar.header().split('; ').filter((c) => c.startsWith('gatehouse_session=')).join('; ') },
    });
    assertErrorPage(forged, 403, 'invalid_request', 'the form has expired or did not come from this site');
    await consentPageFor(server, jar, client, { scope: 'profile' });
  });

  test('POST /logout without _csrf → 403 and the session stays', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    await issueCode(server, jar, client, { scope: 'profile' });
    assertErrorPage(await post(server, '/logout', {}, jar), 403, 'invalid_request', 'the form has expired');
    codeFrom(await get(server, authorizeUrl(client, { scope: 'profile' }), jar), 302);
  });
});

describe('page headers and assets', () => {
  function assertPageHeaders(response: LightMyRequestResponse, what: string): void {
    assertHtml(response);
    assert.equal(response.headers['x-frame-options'], 'DENY', what);
    assert.equal(response.headers['referrer-policy'], 'no-referrer', what);
    const csp = String(response.headers['content-security-policy']);
    assert.match(csp, /(^|;)\s*frame-ancestors 'none'\s*(;|$)/, what);
    for (const directive of csp.split(';').map((d) => d.trim()).filter(Boolean)) {
      const [, ...sources] = directive.split(/\s+/);
      for (const source of sources) assert.ok(["'none'", "'self'"].includes(source), `${what}: CSP source ${source} in "${directive}"`);
    }
    assert.match(csp, /default-src 'none'/, what);
    // Every URL the page loads or submits to is on this origin.
    for (const match of response.body.matchAll(/\b(?:src|href|action|srcset|formaction)\s*=\s*"([^"]*)"/gi)) {
      const url = match[1]!;
      assert.ok(url.startsWith('/') && !url.startsWith('//'), `${what}: ${match[0]}`);
    }
    assert.doesNotMatch(response.body, /<script/i, what);
    assert.doesNotMatch(response.body, /@import|url\(/i, what);
  }

  test('every page forbids framing and referrers and loads only same-origin assets', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const loginPage = await get(server, '/login');
    assertPageHeaders(loginPage, 'login page');

    const jar = new CookieJar();
    jar.store(loginPage);
    const failed = await post(server, '/login', { _csrf: formFields(loginPage.body).get('_csrf')!, username: 'alice', password: 'nope-nope' }, jar);
    assert.equal(failed.statusCode, 401);
    assertPageHeaders(failed, 'failed login page');

    const csrfRefused = await post(server, '/login', { username: 'alice', password }, jar);
    assert.equal(csrfRefused.statusCode, 403);
    assertPageHeaders(csrfRefused, 'CSRF error page');

    const untrusted = await get(server, authorizeUrl(client, { redirectUri: 'https://attacker.example/' }));
    assert.equal(untrusted.statusCode, 400);
    assertPageHeaders(untrusted, 'authorize error page');

    const session = await logIn(server);
    assertPageHeaders(await consentPageFor(server, session, client, { scope: 'profile' }), 'consent page');
    assertPageHeaders(await get(server, '/', session), 'home page');
  });

  test('the stylesheet the pages link is served from this origin', async (t) => {
    const server = await setup(t);
    const page = await get(server, '/login');
    const href = /<link rel="stylesheet" href="([^"]+)">/.exec(page.body)?.[1];
    assert.equal(href, '/assets/gatehouse.css');
    const css = await get(server, href);
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.doesNotMatch(css.body, /url\(|@import/);
  });
});

describe('HTML escaping of everything user-supplied', () => {
  test('a client name with markup appears escaped on the consent page', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server, { name: '<script>alert(1)</script>' });
    await createAccount({ username: 'bob', password, name: '<b>Bob</b>' }, server.ctx);
    const jar = await logIn(server, 'bob');
    const page = await consentPageFor(server, jar, client, { scope: 'profile' });
    assert.doesNotMatch(page.body, /<script/i);
    assert.doesNotMatch(page.body, /<b>/);
    assert.match(page.body, /<strong>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/strong> wants to access your account/);
    assert.match(page.body, /If you allow it, &lt;script&gt;alert\(1\)&lt;\/script&gt; will be able to:/);
  });

  test('usernames cannot contain markup at all', async (t) => {
    const server = await setup(t);
    await assert.rejects(createTestUser(server, '<b>bob</b>'), { code: 'invalid_request', description: /username must be 1–64 letters/ });
  });

  test('state with markup is escaped in the consent form and comes back unchanged', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const state = '"><script>alert(1)</script>';
    const page = await consentPageFor(server, jar, client, { scope: 'profile', state });
    assert.doesNotMatch(page.body, /<script/i);
    assert.match(page.body, /name="state" value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
    codeFrom(await decide(server, jar, page, 'allow'), 303, state);
  });

  test('markup in client_id on the error page and in the username echoed by a failed login is escaped', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    const evil = '"><script>alert(1)</script>';
    const errorPage = await get(server, authorizeUrl({ ...client, clientId: evil }));
    assertErrorPage(errorPage, 400, 'invalid_client', `there is no client with ID "${evil}"`);
    assert.doesNotMatch(errorPage.body, /<script/i);

    const jar = new CookieJar();
    const page = await get(server, '/login', jar);
    jar.store(page);
    const failed = await post(server, '/login', { _csrf: formFields(page.body).get('_csrf')!, username: evil, password: 'whatever1' }, jar);
    assert.equal(failed.statusCode, 401);
    assert.doesNotMatch(failed.body, /<script/i);
    assert.match(failed.body, /name="username" value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
  });
});

describe('the authorization code', () => {
  test('is an 11-digit time prefix and 256 random bits (43 characters of base64url), unique, and stored only as its SHA-256 hash with its bindings', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    const user = await createTestUser(server);
    const jar = await logIn(server);
    const code = await issueCode(server, jar, client, { scope: 'profile calendar.read' });
    const second = await issueCode(server, jar, client, { scope: 'profile calendar.read' });
    assert.match(code, /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/);
    assert.notEqual(code, second);

    const db = new Database(server.config.databaseUrl.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT * FROM authorization_codes').all() as Record<string, unknown>[];
      assert.equal(rows.length, 2);
      for (const row of rows) assert.ok(!JSON.stringify(row).includes(code) && !JSON.stringify(row).includes(second));
      assert.equal((db.prepare('SELECT count(*) AS n FROM authorization_codes WHERE hash = ?').get(code) as { n: number }).n, 0);
      const row = db.prepare('SELECT * FROM authorization_codes WHERE hash = ?').get(hashSecret(code)) as Record<string, unknown> | undefined;
      assert.ok(row, 'a row keyed by hashSecret(code)');
      assert.equal(row.client_id, client.clientId);
      assert.equal(row.account_id, user.id);
      assert.equal(row.redirect_uri, redirectUri);
      assert.match(String(row.scopes), /profile/);
      assert.match(String(row.scopes), /calendar\.read/);
      assert.equal(row.code_challenge, rfc7636Challenge);
      assert.equal(Number(row.expires_at) - Number(row.created_at), 60_000);
      assert.equal(row.consumed_at, null);
    } finally {
      db.close();
    }
  });

  test('expires after 60 seconds by default', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const fields = { redirect_uri: redirectUri, code_verifier: rfc7636Verifier };

    const late = await issueCode(server, jar, client, { scope: 'profile' });
    server.clock.advance(60);
    assertInvalidGrant(await redeem(server, client, { code: late, ...fields }), 'the authorization code has expired');

    const inTime = await issueCode(server, jar, client, { scope: 'profile' });
    server.clock.advance(59);
    const tokens = await redeem(server, client, { code: inTime, ...fields });
    assert.equal(tokens.statusCode, 200, tokens.body);
  });

  test('its lifetime is configurable (authorizationCodeTtlSeconds)', async (t) => {
    const server = await setup(t, { authorizationCodeTtlSeconds: 5 });
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const fields = { redirect_uri: redirectUri, code_verifier: rfc7636Verifier };

    const late = await issueCode(server, jar, client, { scope: 'profile' });
    server.clock.advance(5);
    assertInvalidGrant(await redeem(server, client, { code: late, ...fields }), 'the authorization code has expired');

    const inTime = await issueCode(server, jar, client, { scope: 'profile' });
    server.clock.advance(4);
    assert.equal((await redeem(server, client, { code: inTime, ...fields })).statusCode, 200);
  });

  test('is bound to the user who consented', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    const alice = await createTestUser(server, 'alice');
    const bob = await createTestUser(server, 'bob');
    const fields = { redirect_uri: redirectUri, code_verifier: rfc7636Verifier };
    for (const user of [bob, alice]) {
      const jar = await logIn(server, user.username);
      const code = await issueCode(server, jar, client, { scope: 'profile' });
      const tokens = await redeem(server, client, { code, ...fields });
      assert.equal(tokens.statusCode, 200, tokens.body);
      const profile = await callUserinfo(server, tokens.json().access_token);
      assert.equal(profile.json().sub, user.id);
      assert.equal(profile.json().preferred_username, user.username);
    }
  });

  test('is bound to the client and the redirect URI it was issued for', async (t) => {
    const server = await setup(t);
    const second = 'https://client.example/second';
    const client = await createTestClient(server, { redirectUris: [redirectUri, second] });
    const other = await createTestClient(server, { name: 'Other' });
    await createTestUser(server);
    const jar = await logIn(server);
    const codeFor = () => issueCode(server, jar, client, { scope: 'profile', redirectUri: second });
    const code = await codeFor();
    // Another client is refused without spending the code: it is not theirs to burn.
    assertInvalidGrant(
      await redeem(server, other, { code, redirect_uri: second, code_verifier: rfc7636Verifier }),
      'the authorization code was issued to another client',
    );
    // The code's own client with the wrong redirect URI, or none, spends it (DESIGN invariant 3).
    assertInvalidGrant(
      await redeem(server, client, { code: await codeFor(), redirect_uri: redirectUri, code_verifier: rfc7636Verifier }),
      "'redirect_uri' does not match",
    );
    assertInvalidGrant(await redeem(server, client, { code: await codeFor(), code_verifier: rfc7636Verifier }), "'redirect_uri' is required");
    const tokens = await redeem(server, client, { code, redirect_uri: second, code_verifier: rfc7636Verifier });
    assert.equal(tokens.statusCode, 200, tokens.body);
  });
});

describe('logout', () => {
  test('POST /logout with its CSRF token ends the session on the server and clears the cookie', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    await issueCode(server, jar, client, { scope: 'profile' });
    const home = await get(server, '/', jar);
    assert.match(home.body, /Signed in as <strong>alice<\/strong>/);
    assert.match(home.body, /<form method="post" action="\/logout">/);
    const cookiesBefore = jar.header();

    const response = await post(server, '/logout', { _csrf: formFields(home.body).get('_csrf')! }, jar);
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/');
    const cleared = setCookie(response, 'gatehouse_session');
    assert.ok(cleared, 'the session cookie is cleared');
    assert.match(cleared, /^gatehouse_session=;/);
    assert.match(cleared, /Expires=Thu, 01 Jan 1970/i);
    jar.store(response);

    assert.match((await get(server, '/', jar)).body, /You are not signed in/);
    // Even a browser that kept the old cookie is logged out: the session is gone on the server.
    const stale = await server.app.inject({ method: 'GET', url: authorizeUrl(client, { scope: 'profile' }), headers: { cookie: cookiesBefore } });
    assert.equal(stale.statusCode, 302);
    assert.equal(new URL(stale.headers.location as string, issuer).pathname, '/login');
  });
});
