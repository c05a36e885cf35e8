import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import type { AccountRecord } from '../../src/storage/storage.ts';
import {
  authorizeUrl,
  buildTestServer,
  callUserinfo,
  CookieJar,
  createTestClient,
  createTestUser,
  form,
  formFields,
  issueCode,
  logIn,
  password,
  redeemCode,
  refresh,
  type TestClient,
  type TestServer,
} from '../support/test-server.ts';

/*
 * The admin console, through the same HTTP requests a browser makes: the login form, the pages,
 * and their CSRF-protected forms. Every test builds its own server with a frozen clock.
 */

interface AdminConsole {
  server: TestServer;
  admin: AccountRecord;
  jar: CookieJar;
  get(url: string): Promise<LightMyRequestResponse>;
  /** Posts a form with this browser's CSRF token (or the given one; null sends none). */
  post(url: string, fields?: Record<string, string | string[]>, csrf?: string | null): Promise<LightMyRequestResponse>;
}

async function adminConsole(server?: TestServer): Promise<AdminConsole> {
  server ??= await buildTestServer();
  const admin = await createAccount({ username: 'root', password, name: 'Root Admin', isAdmin: true }, server.ctx);
  const jar = await logIn(server, 'root');
  const s = server;
  let token: string | undefined;
  const get = async (url: string) => {
    const response = await s.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
    jar.store(response);
    return response;
  };
  const post = async (url: string, fields: Record<string, string | string[]> = {}, csrf?: string | null) => {
    token ??= formFields((await get('/admin')).body).get('_csrf');
    // A second between actions, so that the audit trail orders them as they happened.
    s.clock.advance(1);
    const entries = Object.entries(fields).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v): [string, string] => [name, v]));
    const withToken = csrf === null ? entries : [...entries, ['_csrf', csrf ?? token!] as [string, string]];
    const response = await s.app.inject({
      method: 'POST',
      url,
      payload: new URLSearchParams(withToken).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    });
    jar.store(response);
    return response;
  };
  return { server, admin, jar, get, post };
}

/** What the administrator did, oldest first (their own sign-in is the login page's business). */
async function adminActions(admin: AdminConsole) {
  const trail = await admin.server.storage.listAuditEvents(100);
  return trail.filter((event) => event.actor === `account:${admin.admin.id}` && event.action !== 'login').reverse();
}

/** The client form as the "Register a client" page submits it. */
function clientForm(overrides: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return {
    client_name: 'Calendar',
    client_type: 'confidential',
    redirect_uris: 'https://calendar.example/callback',
    scope: ['profile', 'calendar.read'],
    grant_type: ['authorization_code', 'refresh_token', 'client_credentials'],
    access_token_ttl: '',
    refresh_token_ttl: '',
    access_token_format: 'opaque',
    resources: '',
    ...overrides,
  };
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

function clientCredentials(server: TestServer, clientId: string, secret: string, scope = 'calendar.read') {
  const body = form({ grant_type: 'client_credentials', scope });
  return server.app.inject({ method: 'POST', url: '/token', ...body, headers: { ...body.headers, authorization: basic(clientId, secret) } });
}

function secretOnPage(page: string): string | undefined {
  return /<code id="client-secret">([^<]+)<\/code>/.exec(page)?.[1];
}

/** Creates a client through the console and reads its one-time secret from the page it lands on. */
async function createClientInConsole(admin: AdminConsole, overrides: Record<string, string | string[]> = {}) {
  const created = await admin.post('/admin/clients', clientForm(overrides));
  assert.equal(created.statusCode, 303, created.body);
  const location = created.headers.location as string;
  const clientId = /^\/admin\/clients\/([0-9a-f]+)\/secret$/.exec(location)?.[1];
  assert.ok(clientId !== undefined, location);
  const page = await admin.get(location);
  assert.equal(page.statusCode, 200);
  const secret = secretOnPage(page.body);
  assert.ok(secret !== undefined, 'the secret is on the page');
  return { clientId, secret, location };
}

function loginForm(server: TestServer, jar: CookieJar, username: string, secret: string, returnTo = '/') {
  return (async () => {
    const page = await server.app.inject({ method: 'GET', url: `/login?${new URLSearchParams({ return_to: returnTo })}`, headers: { cookie: jar.header() } });
    jar.store(page);
    const fields = formFields(page.body);
    const body = form({ _csrf: fields.get('_csrf')!, return_to: fields.get('return_to') ?? returnTo, username, password: secret });
    const response = await server.app.inject({ method: 'POST', url: '/login', ...body, headers: { ...body.headers, cookie: jar.header() } });
    jar.store(response);
    return response;
  })();
}

/** Every POST route of the console, as registered (the API under /admin/api is not a form). */
function consoleFormRoutes(server: TestServer): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of server.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (match === null) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + match[2];
    stack.push(path);
    const methods = (match[3] ?? '').split(', ');
    if (methods.includes('POST') && path.startsWith('/admin') && !path.startsWith('/admin/api')) routes.push(path);
  }
  return routes;
}

test('/admin sends strangers to the login form and back; other users get a 403 page', async (t) => {
  const server = await buildTestServer();
  t.after(() => server.close());
  await createTestUser(server);
  await createAccount({ username: 'root', password, isAdmin: true }, server.ctx);

  for (const url of ['/admin', '/admin/clients', '/admin/users', '/admin/keys', '/admin/events']) {
    const anonymous = await server.app.inject({ method: 'GET', url });
    assert.equal(anonymous.statusCode, 302, url);
    assert.equal(anonymous.headers.location, `/login?${new URLSearchParams({ return_to: url })}`);
  }

  // The login form returns to the admin page that sent the browser there, and nowhere else.
  const jar = new CookieJar();
  const loggedIn = await loginForm(server, jar, 'root', password, '/admin/clients?done=x');
  assert.equal(loggedIn.statusCode, 303);
  assert.equal(loggedIn.headers.location, '/admin/clients?done=x');
  for (const unsafe of ['//evil.example/admin', '/administrator', 'https://evil.example/admin', '/admin\\..\\x']) {
    const response = await loginForm(server, new CookieJar(), 'root', password, unsafe);
    assert.equal(response.headers.location, '/', unsafe);
  }
  const page = await server.app.inject({ method: 'GET', url: '/admin', headers: { cookie: jar.header() } });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<h1>Overview<\/h1>/);

  // alice is signed in but is no administrator: every page and every form is refused.
  const alice = await logIn(server, 'alice');
  for (const url of ['/admin', '/admin/clients', '/admin/clients/new', '/admin/users', '/admin/keys', '/admin/events']) {
    const response = await server.app.inject({ method: 'GET', url, headers: { cookie: alice.header() } });
    assert.equal(response.statusCode, 403, url);
    assert.match(response.body, /Not an administrator/);
    assert.match(response.body, /Signed in as|signed in as/);
  }
  const aliceCsrf = formFields((await server.app.inject({ method: 'GET', url: '/admin', headers: { cookie: alice.header() } })).body).get('_csrf')!;
  const attempt = form({ _csrf: aliceCsrf, ...Object.fromEntries(Object.entries(clientForm()).map(([k, v]) => [k, String(v)])) });
  const refused = await server.app.inject({ method: 'POST', url: '/admin/clients', ...attempt, headers: { ...attempt.headers, cookie: alice.header() } });
  assert.equal(refused.statusCode, 403);
  assert.deepEqual(await server.storage.listClients(), []);
  const rotate = form({ _csrf: aliceCsrf });
  const refusedRotation = await server.app.inject({ method: 'POST', url: '/admin/keys/rotate', ...rotate, headers: { ...rotate.headers, cookie: alice.header() } });
  assert.equal(refusedRotation.statusCode, 403);
  // Nothing but the sign-ins happened.
  assert.deepEqual((await server.storage.listAuditEvents(20)).filter((event) => event.action !== 'login'), []);
});

test('every console form is CSRF-protected: without the token or with a wrong one nothing happens', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;
  const client = await createTestClient(server);
  const bob = await createTestUser(server, 'bob');

  const routes = consoleFormRoutes(server);
  // The list comes from the router, so a new form cannot be forgotten here.
  assert.deepEqual(routes.sort(), [
    '/admin/clients',
    '/admin/clients/:clientId',
    '/admin/clients/:clientId/delete',
    '/admin/clients/:clientId/rotate-secret',
    '/admin/keys/rotate',
    '/admin/users',
    '/admin/users/:sub/admin',
    '/admin/users/:sub/delete',
    '/admin/users/:sub/disable',
    '/admin/users/:sub/enable',
    '/admin/users/:sub/reset-password',
  ]);
  await admin.get('/admin');
  const keysBefore = await server.storage.listSigningKeys();
  for (const route of routes) {
    const url = route.replace(':clientId', client.clientId).replace(':sub', bob.id);
    const fields = { ...clientForm(), username: 'mallory', password: 'a new password', confirm: 'yes', admin: 'yes' };
    for (const csrf of [null, 'forged-token']) {
      const response = await admin.post(url, fields, csrf);
      assert.equal(response.statusCode, 403, `${url} with ${csrf ?? 'no token'}`);
      assert.match(response.body, /the form has expired or did not come from this site/);
    }
  }
  assert.equal((await server.storage.listClients()).length, 1);
  assert.equal((await server.storage.findClient(client.clientId))!.name, 'Mine');
  const bobAfter = (await server.storage.findAccount(bob.id))!;
  assert.equal(bobAfter.disabledAt, null);
  assert.equal(bobAfter.isAdmin, false);
  assert.equal(bobAfter.passwordHash, bob.passwordHash);
  assert.equal(await server.storage.findAccountByUsername('mallory'), undefined);
  assert.deepEqual(await server.storage.listSigningKeys(), keysBefore);
  assert.deepEqual(await adminActions(admin), []);
  // The secret was not rotated: it still authenticates (and the grant, not registered, is refused after that).
  assert.equal((await clientCredentials(server, client.clientId, client.clientSecret!)).json().error, 'unauthorized_client');
});

test('creating a client shows its secret once, and the secret works at /token', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;

  const form = await admin.get('/admin/clients/new');
  assert.equal(form.statusCode, 200);
  assert.match(form.body, /<label for="client_name">Client name<\/label>/);
  assert.match(form.body, /<input type="checkbox" name="scope" value="calendar.read">/);

  const { clientId, secret, location } = await createClientInConsole(admin);
  const stored = (await server.storage.findClient(clientId))!;
  assert.equal(stored.name, 'Calendar');
  assert.deepEqual(stored.redirectUris, ['https://calendar.example/callback']);
  assert.deepEqual(stored.scopes, ['profile', 'calendar.read']);
  assert.notEqual(stored.secretHash, secret, 'only a hash is stored');

  const tokens = await clientCredentials(server, clientId, secret);
  assert.equal(tokens.statusCode, 200, tokens.body);
  assert.equal(tokens.json().scope, 'calendar.read');

  // Shown once: a second look (reload, back button) has no secret.
  const again = await admin.get(location);
  assert.equal(again.statusCode, 200);
  assert.equal(secretOnPage(again.body), undefined);
  assert.match(again.body, /shown once and is no longer available/);
  assert.doesNotMatch(again.body, new RegExp(secret));
  // Nor does any other page.
  for (const url of ['/admin/clients', `/admin/clients/${clientId}`, '/admin/events', '/admin']) {
    assert.doesNotMatch((await admin.get(url)).body, new RegExp(secret), url);
  }

  const list = await admin.get('/admin/clients');
  assert.match(list.body, new RegExp(`<a href="/admin/clients/${clientId}">Calendar</a>`));

  // A public client has no secret: the console goes straight to its page.
  const publicClient = await admin.post('/admin/clients', clientForm({ client_name: 'Phone app', client_type: 'public', grant_type: ['authorization_code'] }));
  assert.equal(publicClient.statusCode, 303);
  assert.match(publicClient.headers.location as string, /^\/admin\/clients\/[0-9a-f]+\?done=client_created$/);
});

test('invalid client forms are shown again with the message and what was typed', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const cases: [Record<string, string | string[]>, RegExp][] = [
    [{ redirect_uris: 'http://calendar.example/callback' }, /uses http, which is allowed only for loopback hosts/],
    [{ client_name: '' }, /client name must be 1–200 characters/],
    [{ grant_type: [] }, /at least one grant type is required/],
    [{ access_token_ttl: 'soon' }, /access token lifetime must be a whole number of seconds/],
    [{ scope: ['profile', 'no-such-scope'] }, /unknown scope &quot;no-such-scope&quot;/],
    [{ client_type: 'public', grant_type: ['client_credentials'] }, /a public client cannot use client_credentials/],
  ];
  for (const [overrides, message] of cases) {
    const response = await admin.post('/admin/clients', clientForm({ client_name: 'Typed <name>', ...overrides }));
    assert.equal(response.statusCode, 400, JSON.stringify(overrides));
    assert.match(response.body, /<p class="error" role="alert">/);
    assert.match(response.body, message);
    if (overrides.client_name === undefined) assert.match(response.body, /value="Typed &lt;name&gt;"/);
  }
  assert.deepEqual(await admin.server.storage.listClients(), []);
});

test('editing redirect URIs takes effect at /authorize at once', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;
  const client = await createTestClient(server);
  const newUri = 'https://client.example/new-callback';

  const page = await admin.get(`/admin/clients/${client.clientId}`);
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /https:\/\/client\.example\/callback<\/textarea>/);

  const saved = await admin.post(
    `/admin/clients/${client.clientId}`,
    clientForm({ client_name: 'Mine', redirect_uris: `${newUri}\r\n`, scope: ['profile', 'email'], access_token_ttl: '600', access_token_format: 'jwt' }),
  );
  assert.equal(saved.statusCode, 303, saved.body);
  assert.equal(saved.headers.location, `/admin/clients/${client.clientId}?done=client_updated`);
  assert.match((await admin.get(saved.headers.location as string)).body, /Changes saved\./);

  const stored = (await server.storage.findClient(client.clientId))!;
  assert.deepEqual(stored.redirectUris, [newUri]);
  assert.deepEqual(stored.scopes, ['profile', 'email']);
  assert.equal(stored.accessTokenTtlSeconds, 600);
  assert.equal(stored.accessTokenFormat, 'jwt');
  assert.deepEqual(stored.grantTypes, ['authorization_code', 'refresh_token', 'client_credentials']);

  // The old URI is no longer trusted: an error page, never a redirect to it.
  const old = await server.app.inject({ method: 'GET', url: authorizeUrl(client) });
  assert.equal(old.statusCode, 400);
  assert.equal(old.headers.location, undefined);
  assert.match(old.body, /redirect_uri/);
  const fresh = await server.app.inject({ method: 'GET', url: authorizeUrl(client, { redirectUri: newUri, scope: 'profile' }) });
  assert.equal(fresh.statusCode, 302);
  assert.match(fresh.headers.location as string, /^\/login\?/);
  // A scope taken away is refused too.
  const removed = await server.app.inject({ method: 'GET', url: authorizeUrl(client, { redirectUri: newUri, scope: 'calendar.read' }) });
  assert.equal(new URL(removed.headers.location as string).searchParams.get('error'), 'invalid_scope');

  const [event] = await adminActions(admin);
  assert.equal(event!.action, 'client_updated');
  assert.equal(event!.subject, `client:${client.clientId}`);
  assert.equal(event!.at, server.clock.now());
  assert.deepEqual(event!.detail, {
    client_name: 'Mine',
    changed: ['redirect_uris', 'grant_types', 'scope', 'access_token_ttl', 'access_token_format'],
  });
});

test('rotating a secret shows the new one once and the old one stops working', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;
  const { clientId, secret: first } = await createClientInConsole(admin);

  const rotated = await admin.post(`/admin/clients/${clientId}/rotate-secret`);
  assert.equal(rotated.statusCode, 303);
  assert.equal(rotated.headers.location, `/admin/clients/${clientId}/secret`);
  const second = secretOnPage((await admin.get(rotated.headers.location as string)).body);
  assert.ok(second !== undefined);
  assert.notEqual(second, first);
  assert.equal(secretOnPage((await admin.get(rotated.headers.location as string)).body), undefined, 'shown once');

  const old = await clientCredentials(server, clientId, first);
  assert.equal(old.statusCode, 401);
  assert.equal(old.json().error, 'invalid_client');
  assert.equal((await clientCredentials(server, clientId, second)).statusCode, 200);

  assert.deepEqual((await adminActions(admin)).map((event) => event.action), ['client_created', 'client_secret_rotated']);
});

test('deleting a client needs the confirmation box, then revokes its tokens', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;
  const client = await createTestClient(server);
  await createTestUser(server);
  const alice = await logIn(server);
  const tokens = (await redeemCode(server, client, await issueCode(server, alice, client, { scope: 'profile' }))).json();
  assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 200);

  const unconfirmed = await admin.post(`/admin/clients/${client.clientId}/delete`);
  assert.equal(unconfirmed.statusCode, 400);
  assert.match(unconfirmed.body, /tick the box to confirm that you want to delete this client/);
  assert.ok(await server.storage.findClient(client.clientId));

  const deleted = await admin.post(`/admin/clients/${client.clientId}/delete`, { confirm: 'yes' });
  assert.equal(deleted.statusCode, 303);
  assert.equal(deleted.headers.location, '/admin/clients?done=client_deleted');
  assert.equal(await server.storage.findClient(client.clientId), undefined);
  assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 401);
  assert.equal((await admin.get(`/admin/clients/${client.clientId}`)).statusCode, 404);

  assert.deepEqual(
    (await adminActions(admin)).map((event) => [event.action, event.subject, event.detail]),
    [['client_deleted', `client:${client.clientId}`, { client_name: 'Mine' }]],
  );
});

test('creating users; disabling one ends their sessions and tokens and blocks login; enabling lets them back', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;
  const client = await createTestClient(server);

  const created = await admin.post('/admin/users', { username: 'bob', password, name: 'Bob Lee', email: 'bob@example.com' });
  assert.equal(created.statusCode, 303, created.body);
  const bob = (await server.storage.findAccountByUsername('bob'))!;
  assert.equal(created.headers.location, `/admin/users/${bob.id}?done=user_created`);
  assert.equal(bob.isAdmin, false);
  assert.equal(bob.email, 'bob@example.com');
  const taken = await admin.post('/admin/users', { username: 'bob', password });
  assert.equal(taken.statusCode, 409);
  assert.match(taken.body, /username &quot;bob&quot; is already taken/);
  const short = await admin.post('/admin/users', { username: 'carol', password: 'short' });
  assert.equal(short.statusCode, 400);
  assert.match(short.body, /password must be 8–1024 characters/);
  assert.match(short.body, /value="carol"/);
  assert.doesNotMatch(short.body, /value="short"/, 'a password is never shown back');

  // bob signs in, uses the client, and has tokens.
  const browser = await logIn(server, 'bob');
  const tokens = (await redeemCode(server, client, await issueCode(server, browser, client, { scope: 'profile offline_access' }))).json();
  assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 200);
  const userPage = await admin.get(`/admin/users/${bob.id}`);
  assert.match(userPage.body, /<h2>Authorized apps<\/h2>/);
  assert.match(userPage.body, new RegExp(`<a href="/admin/clients/${client.clientId}">Mine</a></td><td>profile offline_access</td>`));

  const disabled = await admin.post(`/admin/users/${bob.id}/disable`);
  assert.equal(disabled.statusCode, 303);
  assert.equal(disabled.headers.location, `/admin/users/${bob.id}?done=user_disabled`);
  assert.notEqual((await server.storage.findAccount(bob.id))!.disabledAt, null);
  // The session is gone: /authorize asks for a login again.
  const again = await server.app.inject({ method: 'GET', url: authorizeUrl(client), headers: { cookie: browser.header() } });
  assert.equal(again.statusCode, 302);
  assert.match(again.headers.location as string, /^\/login\?/);
  // The tokens are revoked.
  assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 401);
  assert.equal((await refresh(server, client, tokens.refresh_token)).json().error, 'invalid_grant');
  // The right password no longer signs in.
  const blocked = await loginForm(server, new CookieJar(), 'bob', password);
  assert.equal(blocked.statusCode, 401);
  assert.match((await admin.get(`/admin/users/${bob.id}`)).body, /<span class="badge off">disabled<\/span>/);

  const enabled = await admin.post(`/admin/users/${bob.id}/enable`);
  assert.equal(enabled.statusCode, 303);
  assert.equal((await loginForm(server, new CookieJar(), 'bob', password)).statusCode, 303);

  assert.deepEqual((await adminActions(admin)).map((event) => event.action), ['user_created', 'user_disabled', 'user_enabled']);
});

test('an administrator cannot disable, demote or delete their own account; roles can be given and taken', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;
  for (const [path, fields] of [
    ['disable', {}],
    ['admin', { admin: 'no' }],
    ['delete', { confirm: 'yes' }],
  ] as const) {
    const response = await admin.post(`/admin/users/${admin.admin.id}/${path}`, fields);
    assert.equal(response.statusCode, 409, path);
    assert.match(response.body, /your own account/);
  }
  const self = (await server.storage.findAccount(admin.admin.id))!;
  assert.equal(self.isAdmin, true);
  assert.equal(self.disabledAt, null);

  const bob = await createTestUser(server, 'bob');
  assert.equal((await admin.post(`/admin/users/${bob.id}/admin`, { admin: 'yes' })).statusCode, 303);
  assert.equal((await server.storage.findAccount(bob.id))!.isAdmin, true);
  const bobBrowser = await logIn(server, 'bob');
  assert.equal((await server.app.inject({ method: 'GET', url: '/admin', headers: { cookie: bobBrowser.header() } })).statusCode, 200);
  assert.equal((await admin.post(`/admin/users/${bob.id}/admin`, { admin: 'no' })).statusCode, 303);
  assert.equal((await server.app.inject({ method: 'GET', url: '/admin', headers: { cookie: bobBrowser.header() } })).statusCode, 403);

  assert.equal((await admin.post(`/admin/users/${bob.id}/delete`, { confirm: 'yes' })).statusCode, 303);
  assert.equal(await server.storage.findAccount(bob.id), undefined);
  assert.deepEqual(
    (await adminActions(admin)).map((event) => [event.action, event.detail]),
    [
      ['user_updated', { username: 'bob', admin: true }],
      ['user_updated', { username: 'bob', admin: false }],
      ['user_deleted', { username: 'bob' }],
    ],
  );
});

test('resetting a password: the old one stops working, the new one works, sessions end', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;
  const bob = await createTestUser(server, 'bob');
  const client = await createTestClient(server);
  const browser = await logIn(server, 'bob');

  const tooShort = await admin.post(`/admin/users/${bob.id}/reset-password`, { password: 'short' });
  assert.equal(tooShort.statusCode, 400);
  assert.match(tooShort.body, /&quot;password&quot; must be 8–1024 characters/);
  assert.match(tooShort.body, /<h2>Reset password<\/h2>/);

  const newPassword = 'a completely new passphrase';
  const reset = await admin.post(`/admin/users/${bob.id}/reset-password`, { password: newPassword });
  assert.equal(reset.statusCode, 303);
  assert.equal(reset.headers.location, `/admin/users/${bob.id}?done=user_password_reset`);
  assert.equal((await loginForm(server, new CookieJar(), 'bob', password)).statusCode, 401);
  assert.equal((await loginForm(server, new CookieJar(), 'bob', newPassword)).statusCode, 303);
  const after = await server.app.inject({ method: 'GET', url: authorizeUrl(client), headers: { cookie: browser.header() } });
  assert.match(after.headers.location as string, /^\/login\?/, 'the session from before the reset has ended');

  // An administrator resetting their own password stays signed in.
  assert.equal((await admin.post(`/admin/users/${admin.admin.id}/reset-password`, { password: newPassword })).statusCode, 303);
  assert.equal((await admin.get('/admin')).statusCode, 200);

  assert.deepEqual(
    (await adminActions(admin)).map((event) => [event.action, event.subject]),
    [
      ['user_password_reset', `account:${bob.id}`],
      ['user_password_reset', `account:${admin.admin.id}`],
    ],
  );
  assert.doesNotMatch(JSON.stringify(await server.storage.listAuditEvents(100)), /passphrase/, 'no password in the trail');
});

test('signing keys: the page lists them with their state; rotating retires the active ones', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;

  const before = await admin.get('/admin/keys');
  assert.equal(before.statusCode, 200);
  const oldKeys = await server.storage.listSigningKeys();
  assert.deepEqual(oldKeys.map((key) => `${key.alg} ${key.state}`).sort(), ['ES256 active', 'RS256 active']);
  for (const key of oldKeys) assert.match(before.body, new RegExp(`<code>${key.kid}</code></td><td>${key.alg}</td><td>active — signs new tokens`));

  const rotated = await admin.post('/admin/keys/rotate');
  assert.equal(rotated.statusCode, 303);
  assert.equal(rotated.headers.location, '/admin/keys?done=keys_rotated');
  const keys = await server.storage.listSigningKeys();
  assert.equal(keys.length, 4);
  assert.deepEqual(keys.filter((key) => key.state === 'retired').map((key) => key.kid).sort(), oldKeys.map((key) => key.kid).sort());
  const page = await admin.get('/admin/keys?done=keys_rotated');
  assert.match(page.body, /New signing keys are active\./);
  for (const key of oldKeys) assert.match(page.body, new RegExp(`<code>${key.kid}</code></td><td>${key.alg}</td><td>retired — still published`));
  const jwks = (await server.app.inject({ method: 'GET', url: '/jwks' })).json() as { keys: { kid: string }[] };
  assert.equal(jwks.keys.length, 4, 'the retired keys stay published');

  const [event] = await adminActions(admin);
  assert.equal(event!.action, 'keys_rotated');
  assert.equal(event!.at, server.clock.now());
  assert.deepEqual((event!.detail.new_kids as string[]).sort(), keys.filter((key) => key.state === 'active').map((key) => key.kid).sort());
});

test('the events page shows who did what and when, including token revocations', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;
  const client: TestClient = await createTestClient(server);
  await createTestUser(server);
  const alice = await logIn(server);
  const tokens = (await redeemCode(server, client, await issueCode(server, alice, client, { scope: 'profile' }))).json();

  server.clock.advance(30);
  const revokeBody = form({ token: tokens.refresh_token });
  const revoked = await server.app.inject({ method: 'POST', url: '/revoke', ...revokeBody, headers: { ...revokeBody.headers, authorization: client.basic } });
  assert.equal(revoked.statusCode, 200);
  // Revoking an unknown token changes nothing and is not an event.
  const unknownBody = form({ token: 'no-such-token' });
  await server.app.inject({ method: 'POST', url: '/revoke', ...unknownBody, headers: { ...unknownBody.headers, authorization: client.basic } });

  await admin.post('/admin/users', { username: 'bob', password });
  const createdAt = server.clock.now();

  const trail = await server.storage.listAuditEvents(10);
  const revocation = trail.find((event) => event.action === 'token_revoked')!;
  assert.equal(revocation.actor, `client:${client.clientId}`);
  assert.equal(revocation.subject, `account:${(await server.storage.findAccountByUsername('alice'))!.id}`);
  assert.deepEqual(revocation.detail, { token_type: 'refresh_token', client_id: client.clientId });
  assert.equal(revocation.at, Date.UTC(2026, 10, 27, 12, 0, 30));
  assert.equal(trail.filter((event) => event.action === 'token_revoked').length, 1);
  const creation = trail.find((event) => event.action === 'user_created')!;
  assert.equal(creation.actor, `account:${admin.admin.id}`);
  assert.equal(creation.at, createdAt);
  assert.equal(creation.ip, '127.0.0.1');

  const page = await admin.get('/admin/events');
  assert.equal(page.statusCode, 200);
  // Who (by name, linked), what, to whom, and when.
  assert.match(
    page.body,
    new RegExp(
      `<tr><td><time datetime="2026-11-27T12:00:31.000Z">2026-11-27 12:00:31 UTC</time></td><td><a href="/admin/users/${admin.admin.id}">root</a></td><td><code>user_created</code></td><td><a href="/admin/users/[0-9a-f-]+">bob</a></td>`,
    ),
  );
  assert.match(
    page.body,
    new RegExp(`<td><a href="/admin/clients/${client.clientId}">Mine</a> <span class="muted">\\(client\\)</span></td><td><code>token_revoked</code></td><td><a href="/admin/users/[0-9a-f-]+">alice</a></td>`),
  );
  // The overview shows the latest ones too.
  assert.match((await admin.get('/admin')).body, /<code>user_created<\/code>/);
});

test('names with markup are shown literally on every console page', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;
  const script = '<script>alert(1)</script>';
  const image = '"><img src=x onerror=alert(2)>';
  const { clientId } = await createClientInConsole(admin, { client_name: `${script} ${image}` });
  const created = await admin.post('/admin/users', { username: 'eve', password, name: image, email: '' });
  assert.equal(created.statusCode, 303);
  const eve = (await server.storage.findAccountByUsername('eve'))!;
  assert.equal(eve.name, image);
  await registerClient({ name: image, redirectUris: ['https://x.example/cb'] }, server.ctx);

  for (const url of ['/admin', '/admin/clients', `/admin/clients/${clientId}`, `/admin/clients/${clientId}/secret`, '/admin/users', `/admin/users/${eve.id}`, '/admin/events']) {
    const page = await admin.get(url);
    assert.equal(page.statusCode, 200, url);
    assert.doesNotMatch(page.body, /<script>alert|<img src=x/, url);
  }
  const clientPage = (await admin.get(`/admin/clients/${clientId}`)).body;
  assert.match(clientPage, /<h1>&lt;script&gt;alert\(1\)&lt;\/script&gt; &quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;<\/h1>/);
  assert.match((await admin.get(`/admin/users/${eve.id}`)).body, /<dt>Name<\/dt><dd>&quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;<\/dd>/);
  // Every console page carries the strict policy: no script at all.
  const headers = (await admin.get('/admin/clients')).headers;
  assert.match(String(headers['content-security-policy']), /default-src 'none'/);
  assert.doesNotMatch(String(headers['content-security-policy']), /script-src/);
  assert.equal(headers['x-frame-options'], 'DENY');
  assert.equal(headers['cache-control'], 'no-store');
});

/** The text of every `<tag …>…</tag>` of a page, without inner markup and `<code>` (technical names). */
function textsOf(body: string, tag: string): string[] {
  return [...body.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) =>
    match[1]!.replace(/<code[^>]*>[\s\S]*?<\/code>/g, '').replace(/<[^>]*>/g, '').trim(),
  );
}

test('the console speaks Korean to a Korean browser (Accept-Language, the language cookie, the switcher)', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;
  const { clientId } = await createClientInConsole(admin);
  await createTestUser(server);
  const alice = (await server.storage.findAccountByUsername('alice'))!;

  const korean = (url: string, how: 'header' | 'cookie') =>
    server.app.inject({
      method: 'GET',
      url,
      headers:
        how === 'header'
          ? { cookie: admin.jar.header(), 'accept-language': 'ko-KR,ko;q=0.9,en;q=0.5' }
          : { cookie: `${admin.jar.header()}; gatehouse_lang=ko`, 'accept-language': 'en-US' },
    });
  const pages = [
    '/admin',
    '/admin/clients',
    '/admin/clients/new',
    `/admin/clients/${clientId}`,
    `/admin/clients/${clientId}/secret`,
    '/admin/users',
    '/admin/users/new',
    `/admin/users/${alice.id}`,
    '/admin/keys',
    '/admin/events',
    '/admin/clients?done=client_created',
  ];
  const hangul = /[\uac00-\ud7a3]/;
  const english = ['Overview', 'Register a client', 'Signed in as', 'Sign out', 'Admin sections', 'Client name', 'Redirect URIs', 'Authorized apps', 'Signing keys', 'Recent events', 'Latest events', 'Create a user', 'Reset password', 'Delete client', 'Client registered.'];
  for (const url of pages) {
    for (const how of ['header', 'cookie'] as const) {
      const page = await korean(url, how);
      assert.equal(page.statusCode, 200, `${url} (${how})`);
      assert.match(page.body, /<html lang="ko">/, url);
      // Headings, table headers, field labels, legends, buttons and definition terms are all Korean.
      const texts = [
        ...textsOf(page.body, 'h2'),
        ...textsOf(page.body, 'th'),
        ...textsOf(page.body, 'legend'),
        ...textsOf(page.body, 'button'),
        ...textsOf(page.body, 'dt'),
        ...[...page.body.matchAll(/<label for="[^"]+">([^<]*)<\/label>/g)].map((match) => match[1]!),
      ];
      // An h1 is a client's or a user's name on their own page; elsewhere it is Korean.
      if (!/\/admin\/(clients|users)\/[0-9a-z-]{8,}/.test(url)) texts.push(...textsOf(page.body, 'h1'));
      for (const text of texts) assert.match(text, hangul, `${url}: "${text}" is not Korean`);
      for (const phrase of english) assert.ok(!page.body.includes(phrase), `${url} (${how}) still says "${phrase}"`);
      // The navigation is Korean, and the switcher offers English.
      assert.match(page.body, /<nav aria-label="관리 메뉴">/);
      assert.match(page.body, /<a href="\/lang\?to=en&amp;return_to=[^"]+" lang="en" hreflang="en">English<\/a>/, url);
    }
  }
  const clients = (await korean('/admin/clients?done=client_created', 'header')).body;
  assert.match(clients, /<h1>클라이언트<\/h1>/);
  assert.match(clients, /클라이언트를 등록했습니다\./);

  // The switcher's link sets the cookie and comes back to the console page, now in Korean.
  const englishKeys = await admin.get('/admin/keys');
  assert.match(englishKeys.body, /<html lang="en">/);
  assert.match(englishKeys.body, /<h1>Signing keys<\/h1>/);
  const switchLink = /<a href="(\/lang\?to=ko[^"]*)"/.exec(englishKeys.body)?.[1]?.replaceAll('&amp;', '&');
  assert.ok(switchLink !== undefined, 'the English page links to Korean');
  const switched = await admin.get(switchLink);
  assert.equal(switched.statusCode, 303);
  assert.equal(switched.headers.location, '/admin/keys');
  const keys = await admin.get('/admin/keys');
  assert.match(keys.body, /<html lang="ko">/);
  assert.match(keys.body, /<h1>서명 키<\/h1>/);

  // The 403 page for a user who is not an administrator is Korean too.
  const aliceJar = await logIn(server, 'alice');
  const refused = await server.app.inject({ method: 'GET', url: '/admin', headers: { cookie: aliceJar.header(), 'accept-language': 'ko' } });
  assert.equal(refused.statusCode, 403);
  assert.match(refused.body, /<h1>관리자가 아닙니다<\/h1>/);
  assert.ok(!refused.body.includes('Not an administrator'));
});

test('the client form sets the auth method, the consent policy and the introspection permission (issue 13)', async (t) => {
  const admin = await adminConsole();
  t.after(() => admin.server.close());
  const { server } = admin;

  const blank = await admin.get('/admin/clients/new');
  assert.match(blank.body, /<select id="token_endpoint_auth_method" name="token_endpoint_auth_method"/);
  assert.match(blank.body, /<select id="consent_policy" name="consent_policy"/);

  // Left at "the default for the client type".
  const plain = await createClientInConsole(admin, { token_endpoint_auth_method: '', consent_policy: '' });
  const stored = (await server.storage.findClient(plain.clientId))!;
  assert.equal(stored.tokenEndpointAuthMethod, 'client_secret_basic');
  assert.equal(stored.consentPolicy, 'remember');
  assert.equal(stored.canIntrospect, false);

  const api = await createClientInConsole(admin, {
    client_name: 'Notes API',
    token_endpoint_auth_method: 'client_secret_post',
    consent_policy: 'always_ask',
    can_introspect: 'yes',
    served_resources: 'https://api.example/notes\r\n',
  });
  const notes = (await server.storage.findClient(api.clientId))!;
  assert.equal(notes.tokenEndpointAuthMethod, 'client_secret_post');
  assert.equal(notes.consentPolicy, 'always_ask');
  assert.equal(notes.canIntrospect, true);
  assert.deepEqual(notes.servedResources, ['https://api.example/notes']);
  // Registered for client_secret_post, it may not use Basic.
  assert.equal((await clientCredentials(server, api.clientId, api.secret)).statusCode, 401);

  // The edit form shows what is stored, and takes changes.
  const page = await admin.get(`/admin/clients/${api.clientId}`);
  assert.match(page.body, /<option value="client_secret_post" selected>/);
  assert.match(page.body, /<input type="checkbox" name="can_introspect" value="yes" checked>/);
  const edited = await admin.post(`/admin/clients/${api.clientId}`, clientForm({ client_name: 'Notes API', token_endpoint_auth_method: 'client_secret_basic', consent_policy: 'remember' }));
  assert.equal(edited.statusCode, 303, edited.body);
  const after = (await server.storage.findClient(api.clientId))!;
  assert.equal(after.tokenEndpointAuthMethod, 'client_secret_basic');
  assert.equal(after.canIntrospect, false, 'an unticked box takes the permission away');
  assert.equal((await clientCredentials(server, api.clientId, api.secret)).statusCode, 200);

  const refused = await admin.post('/admin/clients', clientForm({ token_endpoint_auth_method: 'none' }));
  assert.equal(refused.statusCode, 400);
  assert.match(refused.body, /use client_secret_basic or client_secret_post/);
});
