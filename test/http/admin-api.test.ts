import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { registerClient } from '../../src/server/clients/register-client.ts';
import {
  authorizeUrl,
  buildTestServer,
  callUserinfo,
  createTestClient,
  createTestUser,
  form,
  issueCode,
  logIn,
  password,
  redeemCode,
  redirectUri,
  refresh,
  type TestServer,
} from '../support/test-server.ts';

/*
 * The admin REST API: authenticated by a client_credentials token with the `admin` scope,
 * JSON in and out, OAuth errors with RFC 6750 challenges, and an OpenAPI document that lists
 * every route the server has under /admin/api.
 */

interface AdminApi {
  server: TestServer;
  clientId: string;
  secret: string;
  token: string;
  call(method: string, url: string, body?: unknown, token?: string | null): Promise<LightMyRequestResponse>;
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function clientCredentialsToken(server: TestServer, clientId: string, secret: string, scope?: string): Promise<LightMyRequestResponse> {
  const body = form(scope === undefined ? { grant_type: 'client_credentials' } : { grant_type: 'client_credentials', scope });
  return server.app.inject({ method: 'POST', url: '/token', ...body, headers: { ...body.headers, authorization: basic(clientId, secret) } });
}

/** A server with an admin client ("Ops") registered explicitly for `admin`, and its token. */
async function adminApi(): Promise<AdminApi> {
  const server = await buildTestServer();
  const { client, clientSecret } = await registerClient(
    { name: 'Ops', redirectUris: [], grantTypes: ['client_credentials'], scopes: ['admin'] },
    server.ctx,
  );
  const response = await clientCredentialsToken(server, client.id, clientSecret!);
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.json().scope, 'admin');
  const token = response.json().access_token as string;
  return {
    server,
    clientId: client.id,
    secret: clientSecret!,
    token,
    call(method, url, body, bearer = token) {
      return server.app.inject({
        method: method as 'GET',
        url,
        headers: {
          ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    },
  };
}

function assertError(response: LightMyRequestResponse, status: number, error: string, description?: string | RegExp): void {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  const body = response.json();
  assert.equal(body.error, error);
  if (typeof description === 'string') assert.equal(body.error_description, description);
  else if (description !== undefined) assert.match(body.error_description, description);
}

test('no token is 401, a dead token is 401, a token without admin is 403 insufficient_scope', async (t) => {
  const api = await adminApi();
  t.after(() => api.server.close());
  const { server } = api;

  const none = await api.call('GET', '/admin/api/clients', undefined, null);
  assertError(none, 401, 'invalid_token');
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="gatehouse"');

  const unknown = await api.call('GET', '/admin/api/clients', undefined, 'not-a-real-token');
  assertError(unknown, 401, 'invalid_token', 'the access token is unknown');
  assert.match(String(unknown.headers['www-authenticate']), /^Bearer realm="gatehouse", error="invalid_token"/);

  const malformed = await server.app.inject({ method: 'GET', url: '/admin/api/clients', headers: { authorization: `Basic ${api.token}` } });
  assertError(malformed, 400, 'invalid_request');

  // A client_credentials token of a client not registered for admin.
  const worker = await createTestClient(server, { grantTypes: ['client_credentials'], scopes: ['calendar.read'] });
  const workerToken = (await clientCredentialsToken(server, worker.clientId, worker.clientSecret!)).json().access_token as string;
  const forbidden = await api.call('GET', '/admin/api/clients', undefined, workerToken);
  assertError(forbidden, 403, 'insufficient_scope', "the admin API needs an access token with the 'admin' scope");
  assert.equal(forbidden.headers['www-authenticate'], 'Bearer realm="gatehouse", error="insufficient_scope", scope="admin"');
  // Asking for admin without being registered for it gets no token at all.
  assertError(await clientCredentialsToken(server, worker.clientId, worker.clientSecret!, 'admin'), 400, 'invalid_scope');

  // A user's token (even an administrator's) is no admin API token.
  const client = await createTestClient(server);
  await createTestUser(server);
  await server.storage.setAccountAdmin((await server.storage.findAccountByUsername('alice'))!.id, true);
  const userTokens = (await redeemCode(server, client, await issueCode(server, await logIn(server), client, { scope: 'profile' }))).json();
  assertError(await api.call('GET', '/admin/api/clients', undefined, userTokens.access_token), 403, 'insufficient_scope');

  // Expired and revoked tokens stop working.
  assert.equal((await api.call('GET', '/admin/api/clients')).statusCode, 200);
  server.clock.advance(3601);
  assertError(await api.call('GET', '/admin/api/clients'), 401, 'invalid_token', 'the access token has expired');

  // Nothing was changed by any of these calls.
  assert.deepEqual((await server.storage.listAuditEvents(50)).filter((event) => event.actor.startsWith('client:')), []);
});

test('taking admin off the client takes effect at once for its live tokens', async (t) => {
  const api = await adminApi();
  t.after(() => api.server.close());
  const patched = await api.call('PATCH', `/admin/api/clients/${api.clientId}`, { scope: 'calendar.read' });
  assert.equal(patched.statusCode, 200, patched.body);
  assertError(await api.call('GET', '/admin/api/clients'), 403, 'insufficient_scope', "the client of this token is no longer registered for the 'admin' scope");
});

test('/authorize never hands out the admin scope', async (t) => {
  const server = await buildTestServer();
  t.after(() => server.close());
  const client = await createTestClient(server, { scopes: ['profile', 'admin'], grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
  await createTestUser(server);
  const jar = await logIn(server);

  // Asking for it is refused with invalid_scope, sent back to the client.
  for (const scope of ['admin', 'profile admin']) {
    const response = await server.app.inject({ method: 'GET', url: authorizeUrl(client, { scope }), headers: { cookie: jar.header() } });
    assert.equal(response.statusCode, 302);
    const location = new URL(response.headers.location as string);
    assert.equal(`${location.origin}${location.pathname}`, redirectUri);
    assert.equal(location.searchParams.get('error'), 'invalid_scope');
    assert.match(location.searchParams.get('error_description')!, /'admin' scope cannot be requested through \/authorize/);
  }
  // Asking for nothing gets the client's other scopes, not admin.
  const tokens = (await redeemCode(server, client, await issueCode(server, jar, client))).json();
  assert.equal(tokens.scope, 'profile');
  const refreshed = await refresh(server, client, tokens.refresh_token, { scope: 'profile admin' });
  assertError(refreshed, 400, 'invalid_scope');
  // A client registered for admin alone has nothing a user could grant.
  const adminOnly = await createTestClient(server, { scopes: ['admin'] });
  const refused = await server.app.inject({ method: 'GET', url: authorizeUrl(adminOnly), headers: { cookie: jar.header() } });
  assert.equal(new URL(refused.headers.location as string).searchParams.get('error'), 'invalid_scope');
});

test('clients: create (secret once), read, list, update, rotate the secret, delete', async (t) => {
  const api = await adminApi();
  t.after(() => api.server.close());
  const { server } = api;

  const created = await api.call('POST', '/admin/api/clients', {
    client_name: 'Calendar',
    redirect_uris: ['https://calendar.example/callback'],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    scope: 'profile calendar.read',
    access_token_ttl: 900,
  });
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.headers['cache-control'], 'no-store');
  const client = created.json();
  assert.equal(created.headers.location, `/admin/api/clients/${client.client_id}`);
  assert.deepEqual({ ...client, client_id: 'x', client_secret: 'y' }, {
    client_id: 'x',
    client_secret: 'y',
    client_name: 'Calendar',
    client_type: 'confidential',
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: ['https://calendar.example/callback'],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    scope: 'profile calendar.read',
    access_token_ttl: 900,
    refresh_token_ttl: null,
    access_token_format: 'opaque',
    resources: [],
    consent_policy: 'remember',
    can_introspect: false,
    served_resources: [],
    created_at: '2026-11-27T12:00:00.000Z',
  });
  const secret = client.client_secret as string;
  const issued = await clientCredentialsToken(server, client.client_id, secret, 'calendar.read');
  assert.equal(issued.statusCode, 200, issued.body);
  assert.equal(issued.json().expires_in, 900);

  // The secret is never shown again.
  const read = await api.call('GET', `/admin/api/clients/${client.client_id}`);
  assert.equal(read.statusCode, 200);
  assert.equal(read.json().client_secret, undefined);
  assert.equal(read.json().client_name, 'Calendar');
  const list = (await api.call('GET', '/admin/api/clients')).json();
  assert.deepEqual(
    list.clients.map((entry: { client_name: string }) => entry.client_name).sort(),
    ['Calendar', 'Ops'],
  );
  assert.doesNotMatch(JSON.stringify(list), new RegExp(secret));

  const updated = await api.call('PATCH', `/admin/api/clients/${client.client_id}`, {
    redirect_uris: ['https://calendar.example/new'],
    access_token_ttl: null,
    access_token_format: 'jwt',
  });
  assert.equal(updated.statusCode, 200, updated.body);
  assert.deepEqual(updated.json().redirect_uris, ['https://calendar.example/new']);
  assert.equal(updated.json().access_token_ttl, null);
  assert.equal(updated.json().access_token_format, 'jwt');
  assert.equal(updated.json().scope, 'profile calendar.read', 'fields not sent stay as they were');

  const rotated = await api.call('POST', `/admin/api/clients/${client.client_id}/rotate-secret`);
  assert.equal(rotated.statusCode, 200);
  assert.equal(rotated.json().client_id, client.client_id);
  assert.notEqual(rotated.json().client_secret, secret);
  assertError(await clientCredentialsToken(server, client.client_id, secret, 'calendar.read'), 401, 'invalid_client');
  assert.equal((await clientCredentialsToken(server, client.client_id, rotated.json().client_secret, 'calendar.read')).statusCode, 200);

  const publicClient = await api.call('POST', '/admin/api/clients', { client_name: 'Phone', client_type: 'public', redirect_uris: ['com.example.app:/cb'] });
  assert.equal(publicClient.statusCode, 201, publicClient.body);
  assert.equal(publicClient.json().client_secret, null);
  assert.equal(publicClient.json().token_endpoint_auth_method, 'none');
  assertError(await api.call('POST', `/admin/api/clients/${publicClient.json().client_id}/rotate-secret`), 400, 'invalid_client_metadata', /is public and has no secret/);

  const deleted = await api.call('DELETE', `/admin/api/clients/${client.client_id}`);
  assert.equal(deleted.statusCode, 204);
  assert.equal(deleted.body, '');
  assertError(await api.call('GET', `/admin/api/clients/${client.client_id}`), 404, 'not_found', `no client with ID '${client.client_id}'`);
  assertError(await api.call('DELETE', `/admin/api/clients/${client.client_id}`), 404, 'not_found');
  assertError(await api.call('PATCH', '/admin/api/clients/nope', { client_name: 'x' }), 404, 'not_found');
  assertError(await api.call('POST', '/admin/api/clients/nope/rotate-secret'), 404, 'not_found');

  const actions = (await server.storage.listAuditEvents(20)).filter((event) => event.actor === `client:${api.clientId}`);
  assert.deepEqual(actions.map((event) => event.action).sort(), ['client_created', 'client_created', 'client_deleted', 'client_secret_rotated', 'client_updated']);
  for (const event of actions) {
    assert.equal(event.at, server.clock.now());
    assert.equal(event.ip, '127.0.0.1');
  }
  assert.deepEqual(actions.find((event) => event.action === 'client_updated')!.detail, {
    client_name: 'Calendar',
    changed: ['redirect_uris', 'access_token_ttl', 'access_token_format'],
  });
});

test('bad input is a 400 that names the field; nothing is half-done', async (t) => {
  const api = await adminApi();
  t.after(() => api.server.close());
  const cases: [string, string, unknown, string, string | RegExp][] = [
    ['POST', '/admin/api/clients', { redirect_uris: ['https://a.example/cb'] }, 'invalid_request', "'client_name' is required"],
    ['POST', '/admin/api/clients', { client_name: 'A', redirect_uris: 'https://a.example/cb' }, 'invalid_request', "'redirect_uris' must be an array of strings"],
    ['POST', '/admin/api/clients', { client_name: 'A', redirect_uris: ['https://a.example/cb'], colour: 'red' }, 'invalid_request', /^unknown field 'colour'; the fields are client_name, /],
    ['POST', '/admin/api/clients', { client_name: 'A', redirect_uris: ['https://a.example/cb'], access_token_ttl: '60' }, 'invalid_request', /^'access_token_ttl' must be a whole number of seconds/],
    ['POST', '/admin/api/clients', { client_name: 'A', redirect_uris: ['https://a.example/cb'], access_token_format: 'paseto' }, 'invalid_request', "'access_token_format' must be one of 'opaque', 'jwt'"],
    ['POST', '/admin/api/clients', { client_name: 'A', redirect_uris: ['https://a.example/cb'], client_type: 'secretive' }, 'invalid_request', "'client_type' must be one of 'confidential', 'public'"],
    ['POST', '/admin/api/clients', { client_name: 'A', redirect_uris: ['http://a.example/cb'] }, 'invalid_redirect_uri', /uses http, which is allowed only for loopback hosts/],
    ['POST', '/admin/api/clients', { client_name: 'A', redirect_uris: ['https://a.example/cb'], scope: 'profile nope' }, 'invalid_scope', "'scope' names unknown scope 'nope'"],
    ['POST', '/admin/api/clients', { client_name: 'A', grant_types: ['password'] }, 'invalid_client_metadata', /grant type 'password' is not supported/],
    ['POST', '/admin/api/clients', [1, 2], 'invalid_request', 'the request body must be a JSON object'],
    ['POST', '/admin/api/clients', '{"client_name": ', 'invalid_request', 'the request body is not valid JSON'],
    ['POST', '/admin/api/clients', undefined, 'invalid_request', 'the request body must be a JSON object'],
    ['PATCH', '/admin/api/clients/{ops}', { client_type: 'public' }, 'invalid_request', "'client_type' cannot be changed: register a new client instead"],
    ['PATCH', '/admin/api/clients/{ops}', { grant_types: [] }, 'invalid_client_metadata', 'at least one grant type is required'],
    ['POST', '/admin/api/users', { username: 'bob' }, 'invalid_request', "'password' is required"],
    ['POST', '/admin/api/users', { username: 'bob', password: 'short' }, 'invalid_request', 'password must be 8-1024 characters'],
    ['POST', '/admin/api/users', { username: 'bob bob', password }, 'invalid_request', /^username must be 1-64 letters/],
    ['POST', '/admin/api/users', { username: 'bob', password, admin: 'yes' }, 'invalid_request', "'admin' must be true or false"],
    ['POST', '/admin/api/users', { username: 'bob', password, email: 'not-an-email' }, 'invalid_request', "'not-an-email' is not an email address"],
    ['GET', '/admin/api/events?limit=0', undefined, 'invalid_request', "'limit' must be a whole number from 1 to 1000"],
    ['GET', '/admin/api/events?limit=ten', undefined, 'invalid_request', "'limit' must be a whole number from 1 to 1000"],
  ];
  for (const [method, url, body, error, description] of cases) {
    const response = await api.call(method, url.replace('{ops}', api.clientId), body);
    assertError(response, 400, error, description);
  }
  // A body that is not JSON at all.
  const formBody = await api.server.app.inject({
    method: 'POST',
    url: '/admin/api/clients',
    payload: 'client_name=A',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/x-www-form-urlencoded' },
  });
  assertError(formBody, 400, 'invalid_request', 'the request body must be application/json');

  assert.deepEqual((await api.server.storage.listClients()).map((client) => client.name), ['Ops']);
  assert.deepEqual(await api.server.storage.listAccounts(), []);
});

test('users: create, read, list, make admin, disable (sessions and tokens end), enable, reset password, grants, delete', async (t) => {
  const api = await adminApi();
  t.after(() => api.server.close());
  const { server } = api;

  const created = await api.call('POST', '/admin/api/users', { username: 'bob', password, name: 'Bob <b>Lee</b>', email: 'bob@example.com' });
  assert.equal(created.statusCode, 201, created.body);
  const bob = created.json();
  assert.equal(created.headers.location, `/admin/api/users/${bob.sub}`);
  assert.deepEqual({ ...bob, sub: 'x' }, {
    sub: 'x',
    username: 'bob',
    name: 'Bob <b>Lee</b>',
    email: 'bob@example.com',
    email_verified: false,
    admin: false,
    disabled: false,
    disabled_at: null,
    created_at: '2026-11-27T12:00:00.000Z',
  });
  assertError(await api.call('POST', '/admin/api/users', { username: 'bob', password }), 409, 'conflict', "username 'bob' is already taken");
  assert.equal((await api.call('GET', `/admin/api/users/${bob.sub}`)).json().username, 'bob');
  assert.deepEqual((await api.call('GET', '/admin/api/users')).json().users.map((user: { username: string }) => user.username), ['bob']);

  // bob uses an app, which shows up among his grants.
  const client = await createTestClient(server);
  const browser = await logIn(server, 'bob');
  const tokens = (await redeemCode(server, client, await issueCode(server, browser, client, { scope: 'profile email' }))).json();
  const grants = await api.call('GET', `/admin/api/users/${bob.sub}/grants`);
  assert.equal(grants.statusCode, 200);
  assert.deepEqual(grants.json(), {
    grants: [
      {
        client_id: client.clientId,
        client_name: 'Mine',
        scope: 'profile email',
        created_at: '2026-11-27T12:00:00.000Z',
        updated_at: '2026-11-27T12:00:00.000Z',
        last_used_at: '2026-11-27T12:00:00.000Z',
      },
    ],
  });

  const promoted = await api.call('PATCH', `/admin/api/users/${bob.sub}`, { admin: true });
  assert.equal(promoted.statusCode, 200);
  assert.equal(promoted.json().admin, true);
  assertError(await api.call('PATCH', `/admin/api/users/${bob.sub}`, { username: 'robert' }), 400, 'invalid_request', "unknown field 'username'; the fields are admin");

  server.clock.advance(5);
  const disabled = await api.call('POST', `/admin/api/users/${bob.sub}/disable`);
  assert.equal(disabled.statusCode, 200, disabled.body);
  assert.equal(disabled.json().disabled, true);
  assert.equal(disabled.json().disabled_at, '2026-11-27T12:00:05.000Z');
  assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 401);
  assert.equal((await refresh(server, client, tokens.refresh_token)).json().error, 'invalid_grant');
  const again = await server.app.inject({ method: 'GET', url: authorizeUrl(client), headers: { cookie: browser.header() } });
  assert.match(again.headers.location as string, /^\/login\?/);
  await assert.rejects(logIn(server, 'bob'), /login failed: 401/);

  const enabled = await api.call('POST', `/admin/api/users/${bob.sub}/enable`);
  assert.equal(enabled.json().disabled, false);
  await logIn(server, 'bob');

  const newPassword = 'another long passphrase';
  assertError(await api.call('POST', `/admin/api/users/${bob.sub}/reset-password`, {}), 400, 'invalid_request', "'password' is required");
  assertError(await api.call('POST', `/admin/api/users/${bob.sub}/reset-password`, { password: 'short' }), 400, 'invalid_request', "'password' must be 8-1024 characters");
  assert.equal((await api.call('POST', `/admin/api/users/${bob.sub}/reset-password`, { password: newPassword })).statusCode, 200);
  await assert.rejects(logIn(server, 'bob'), /login failed: 401/);

  for (const path of ['', '/grants']) assertError(await api.call('GET', `/admin/api/users/nobody${path}`), 404, 'not_found', "no user with ID 'nobody'");
  for (const path of ['/disable', '/enable']) assertError(await api.call('POST', `/admin/api/users/nobody${path}`), 404, 'not_found');
  assertError(await api.call('POST', '/admin/api/users/nobody/reset-password', { password: newPassword }), 404, 'not_found');
  assertError(await api.call('PATCH', '/admin/api/users/nobody', { admin: true }), 404, 'not_found');

  assert.equal((await api.call('DELETE', `/admin/api/users/${bob.sub}`)).statusCode, 204);
  assertError(await api.call('GET', `/admin/api/users/${bob.sub}`), 404, 'not_found');
  assertError(await api.call('DELETE', `/admin/api/users/${bob.sub}`), 404, 'not_found');

  const actions = (await server.storage.listAuditEvents(50)).filter((event) => event.actor === `client:${api.clientId}`).map((event) => event.action);
  assert.deepEqual(actions.sort(), ['user_created', 'user_deleted', 'user_disabled', 'user_enabled', 'user_password_reset', 'user_updated']);
});

test('keys: list with state, rotate; events: newest first, with a limit', async (t) => {
  const api = await adminApi();
  t.after(() => api.server.close());
  const { server } = api;

  const listed = await api.call('GET', '/admin/api/keys');
  assert.equal(listed.statusCode, 200);
  const before = listed.json().keys as { kid: string; alg: string; state: string; published: boolean }[];
  assert.deepEqual(before.map((key) => `${key.alg} ${key.state} ${key.published}`).sort(), ['ES256 active true', 'RS256 active true']);

  server.clock.advance(60);
  const rotated = await api.call('POST', '/admin/api/keys/rotate');
  assert.equal(rotated.statusCode, 200, rotated.body);
  const after = rotated.json().keys as { kid: string; state: string; retired_at: string | null; published_until: string | null }[];
  assert.equal(after.length, 4);
  for (const old of before) {
    const now = after.find((key) => key.kid === old.kid)!;
    assert.equal(now.state, 'retired');
    assert.equal(now.retired_at, '2026-11-27T12:01:00.000Z');
    assert.ok(now.published_until !== null && now.published_until > now.retired_at);
  }
  assert.equal(after.filter((key) => key.state === 'active').length, 2);

  const events = await api.call('GET', '/admin/api/events?limit=1');
  assert.equal(events.statusCode, 200);
  assert.equal(events.json().events.length, 1);
  const [event] = events.json().events;
  assert.equal(event.action, 'keys_rotated');
  assert.equal(event.actor, `client:${api.clientId}`);
  assert.equal(event.at, '2026-11-27T12:01:00.000Z');
  assert.equal(event.ip, '127.0.0.1');
  assert.deepEqual([...event.detail.new_kids].sort(), after.filter((key) => key.state === 'active').map((key) => key.kid).sort());
  const all = (await api.call('GET', '/admin/api/events')).json().events;
  assert.deepEqual(all.map((entry: { action: string }) => entry.action), ['keys_rotated']);

  // Past their publication, retired keys are listed as expired until the cleanup removes them.
  server.clock.advance(7 * 24 * 3600);
  const later = (await api.call('GET', '/admin/api/keys', undefined, await freshToken(api))).json().keys as { kid: string; state: string; published: boolean }[];
  for (const old of before) assert.deepEqual(later.find((key) => key.kid === old.kid)!.state, 'expired');
  assert.equal((await server.app.inject({ method: 'GET', url: '/jwks' })).json().keys.length, 2);
});

/** A new token for the API's client, after the clock has moved past the first one's life. */
async function freshToken(api: AdminApi): Promise<string> {
  return (await clientCredentialsToken(api.server, api.clientId, api.secret)).json().access_token as string;
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown>; requestBody?: unknown }>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, unknown> };
}

/** Every method and path the router has, from its own listing (HEAD is Fastify's automatic twin of GET). */
function registeredRoutes(server: TestServer): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of server.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (match === null) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + match[2];
    stack.push(path);
    for (const method of (match[3] ?? '').split(', ')) if (method !== '' && method !== 'HEAD') routes.push(`${method} ${path}`);
  }
  return routes;
}

test('/admin/openapi.json describes every admin API route, and nothing else', async (t) => {
  const api = await adminApi();
  t.after(() => api.server.close());
  const response = await api.server.app.inject({ method: 'GET', url: '/admin/openapi.json' });
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  const document = response.json() as OpenApiDocument;
  assert.equal(document.openapi, '3.1.0');

  const documented = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => key !== 'parameters')
      .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
  );
  const registered = registeredRoutes(api.server).filter((route) => route.split(' ')[1]!.startsWith('/admin/api/'));
  assert.ok(registered.length >= 18, `found the routes: ${registered.join(', ')}`);
  assert.deepEqual([...documented].sort(), [...registered].sort());

  // Each operation is complete: an id, its success response, the auth errors, a body where it reads one.
  const readsBody = new Set(['POST /admin/api/clients', 'PATCH /admin/api/clients/:client_id', 'POST /admin/api/users', 'PATCH /admin/api/users/:sub', 'POST /admin/api/users/:sub/reset-password']);
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
      assert.ok(operation.operationId !== undefined && !operationIds.has(operation.operationId), route);
      operationIds.add(operation.operationId);
      const statuses = Object.keys(operation.responses ?? {});
      assert.ok(statuses.some((status) => status.startsWith('2')), `${route} has a success response`);
      assert.ok(statuses.includes('401') && statuses.includes('403'), `${route} documents 401 and 403`);
      assert.equal(operation.requestBody !== undefined, readsBody.has(route), `${route} request body`);
    }
  }
  // Every reference resolves.
  for (const [, kind, name] of JSON.stringify(document).matchAll(/"#\/components\/(schemas|responses)\/(\w+)"/g)) {
    assert.ok(document.components[kind as 'schemas' | 'responses'][name!] !== undefined, `${kind}/${name}`);
  }
  // The token endpoint of the security scheme is this server's.
  assert.match(JSON.stringify(document), /"tokenUrl":"http:\/\/127\.0\.0\.1:4000\/token"/);
});

test('clients: token_endpoint_auth_method, consent_policy, can_introspect and served_resources (issue 13)', async (t) => {
  const api = await adminApi();
  t.after(() => api.server.close());
  const created = await api.call('POST', '/admin/api/clients', {
    client_name: 'Notes API',
    grant_types: ['client_credentials'],
    scope: 'calendar.read',
    token_endpoint_auth_method: 'client_secret_post',
    consent_policy: 'always_ask',
    can_introspect: true,
    served_resources: ['https://api.example/notes'],
  });
  assert.equal(created.statusCode, 201, created.body);
  const client = created.json();
  assert.equal(client.token_endpoint_auth_method, 'client_secret_post');
  assert.equal(client.consent_policy, 'always_ask');
  assert.equal(client.can_introspect, true);
  assert.deepEqual(client.served_resources, ['https://api.example/notes']);

  const patched = await api.call('PATCH', `/admin/api/clients/${client.client_id}`, { can_introspect: false, token_endpoint_auth_method: 'client_secret_basic' });
  assert.equal(patched.statusCode, 200, patched.body);
  assert.equal(patched.json().can_introspect, false);
  assert.equal(patched.json().token_endpoint_auth_method, 'client_secret_basic');

  const publicClient = await api.call('POST', '/admin/api/clients', { client_name: 'Phone', client_type: 'public', redirect_uris: ['http://127.0.0.1/cb'] });
  assert.equal(publicClient.json().token_endpoint_auth_method, 'none');
  assert.equal(publicClient.json().consent_policy, 'always_ask');

  assertError(
    await api.call('POST', '/admin/api/clients', { client_name: 'A', redirect_uris: ['https://a.example/cb'], consent_policy: 'often' }),
    400,
    'invalid_request',
    "'consent_policy' must be one of 'remember', 'always_ask'",
  );
  assertError(await api.call('POST', '/admin/api/clients', { client_name: 'A', redirect_uris: ['https://a.example/cb'], can_introspect: 'yes' }), 400, 'invalid_request', "'can_introspect' must be true or false");
  assertError(
    await api.call('POST', '/admin/api/clients', { client_name: 'A', redirect_uris: ['http://127.0.0.1/cb'] }),
    400,
    'invalid_redirect_uri',
    /only native \(public\) clients may use/,
  );

  // The OpenAPI document describes the fields, for reading and writing.
  const document = (await api.server.app.inject({ method: 'GET', url: '/admin/openapi.json' })).json();
  for (const schema of ['Client', 'ClientCreate', 'ClientUpdate']) {
    for (const field of ['token_endpoint_auth_method', 'consent_policy', 'can_introspect', 'served_resources']) {
      assert.ok(field in document.components.schemas[schema].properties, `${schema}.${field}`);
    }
  }
  assert.deepEqual(document.components.schemas.Client.properties.token_endpoint_auth_method.enum, ['client_secret_basic', 'client_secret_post', 'none']);
});
