import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { registerClient } from '../../src/server/clients/register-client.ts';
import {
  CookieJar,
  authorizeUrl,
  buildTestServer,
  callUserinfo,
  createTestClient,
  createTestUser,
  form,
  formFields,
  issueCode,
  logIn,
  password,
  redeemCode,
  redirectUri,
  refresh,
  rfc7636Verifier,
  type TestClient,
  type TestServer,
} from '../support/test-server.ts';
import { freePort, startListeningServer } from '../support/listening-server.ts';
import { createTestSchema, testPostgresUrl, type TestSchema } from '../support/postgres.ts';
import { sample } from '../support/prometheus.ts';

// ---------------------------------------------------------------------------------------------
// Health

test('GET /health/live answers 200 {status: ok}', async (t) => {
  const server = await buildTestServer();
  t.after(() => server.close());
  const response = await server.app.inject({ method: 'GET', url: '/health/live' });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { status: 'ok' });
  assert.equal(response.headers['cache-control'], 'no-store');
});

test('GET /health/ready answers 200 with a working database, 503 when its schema is not the one of this code', async (t) => {
  const server = await buildTestServer();
  t.after(() => server.close());
  const ready = await server.app.inject({ method: 'GET', url: '/health/ready' });
  assert.equal(ready.statusCode, 200, ready.body);
  assert.deepEqual(ready.json(), { status: 'ok' });
  assert.equal(ready.headers['cache-control'], 'no-store');

  // Another Gatehouse, newer, migrated the same database.
  const database = new Database(server.config.databaseUrl.slice('sqlite:'.length));
  t.after(() => database.close());
  database.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('2099-01-01T00-future', new Date().toISOString());
  const newer = await server.app.inject({ method: 'GET', url: '/health/ready' });
  assert.equal(newer.statusCode, 503, newer.body);
  assert.equal(newer.json().status, 'unavailable');
  assert.deepEqual(newer.json().unknown, ['2099-01-01T00-future']);
  assert.equal((await server.app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
});

// ---------------------------------------------------------------------------------------------
// Metrics

test('/metrics shows requests, latency, tokens per grant type, OAuth errors and active sessions', async (t) => {
  const server = await buildTestServer({ metricsEnabled: true });
  t.after(() => server.close());
  const client = await createTestClient(server);
  await createTestUser(server);
  const jar = await logIn(server);
  const code = await issueCode(server, jar, client, { scope: 'profile offline_access' });
  const tokens = (await redeemCode(server, client, code)).json();
  assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 200);
  assert.equal((await refresh(server, client, tokens.refresh_token)).statusCode, 200);
  const replay = await redeemCode(server, client, code);
  assert.equal(replay.json().error, 'invalid_grant');

  const response = await server.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 200);
  assert.match(response.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  const text = response.body;
  assert.equal(sample(text, 'gatehouse_http_requests_total', { method: 'POST', route: '/token', status: '200' }), 2);
  assert.equal(sample(text, 'gatehouse_http_requests_total', { method: 'POST', route: '/token', status: '400' }), 1);
  assert.equal(sample(text, 'gatehouse_http_requests_total', { method: 'GET', route: '/userinfo', status: '200' }), 1);
  assert.equal(sample(text, 'gatehouse_http_requests_total', { method: 'POST', route: '/login', status: '303' }), 1);
  assert.equal(sample(text, 'gatehouse_tokens_issued_total', { grant_type: 'authorization_code' }), 1);
  assert.equal(sample(text, 'gatehouse_tokens_issued_total', { grant_type: 'refresh_token' }), 1);
  assert.equal(sample(text, 'gatehouse_oauth_errors_total', { error: 'invalid_grant' }), 1);
  // Three /token requests were timed: cumulative buckets from 1 ms up, ending with all three.
  const bounds = ['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];
  const buckets = bounds.map((le) => sample(text, 'gatehouse_http_request_duration_seconds_bucket', { method: 'POST', route: '/token', le }));
  assert.ok(buckets.every((count, index) => count !== undefined && count >= (buckets[index - 1] ?? 0)), `buckets ${buckets.join(' ')}`);
  assert.equal(buckets.at(-1), 3);
  assert.equal(sample(text, 'gatehouse_http_request_duration_seconds_count', { method: 'POST', route: '/token' }), 3);
  assert.ok(sample(text, 'gatehouse_http_request_duration_seconds_sum', { method: 'POST', route: '/token' })! > 0);
  assert.equal(sample(text, 'gatehouse_active_sessions'), 1);

  // An unknown path is counted once under one label, not once per distinct path.
  await server.app.inject({ method: 'GET', url: '/nothing/here/1' });
  await server.app.inject({ method: 'GET', url: '/nothing/here/2' });
  const after = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.equal(sample(after, 'gatehouse_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }), 2);
  assert.doesNotMatch(after, /nothing\/here/);

  // A session that expires no longer counts as active.
  server.clock.advance(server.config.sessionTtlSeconds + 1);
  const later = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.equal(sample(later, 'gatehouse_active_sessions'), 0);
});

test('/metrics is not served unless metricsEnabled is on', async (t) => {
  const server = await buildTestServer();
  t.after(() => server.close());
  const response = await server.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 404);
  assert.equal(response.json().error, 'invalid_request');
  assert.doesNotMatch(response.body, /gatehouse_/);
});

// ---------------------------------------------------------------------------------------------
// Logs

/** A test server logging every level as JSON lines into `lines`. */
async function buildLoggingServer(): Promise<{ server: TestServer; lines: string[] }> {
  const lines: string[] = [];
  const destination = { write: (chunk: string) => void lines.push(chunk) };
  return { server: await buildTestServer({}, { level: 'trace', destination }), lines };
}

test('logs: JSON lines, the request id on every line of a request, and no secret of a full flow', async (t) => {
  const { server, lines } = await buildLoggingServer();
  t.after(() => server.close());
  const client = await createTestClient(server, { scopes: ['openid', 'profile', 'email', 'offline_access'] });
  await createTestUser(server);
  const jar = new CookieJar();
  const requestIds = new Set<string>();

  /** One request; every line logged while it ran must carry its request id. */
  async function call(options: InjectOptions): Promise<LightMyRequestResponse> {
    const before = lines.length;
    const response = await server.app.inject({ ...options, headers: { cookie: jar.header(), ...options.headers } });
    jar.store(response);
    const requestId = response.headers['x-request-id'];
    assert.match(String(requestId), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.ok(!requestIds.has(String(requestId)), 'each request has its own id');
    requestIds.add(String(requestId));
    const during = lines.slice(before);
    assert.ok(during.length >= 2, `${options.method} ${options.url} logged ${during.length} lines`);
    for (const line of during) assert.equal(JSON.parse(line).request_id, requestId, line);
    return response;
  }

  const loginPage = await call({ method: 'GET', url: authorizeUrl(client, { scope: 'openid profile offline_access', extra: { nonce: 'n-1' } }) });
  assert.equal(loginPage.statusCode, 302);
  assert.match(loginPage.headers.location as string, /^\/login\?/);
  const loginForm = await call({ method: 'GET', url: loginPage.headers.location as string });
  const csrfToken = formFields(loginForm.body).get('_csrf')!;
  const returnTo = formFields(loginForm.body).get('return_to')!;
  const loggedIn = await call({ method: 'POST', url: '/login', ...form({ _csrf: csrfToken, return_to: returnTo, username: 'alice', password }) });
  assert.equal(loggedIn.statusCode, 303, loggedIn.body);
  const consentPage = await call({ method: 'GET', url: loggedIn.headers.location as string });
  assert.equal(consentPage.statusCode, 200, consentPage.body);
  const consentFields = formFields(consentPage.body);
  consentFields.set('decision', 'allow');
  const decision = await call({ method: 'POST', url: '/authorize/decision', ...form(consentFields) });
  assert.equal(decision.statusCode, 303, decision.body);
  const code = new URL(decision.headers.location as string).searchParams.get('code')!;

  const basicAuth = { authorization: client.basic, 'content-type': 'application/x-www-form-urlencoded' };
  const exchanged = await call({
    method: 'POST',
    url: '/token',
    payload: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: rfc7636Verifier }).toString(),
    headers: basicAuth,
  });
  assert.equal(exchanged.statusCode, 200, exchanged.body);
  const tokens = exchanged.json();
  assert.ok(tokens.id_token);
  const profile = await call({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(profile.statusCode, 200);
  // A silent re-authorization names the user with the ID token (OpenID Connect Core §3.1.2.1):
  // it travels in the query string, which therefore must not be logged.
  const silent = await call({
    method: 'GET',
    url: authorizeUrl(client, { scope: 'openid profile', extra: { prompt: 'none', id_token_hint: tokens.id_token } }),
  });
  assert.equal(silent.statusCode, 302);
  assert.ok(new URL(silent.headers.location as string).searchParams.get('code'), silent.headers.location as string);
  // A client that puts its token in the URI (RFC 6750 §2.3, not accepted here) must not get it logged either.
  const inQuery = await call({ method: 'GET', url: `/userinfo?access_token=${tokens.access_token}` });
  assert.equal(inQuery.statusCode, 401);
  const refreshed = await call({
    method: 'POST',
    url: '/token',
    payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }).toString(),
    headers: basicAuth,
  });
  assert.equal(refreshed.statusCode, 200, refreshed.body);
  const next = refreshed.json();
  const introspected = await call({
    method: 'POST',
    url: '/introspect',
    payload: new URLSearchParams({ token: next.access_token }).toString(),
    headers: basicAuth,
  });
  assert.equal(introspected.json().active, true);
  const revoked = await call({
    method: 'POST',
    url: '/revoke',
    payload: new URLSearchParams({ token: next.refresh_token }).toString(),
    headers: basicAuth,
  });
  assert.equal(revoked.statusCode, 200);
  // Failures are logged too, still without what they were given.
  const replay = await call({
    method: 'POST',
    url: '/token',
    payload: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: rfc7636Verifier }).toString(),
    headers: basicAuth,
  });
  assert.equal(replay.json().error, 'invalid_grant');
  // The sign-in replaced the CSRF secret: the token of a page shown since then.
  const wrongPassword = await call({ method: 'POST', url: '/login', ...form({ _csrf: consentFields.get('_csrf')!, return_to: '/', username: 'alice', password: `${password}!` }) });
  assert.equal(wrongPassword.statusCode, 401);

  const sessionCookie = /gatehouse_session=([^;]+)/.exec(jar.header())?.[1];
  const csrfCookie = /gatehouse_csrf=([^;]+)/.exec(jar.header())?.[1];
  const secrets: Record<string, string | undefined> = {
    password,
    'wrong password': `${password}!`,
    'client secret': client.clientSecret!,
    'Basic credentials': client.basic.slice('Basic '.length),
    'authorization code': code,
    'access token': tokens.access_token,
    'refresh token': tokens.refresh_token,
    'ID token': tokens.id_token,
    'rotated access token': next.access_token,
    'rotated refresh token': next.refresh_token,
    'session cookie': sessionCookie,
    'CSRF token': csrfToken,
    'CSRF cookie secret': csrfCookie,
  };
  const log = lines.join('');
  assert.ok(lines.length > 20, `only ${lines.length} lines were logged`);
  for (const [name, secret] of Object.entries(secrets)) {
    assert.ok(secret !== undefined && secret.length >= 16, `${name} was captured`);
    assert.ok(!log.includes(secret), `the ${name} appears in the log`);
    assert.ok(!log.includes(encodeURIComponent(secret)), `the ${name} appears URL-encoded in the log`);
  }
  const entries = lines.map((line) => {
    assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'one JSON object per line');
    return JSON.parse(line) as { level: number; time: number; msg: string; method?: string; url?: string; statusCode?: number; req?: { method: string; url: string } };
  });
  for (const entry of entries) {
    assert.equal(typeof entry.level, 'number');
    assert.equal(typeof entry.time, 'number');
  }
  // Requests are logged by method and path; query strings (id_token_hint, login_hint) are not.
  // One line per request at info, flat: method, path, status and time.
  const completed = entries.filter((entry) => entry.msg === 'request completed');
  assert.ok(completed.every((entry) => typeof entry.statusCode === 'number'), 'every request line has its status');
  const paths = entries.flatMap((entry) => {
    if (entry.req !== undefined) return [`${entry.req.method} ${entry.req.url}`];
    return entry.method === undefined ? [] : [`${entry.method} ${entry.url}`];
  });
  assert.ok(paths.includes('GET /authorize'), paths.join(', '));
  assert.ok(paths.includes('POST /token'), paths.join(', '));
  assert.ok(paths.every((path) => !path.includes('?')), paths.join(', '));
});

// ---------------------------------------------------------------------------------------------
// Database outage (PostgreSQL behind a TCP proxy the test can cut)

type OutageMode = 'refuse' | 'blackhole' | 'freeze';

/**
 * A TCP proxy in front of PostgreSQL. `cut('refuse')` drops every connection and stops listening
 * (the database host is down); `cut('blackhole')` drops every connection and then accepts new
 * ones without ever answering (a firewall dropping packets); `cut('freeze')` keeps every
 * connection open but silent, and black-holes new ones (a network partition, a frozen server).
 * `restore()` drops whatever is left and forwards again on the same port.
 */
class DatabaseProxy {
  readonly #upstream: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #listener: Server | undefined;
  #mode: 'forward' | OutageMode = 'forward';
  /** When set, client → database bytes matching it cut the proxy instead of being forwarded. */
  cutWhen: ((chunk: Buffer) => boolean) | undefined;
  port = 0;

  constructor(upstream: { host: string; port: number }) {
    this.#upstream = upstream;
  }

  async listen(): Promise<void> {
    const listener = createNetServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (listener.address() as AddressInfo).port;
    this.#listener = listener;
  }

  /** A DATABASE_URL that reaches `url`'s database through this proxy. */
  urlFor(url: string): string {
    const proxied = new URL(url);
    proxied.host = `127.0.0.1:${this.port}`;
    return proxied.toString();
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => this.#sockets.delete(socket));
  }

  #accept(client: Socket): void {
    this.#track(client);
    if (this.#mode !== 'forward') return; // held open, never answered
    const database = connect(this.#upstream.port, this.#upstream.host);
    this.#track(database);
    client.on('data', (chunk) => {
      if (this.#mode !== 'forward') return;
      if (this.cutWhen?.(chunk)) {
        this.cutWhen = undefined;
        this.cut('refuse');
        return;
      }
      database.write(chunk);
    });
    database.on('data', (chunk) => {
      if (this.#mode === 'forward') client.write(chunk);
    });
    client.on('close', () => database.destroy());
    database.on('close', () => client.destroy());
  }

  cut(mode: OutageMode): void {
    this.#mode = mode;
    if (mode !== 'freeze') for (const socket of this.#sockets) socket.destroy();
    if (mode === 'refuse') {
      this.#listener?.close();
      this.#listener = undefined;
    }
  }

  async restore(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#mode = 'forward';
    if (this.#listener === undefined) await this.listen();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const listener = this.#listener;
    this.#listener = undefined;
    if (listener !== undefined) await new Promise((resolve) => listener.close(resolve));
  }
}

/** A PostgreSQL-backed test server reached through a proxy, on a schema of its own. */
async function buildProxiedServer(t: TestContext): Promise<{ server: TestServer; proxy: DatabaseProxy; schema: TestSchema }> {
  const schema = await createTestSchema();
  const target = new URL(testPostgresUrl);
  const proxy = new DatabaseProxy({ host: target.hostname, port: Number(target.port || 5432) });
  let server: TestServer | undefined;
  t.after(async () => {
    // Even after a failure mid-outage: let the pool close its connections, then drop the schema.
    await proxy.restore();
    await server?.close();
    await proxy.close();
    await schema.drop();
  });
  await proxy.listen();
  server = await buildTestServer({ databaseUrl: proxy.urlFor(schema.url) });
  return { server, proxy, schema };
}

/** Times a request; a database outage must answer quickly, never hang: 10 s without an answer fails. */
async function timed<T>(work: Promise<T>, elapsed: number[] = []): Promise<T> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: 'no answer within 10 s' })), 10_000);
  });
  try {
    const result = await Promise.race([work, deadline]);
    elapsed.push(performance.now() - started);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** What every endpoint answers while the database is away; returns how long each took (ms). */
async function assertOutageAnswers(server: TestServer, client: TestClient, jar: CookieJar, code: string, accessToken: string): Promise<number[]> {
  const elapsed: number[] = [];
  const [token, authorizePage, userinfo, ready, live, login] = await Promise.all([
    timed(redeemCode(server, client, code), elapsed),
    timed(server.app.inject({ method: 'GET', url: authorizeUrl(client, { scope: 'profile' }), headers: { cookie: jar.header() } }), elapsed),
    timed(callUserinfo(server, accessToken), elapsed),
    timed(server.app.inject({ method: 'GET', url: '/health/ready' }), elapsed),
    timed(server.app.inject({ method: 'GET', url: '/health/live' }), elapsed),
    timed(loginAttempt(server, 'alice', password), elapsed),
  ]);
  assert.equal(token.statusCode, 503, token.body);
  assert.match(token.headers['content-type'] as string, /^application\/json/);
  assert.equal(token.json().error, 'temporarily_unavailable');
  assert.equal(token.headers['cache-control'], 'no-store');

  assert.equal(authorizePage.statusCode, 503, authorizePage.body);
  assert.match(authorizePage.headers['content-type'] as string, /^text\/html/);
  assert.match(authorizePage.body, /temporarily_unavailable/);
  assert.match(authorizePage.body, /try again in a few seconds/);
  assert.equal(authorizePage.headers.location, undefined);

  assert.equal(userinfo.statusCode, 503, userinfo.body);
  assert.equal(userinfo.json().error, 'temporarily_unavailable');

  assert.equal(ready.statusCode, 503, ready.body);
  assert.equal(ready.json().error, 'temporarily_unavailable');
  assert.equal(live.statusCode, 200);
  assert.deepEqual(live.json(), { status: 'ok' });

  assert.equal(login.statusCode, 503, login.body);
  assert.match(login.headers['content-type'] as string, /^text\/html/);
  assert.doesNotMatch(String(login.headers['set-cookie'] ?? ''), /gatehouse_session/);
  return elapsed;
}

/** One login form submission (GET the form for its CSRF token, then POST it). */
async function loginAttempt(server: TestServer, username: string, secret: string, remoteAddress = '127.0.0.1') {
  const page = await server.app.inject({ method: 'GET', url: '/login', remoteAddress });
  const jar = new CookieJar();
  jar.store(page);
  const body = form({ _csrf: formFields(page.body).get('_csrf')!, return_to: '/', username, password: secret });
  return server.app.inject({ method: 'POST', url: '/login', ...body, remoteAddress, headers: { ...body.headers, cookie: jar.header() } });
}

async function countRows(schema: TestSchema, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try {
    const result = await client.query<{ count: string }>(sql.replaceAll('$schema', schema.name));
    return Number(result.rows[0]!.count);
  } finally {
    await client.end();
  }
}

const outageNames: Record<OutageMode, string> = {
  refuse: 'connections refused',
  blackhole: 'connections dropped, new ones black-holed',
  freeze: 'open connections go silent, new ones black-holed',
};

// Each outage test has its own schema, proxy and server, and mostly waits on timers: they run together.
describe('PostgreSQL outages', { concurrency: true }, () => {
  for (const mode of ['refuse', 'blackhole', 'freeze'] as const) {
    test(`database outage (${outageNames[mode]}): quick 503s, then recovery without a restart`, async (t) => {
      const { server, proxy, schema } = await buildProxiedServer(t);
      const client = await createTestClient(server);
      await createTestUser(server);
      const jar = await logIn(server);
      const first = await redeemCode(server, client, await issueCode(server, jar, client, { scope: 'profile' }));
      assert.equal(first.statusCode, 200, first.body);
      const pendingCode = await issueCode(server, jar, client, { scope: 'profile' });
      assert.equal((await server.app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200);
      const tokensBefore = await countRows(schema, 'select count(*) from $schema.access_tokens');

      proxy.cut(mode);
      const elapsed = await assertOutageAnswers(server, client, jar, pendingCode, first.json().access_token);
      if (mode === 'freeze') {
        // A pooled connection went silent: only the client-side query deadline ended its wait.
        assert.ok(Math.max(...elapsed) > 4000, `the slowest answer took ${Math.round(Math.max(...elapsed))} ms`);
      }
      // Still down: the server keeps answering 503, it does not wedge.
      assert.equal((await timed(redeemCode(server, client, pendingCode))).statusCode, 503);
      assert.equal(await countRows(schema, 'select count(*) from $schema.access_tokens'), tokensBefore);
      assert.equal(await countRows(schema, 'select count(*) from $schema.authorization_codes where consumed_at is not null'), 1);

      await proxy.restore();
      // The code presented during the outage was not consumed by the failed attempts.
      const late = await redeemCode(server, client, pendingCode);
      assert.equal(late.statusCode, 200, late.body);
      assert.equal((await server.app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200);
      assert.equal((await callUserinfo(server, late.json().access_token)).statusCode, 200);
      const again = await redeemCode(server, client, await issueCode(server, await logIn(server), client, { scope: 'profile' }));
      assert.equal(again.statusCode, 200, again.body);
    });
  }

  test('database connection lost at COMMIT of a code exchange: 503, nothing written, the code still redeems once', async (t) => {
    const { server, proxy, schema } = await buildProxiedServer(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const code = await issueCode(server, jar, client, { scope: 'profile offline_access' });

    // The UPDATE that consumes the code and the INSERTs of the tokens reach the database; the
    // COMMIT never does.
    let sent = '';
    proxy.cutWhen = (chunk) => {
      sent += chunk.toString('latin1');
      return /\bcommit\b/i.test(chunk.toString('latin1'));
    };
    const lost = await timed(redeemCode(server, client, code));
    assert.match(sent, /\bbegin\b[^]*update "authorization_codes"[^]*insert into "access_tokens"[^]*\bcommit\b/i);
    assert.equal(lost.statusCode, 503, lost.body);
    assert.equal(lost.json().error, 'temporarily_unavailable');
    assert.equal(await countRows(schema, 'select count(*) from $schema.authorization_codes where consumed_at is not null'), 0);
    assert.equal(await countRows(schema, 'select count(*) from $schema.access_tokens'), 0);
    assert.equal(await countRows(schema, 'select count(*) from $schema.refresh_tokens'), 0);

    await proxy.restore();
    const redeemed = await redeemCode(server, client, code);
    assert.equal(redeemed.statusCode, 200, redeemed.body);
    assert.equal((await redeemCode(server, client, code)).json().error, 'invalid_grant');
    assert.equal(await countRows(schema, 'select count(*) from $schema.access_tokens'), 1);
  });
});

// ---------------------------------------------------------------------------------------------
// Login rate limits

function assertTooMany(response: LightMyRequestResponse): void {
  assert.equal(response.statusCode, 429, response.body);
  assert.match(response.headers['content-type'] as string, /^text\/html/);
  assert.match(response.body, /Too many sign-in attempts\. Try again in/);
  assert.ok(Number(response.headers['retry-after']) > 0, 'Retry-After says when');
  assert.doesNotMatch(String(response.headers['set-cookie'] ?? ''), /gatehouse_session/);
}

test('login rate limit per account and address: after 3 failures from one address, that address gets 429 for that account even with the right password; others are unaffected', async (t) => {
  const server = await buildTestServer({ loginAttemptsPerAccount: 3, loginAttemptsPerIp: 100 });
  t.after(() => server.close());
  await createTestUser(server, 'alice');
  await createTestUser(server, 'bob');
  for (let attempt = 1; attempt <= 3; attempt++) {
    assert.equal((await loginAttempt(server, 'alice', `guess-${attempt}`, '198.51.100.1')).statusCode, 401);
  }
  assertTooMany(await loginAttempt(server, 'alice', password, '198.51.100.1'));
  // Usernames are counted by their key (case, width, look-alikes), so changing case gains nothing.
  assertTooMany(await loginAttempt(server, 'ALICE', password, '198.51.100.1'));
  // Guesses from one address do not lock the owner out elsewhere (issue 13 item 7).
  assert.equal((await loginAttempt(server, 'alice', password, '198.51.100.9')).statusCode, 303);
  assert.equal((await loginAttempt(server, 'bob', password, '198.51.100.1')).statusCode, 303);
  assert.equal((await loginAttempt(server, 'carol', 'nope', '198.51.100.1')).statusCode, 401);
});

test('login rate limit per address: the 4th attempt from one address is 429 whatever the username; other addresses are unaffected', async (t) => {
  const server = await buildTestServer({ loginAttemptsPerIp: 3, loginAttemptsPerAccount: 100 });
  t.after(() => server.close());
  await createTestUser(server, 'alice');
  for (const username of ['root', 'admin', 'bob']) {
    assert.equal((await loginAttempt(server, username, 'guess', '203.0.113.5')).statusCode, 401);
  }
  assertTooMany(await loginAttempt(server, 'alice', password, '203.0.113.5'));
  // Without trusted proxies a forged X-Forwarded-For changes nothing.
  const page = await server.app.inject({ method: 'GET', url: '/login', remoteAddress: '203.0.113.5' });
  const jar = new CookieJar();
  jar.store(page);
  const body = form({ _csrf: formFields(page.body).get('_csrf')!, return_to: '/', username: 'alice', password });
  assertTooMany(
    await server.app.inject({
      method: 'POST',
      url: '/login',
      ...body,
      remoteAddress: '203.0.113.5',
      headers: { ...body.headers, cookie: jar.header(), 'x-forwarded-for': '192.0.2.77' },
    }),
  );
  assert.equal((await loginAttempt(server, 'alice', password, '203.0.113.6')).statusCode, 303);
});

const redisUrl = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

test('with Redis, two instances count failed sign-ins for one account together', async (t) => {
  const username = `rl-${randomBytes(6).toString('hex')}`;
  const address = `10.${randomBytes(3).join('.')}`;
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  const keysOf = async (name: string) => [...(await redis.keys(`gatehouse-login:*${name}*`)), ...(await redis.keys(`gatehouse-login:ip:${address}`))];
  t.after(async () => {
    const keys = await keysOf(username);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  const one = await buildTestServer({ redisUrl, loginAttemptsPerAccount: 3, loginAttemptsPerIp: 1000 });
  t.after(() => one.close());
  const two = await buildTestServer({ redisUrl, loginAttemptsPerAccount: 3, loginAttemptsPerIp: 1000 });
  t.after(() => two.close());
  await createTestUser(one, username);
  await createTestUser(two, username);

  assert.equal((await loginAttempt(one, username, 'guess-1', address)).statusCode, 401);
  assert.equal((await loginAttempt(two, username, 'guess-2', address)).statusCode, 401);
  assert.equal((await loginAttempt(one, username, 'guess-3', address)).statusCode, 401);
  assert.equal((await redis.keys(`gatehouse-login:account-ip:${username}:${address}`)).length, 1, 'the counter lives in Redis');
  assertTooMany(await loginAttempt(two, username, password, address));
  assertTooMany(await loginAttempt(one, username, password, address));
  // Another account on the same instances is untouched, and its success leaves no count behind.
  await createTestUser(one, `${username}-other`);
  assert.equal((await loginAttempt(one, `${username}-other`, password, address)).statusCode, 303);
  assert.deepEqual(await redis.keys(`gatehouse-login:*${username}-other*`), []);
  // The owner from another address signs in on either instance.
  assert.equal((await loginAttempt(two, username, password, `${address}9`)).statusCode, 303);
});

test('a Redis that does not answer never blocks logins (the limit is skipped, not enforced)', async (t) => {
  const server = await buildTestServer({ redisUrl: `redis://127.0.0.1:${await freePort()}`, loginAttemptsPerAccount: 1, loginAttemptsPerIp: 1 });
  t.after(() => server.close());
  await createTestUser(server);
  const started = performance.now();
  assert.equal((await loginAttempt(server, 'alice', 'wrong')).statusCode, 401);
  assert.equal((await loginAttempt(server, 'alice', 'wrong again')).statusCode, 401);
  assert.equal((await loginAttempt(server, 'alice', password)).statusCode, 303);
  assert.ok(performance.now() - started < 5000, 'answered without waiting for Redis');
});

// ---------------------------------------------------------------------------------------------
// Graceful shutdown

/** Resolves when a connection to `port` is refused, rejects when one is accepted. */
function assertRefused(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      reject(new assert.AssertionError({ message: `a new connection to port ${port} was accepted` }));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? resolve() : reject(error)));
  });
}

/** Collects what a raw socket receives; `until` resolves once the received text matches. */
function receiver(socket: Socket) {
  let received = '';
  const waiters: { pattern: RegExp; resolve: (text: string) => void }[] = [];
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    received += chunk;
    for (const waiter of waiters.splice(0)) {
      if (waiter.pattern.test(received)) waiter.resolve(received);
      else waiters.push(waiter);
    }
  });
  return {
    until: (pattern: RegExp) => new Promise<string>((resolve) => (pattern.test(received) ? resolve(received) : waiters.push({ pattern, resolve }))),
  };
}

test('graceful shutdown: an in-flight request completes, new connections are refused, then stop() resolves', async (t) => {
  const listening = await startListeningServer();
  t.after(() => listening.close());
  const { ctx, close } = await listening.openContext();
  const { client, clientSecret } = await registerClient(
    { name: 'Batch job', redirectUris: [], grantTypes: ['client_credentials'], scopes: ['calendar.read'] },
    ctx,
  );
  await close();
  const port = Number(new URL(listening.url).port);
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'calendar.read' }).toString();

  // The request's headers arrive and the server starts on it; its body is still on the way.
  const socket = connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  const incoming = receiver(socket);
  socket.write(
    'POST /token HTTP/1.1\r\n' +
      `Host: 127.0.0.1:${port}\r\n` +
      `Authorization: Basic ${Buffer.from(`${client.id}:${clientSecret}`).toString('base64')}\r\n` +
      'Content-Type: application/x-www-form-urlencoded\r\n' +
      `Content-Length: ${body.length}\r\n` +
      'Expect: 100-continue\r\n\r\n',
  );
  await incoming.until(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
  socket.write(body.slice(0, 10));

  let stopped = false;
  const stopping = listening.server.stop().then(() => (stopped = true));
  const app = listening.server.app;
  while (app.server.listening) await new Promise((resolve) => setImmediate(resolve));
  await assertRefused(port);
  assert.equal(stopped, false, 'stop() waits for the request in flight');

  socket.write(body.slice(10));
  const response = await incoming.until(/\r\n\r\n\{.*\}$/s);
  const [head, json] = response.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '').split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head!, /\r\ncache-control: no-store\r\n/i);
  // The stopping server ends the connection instead of keeping it alive for another request.
  assert.match(head!, /\r\nconnection: close\r\n/i);
  const tokens = JSON.parse(json!);
  assert.equal(tokens.token_type, 'Bearer');
  assert.equal(tokens.scope, 'calendar.read');
  assert.match(tokens.access_token, /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/);

  const started = performance.now();
  await stopping;
  assert.ok(performance.now() - started < 5000, 'stop() does not wait out the keep-alive timeout');
  await assertRefused(port);
});
