import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { InjectOptions } from 'fastify';
import type { BuildServerInput } from '../../src/server/app.ts';
import type { GatehouseConfig } from '../../src/server/config/defaults.ts';
import { withTimeout } from '../support/gatehouse-cli.ts';
import { buildTestServer, createTestClient, type TestClient, type TestServer } from '../support/test-server.ts';
import { sample } from '../support/prometheus.ts';

/**
 * POST /token and POST /introspect are served straight from `node:http`, in front of Fastify
 * (src/server/http/machine-endpoints.ts, wired in by `serveFirst` in src/server/app.ts). What the
 * endpoints answer is covered through `inject()` by the other HTTP tests; these tests cover what
 * belongs to the lane itself, on a real socket: reading the body (limit, chunked transfer,
 * clients that go away), content types, headers, logs, metrics, routing back to Fastify,
 * graceful close, and that `inject()` and the socket give the same answers.
 */

/** A small body limit, so that bodies over it are cheap to send. */
const limit = 1024;
const formType = 'application/x-www-form-urlencoded';
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const opaqueToken = /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/;
const tooLarge = 'the request body is too large';
const notAForm = 'the request body must be application/x-www-form-urlencoded';
const clientCredentials = 'grant_type=client_credentials';

// ---------------------------------------------------------------------------------------------
// A listening server and a raw HTTP/1.1 client

interface Listening {
  server: TestServer;
  port: number;
  /** A confidential client registered for client_credentials only (scope calendar.read). */
  machine: TestClient;
  /** Closes the server once, however often it is called (the test may close it itself). */
  close(): Promise<void>;
}

/** A test server (frozen clock, its own SQLite file) listening on a free port of 127.0.0.1. */
async function listen(
  t: TestContext,
  overrides: Partial<GatehouseConfig> = {},
  logger: BuildServerInput['logger'] = false,
): Promise<Listening> {
  const server = await buildTestServer({ bodyLimitBytes: limit, ...overrides }, logger);
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= server.close());
  // Connections left open by a failed test would hold close() until their keep-alive ends.
  t.after(() => {
    for (const connection of RawConnection.live) connection.destroy();
    return close();
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = server.app.server.address() as AddressInfo;
  const machine = await createTestClient(server, { name: 'Sync job', grantTypes: ['client_credentials'], redirectUris: [] });
  return { server, port, machine, close };
}

interface RawResponse {
  status: number;
  /** Lowercased names; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

function json(response: RawResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

/**
 * One TCP connection speaking HTTP/1.1 by hand, so that a test controls every byte and every
 * pause: chunk boundaries, half-sent bodies, `Expect: 100-continue`, several requests on one
 * keep-alive connection. Responses are read one at a time, 1xx included.
 */
class RawConnection {
  /** Every connection not yet closed, so that a test's clean-up can end them. */
  static readonly live = new Set<RawConnection>();
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #ended = false;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    RawConnection.live.add(this);
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('close', () => {
      RawConnection.live.delete(this);
      this.#ended = true;
      this.#wake();
    });
    // A server that closes the connection while the test still writes resets it: not an error here.
    socket.on('error', () => {
      this.#ended = true;
      this.#wake();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  /** Bytes received and not yet read as a response. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** The next response on the connection (a 100 Continue too), once it has fully arrived. */
  response(timeoutMs = 10_000): Promise<RawResponse> {
    return withTimeout(this.#response(), timeoutMs, `a response (got ${JSON.stringify(this.#buffer.toString('latin1'))})`);
  }

  async #response(): Promise<RawResponse> {
    for (;;) {
      const headEnd = this.#buffer.indexOf('\r\n\r\n');
      if (headEnd !== -1) {
        const [statusLine, ...lines] = this.#buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
        const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine!)?.[1]);
        assert.ok(status >= 100, `not an HTTP/1.1 status line: ${statusLine}`);
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const colon = line.indexOf(':');
          const name = line.slice(0, colon).toLowerCase();
          const value = line.slice(colon + 1).trim();
          headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
        }
        const length = status < 200 ? 0 : Number(headers['content-length']);
        assert.ok(Number.isInteger(length), `a response without Content-Length: ${statusLine}`);
        const end = headEnd + 4 + length;
        if (this.#buffer.length >= end) {
          const body = this.#buffer.subarray(headEnd + 4, end).toString('utf8');
          this.#buffer = this.#buffer.subarray(end);
          return { status, headers, body };
        }
      }
      if (this.#ended) throw new Error(`the connection ended before a whole response: ${JSON.stringify(this.#buffer.toString('latin1'))}`);
      await this.#changed();
    }
  }

  /** Resolves once the server has ended the connection. */
  closedByServer(timeoutMs = 5000): Promise<void> {
    const ended = (async () => {
      while (!this.#ended) await this.#changed();
    })();
    return withTimeout(ended, timeoutMs, 'the server to end the connection');
  }

  get ended(): boolean {
    return this.#ended;
  }

  destroy(): void {
    this.socket.destroy();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

interface RawRequest {
  method?: string;
  path: string;
  /** Sent as given, in order; Host is added (and Content-Length, for a body). */
  headers?: Record<string, string>;
  /** Sent with its Content-Length; undefined sends neither. */
  body?: string | Buffer;
}

function requestHead(port: number, { method = 'POST', path, headers = {}, body }: RawRequest): string {
  const lines = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** One request on a connection of its own. */
async function send(port: number, request: RawRequest): Promise<RawResponse> {
  const connection = await RawConnection.open(port);
  try {
    await connection.write(Buffer.concat([Buffer.from(requestHead(port, request), 'latin1'), Buffer.from(request.body ?? '')]));
    return await connection.response();
  } finally {
    connection.destroy();
  }
}

function tokenRequest(client: TestClient, body = clientCredentials, path = '/token'): RawRequest {
  return { path, headers: { 'Content-Type': formType, Authorization: client.basic }, body };
}

function introspectionRequest(client: TestClient, token: string): RawRequest {
  return { path: '/introspect', headers: { 'Content-Type': formType, Authorization: client.basic }, body: `token=${encodeURIComponent(token)}` };
}

/** Basic credentials of `client` with the wrong secret. */
function wrongSecret(client: TestClient): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:not-the-secret`).toString('base64')}`;
}

/** A client_credentials form of exactly `size` bytes (an unknown parameter pads it, RFC 6749 §3.2). */
function paddedForm(size: number): string {
  const prefix = `${clientCredentials}&padding=`;
  assert.ok(size >= prefix.length);
  return prefix + 'p'.repeat(size - prefix.length);
}

/** HTTP/1.1 chunked framing of one chunk (RFC 9112 §7.1). */
function chunk(data: string | Buffer): Buffer {
  const bytes = Buffer.from(data);
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}
const lastChunk = '0\r\n\r\n';

function assertTokenResponse(response: RawResponse, label = ''): string {
  assert.equal(response.status, 200, `${label}: ${response.body}`);
  const body = json(response);
  assert.equal(body.token_type, 'Bearer', label);
  assert.equal(body.scope, 'calendar.read', label);
  assert.match(String(body.access_token), opaqueToken, label);
  return body.access_token as string;
}

function assertOAuthError(response: RawResponse, status: number, error: string, description: string | RegExp, label = ''): void {
  assert.equal(response.status, status, `${label}: ${response.body}`);
  assert.equal(response.headers['content-type'], 'application/json; charset=utf-8', label);
  assert.equal(response.headers['cache-control'], 'no-store', label);
  assert.deepEqual(Object.keys(json(response)).sort(), ['error', 'error_description'], label);
  assert.equal(json(response).error, error, label);
  if (typeof description === 'string') assert.equal(json(response).error_description, description, label);
  else assert.match(String(json(response).error_description), description, label);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// The body limit

test('a Content-Length over the body limit is refused before the body is read: 400 invalid_request, connection closed; the server keeps serving', async (t) => {
  const { port, machine } = await listen(t);

  // Exactly at the limit is accepted.
  assertTokenResponse(await send(port, tokenRequest(machine, paddedForm(limit))), 'a body of exactly the limit');
  // One byte over, the whole body sent: refused.
  assertOAuthError(await send(port, tokenRequest(machine, paddedForm(limit + 1))), 400, 'invalid_request', tooLarge, 'limit + 1');

  // Only the first bytes of a body announced over the limit are sent: the answer comes anyway,
  // without waiting for the rest, and ends the connection, whose unread body cannot carry another request.
  for (const [path, declared] of [
    ['/token', limit + 1],
    ['/token', 10 * 1024 * 1024 * 1024],
    ['/introspect', limit * 8],
  ] as const) {
    const connection = await RawConnection.open(port);
    const head = requestHead(port, { path, headers: { 'Content-Type': formType, Authorization: machine.basic, 'Content-Length': String(declared) } });
    await connection.write(`${head}${clientCredentials}&padding=ppp`);
    const refused = await connection.response();
    assertOAuthError(refused, 400, 'invalid_request', tooLarge, `${path} announcing ${declared} bytes`);
    assert.equal(refused.headers.connection, 'close', `${path} announcing ${declared} bytes`);
    assert.match(refused.headers['x-request-id']!, uuid);
    assert.equal(refused.headers['x-content-type-options'], 'nosniff');
    await connection.closedByServer();
  }

  // The server still serves, /token and /introspect alike.
  const token = assertTokenResponse(await send(port, tokenRequest(machine)), 'after the refusals');
  const introspected = await send(port, introspectionRequest(machine, token));
  assert.equal(introspected.status, 200, introspected.body);
  assert.equal(json(introspected).active, true);
});

test('a chunked body is refused as soon as it grows past the limit, before it ends; the connection is closed and the server keeps serving', async (t) => {
  const { port, machine } = await listen(t);
  const headers = { 'Content-Type': formType, Authorization: machine.basic, 'Transfer-Encoding': 'chunked' };

  // A chunked body of exactly the limit is accepted.
  const exact = paddedForm(limit);
  const atLimit = await RawConnection.open(port);
  await atLimit.write(requestHead(port, { path: '/token', headers }));
  for (let offset = 0; offset < exact.length; offset += 256) await atLimit.write(chunk(exact.slice(offset, offset + 256)));
  await atLimit.write(lastChunk);
  assertTokenResponse(await atLimit.response(), 'a chunked body of exactly the limit');

  for (const path of ['/token', '/introspect']) {
    const connection = await RawConnection.open(port);
    await connection.write(requestHead(port, { path, headers }));
    // Four chunks of 256 bytes: the limit exactly, nothing refused yet.
    const body = paddedForm(limit);
    for (let offset = 0; offset < body.length; offset += 256) {
      await connection.write(chunk(body.slice(offset, offset + 256)));
      await pause(20);
    }
    await pause(100);
    assert.equal(connection.pending, 0, `${path}: answered before the body went over the limit`);
    assert.equal(connection.ended, false);
    // One more byte, and no last chunk: the answer comes while the body is still open.
    await connection.write(chunk('p'));
    const refused = await connection.response();
    assertOAuthError(refused, 400, 'invalid_request', tooLarge, `${path}, chunked`);
    assert.equal(refused.headers.connection, 'close', path);
    assert.equal(refused.headers['transfer-encoding'], undefined, path);
    assert.match(refused.headers['x-request-id']!, uuid);
    assert.equal(refused.headers['x-content-type-options'], 'nosniff');
    await connection.closedByServer();
  }

  assertTokenResponse(await send(port, tokenRequest(machine)), 'after the chunked refusals');
});

test('a chunked form under the limit, split mid-name and mid-character, gets a token; the connection stays usable for the lane and for Fastify', async (t) => {
  const { port, machine } = await listen(t);
  const connection = await RawConnection.open(port);
  const headers = { 'Content-Type': formType, Authorization: machine.basic, 'Transfer-Encoding': 'chunked' };
  // "é" is sent raw (0xc3 0xa9) with its two bytes in different chunks: decoding chunk by chunk
  // would see two invalid halves.
  const pieces = [
    Buffer.from('grant_ty'),
    Buffer.from('pe=client_cred'),
    Buffer.concat([Buffer.from('entials&note=caf'), Buffer.from([0xc3])]),
    Buffer.concat([Buffer.from([0xa9]), Buffer.from('&scope=calendar.')]),
    Buffer.from('read'),
  ];
  await connection.write(requestHead(port, { path: '/token', headers }));
  for (const piece of pieces) {
    await connection.write(chunk(piece));
    await pause(10);
  }
  await connection.write(lastChunk);
  const first = await connection.response();
  const token = assertTokenResponse(first, 'chunked');
  assert.equal(first.headers['cache-control'], 'no-store');
  assert.notEqual(first.headers.connection, 'close');

  // The body is decoded as a whole, strictly: 0xc3 then "(" in the next chunk is not UTF-8, even
  // though each chunk alone would decode (with a replacement character) without complaint.
  await connection.write(requestHead(port, { path: '/token', headers }));
  await connection.write(chunk(Buffer.concat([Buffer.from(`${clientCredentials}&note=caf`), Buffer.from([0xc3])])));
  await connection.write(chunk('(&scope=calendar.read'));
  await connection.write(lastChunk);
  const invalid = await connection.response();
  assertOAuthError(invalid, 400, 'invalid_request', /not valid UTF-8/, 'split invalid UTF-8');
  // A body read to its end leaves the connection usable.
  assert.notEqual(invalid.headers.connection, 'close');

  // Same connection: a route of Fastify, then the lane again, then Fastify again.
  await connection.write(requestHead(port, { method: 'GET', path: '/health/live' }));
  const live = await connection.response();
  assert.equal(live.status, 200, live.body);
  assert.deepEqual(json(live), { status: 'ok' });
  await connection.write(requestHead(port, introspectionRequest(machine, token)) + `token=${token}`);
  const introspected = await connection.response();
  assert.equal(introspected.status, 200, introspected.body);
  assert.equal(json(introspected).active, true);
  await connection.write(requestHead(port, { method: 'GET', path: '/token' }));
  assert.equal((await connection.response()).status, 404);
});

test('pipelined requests, the lane\'s and Fastify\'s mixed, are answered in order on one connection', async (t) => {
  const { port, machine } = await listen(t);
  const connection = await RawConnection.open(port);
  // One write: the lane answers asynchronously, node:http must still put the answers in order.
  await connection.write(
    requestHead(port, tokenRequest(machine)) + clientCredentials +
      requestHead(port, tokenRequest(machine, 'scope=calendar.read')) + 'scope=calendar.read' +
      requestHead(port, { method: 'GET', path: '/health/live' }) +
      requestHead(port, introspectionRequest(machine, 'garbage')) + 'token=garbage' +
      requestHead(port, tokenRequest(machine, 'grant_type=password')) + 'grant_type=password',
  );
  assertTokenResponse(await connection.response(), 'first');
  assertOAuthError(await connection.response(), 400, 'invalid_request', /^'grant_type' is required/, 'second');
  assert.deepEqual(json(await connection.response()), { status: 'ok' });
  assert.deepEqual(json(await connection.response()), { active: false });
  assertOAuthError(await connection.response(), 400, 'unsupported_grant_type', /password/, 'fifth');
  assert.equal(connection.ended, false);
});

// ---------------------------------------------------------------------------------------------
// Clients that go away

test('clients that send headers and part of a body and then go away neither crash nor wedge the server', async (t) => {
  const lines: string[] = [];
  const { server, port, machine, close } = await listen(t, {}, { level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  const headers = { 'Content-Type': formType, Authorization: machine.basic, Expect: '100-continue' };

  // Half a body announced by Content-Length; the server has the request (it asked for the body).
  const halfSent = await RawConnection.open(port);
  await halfSent.write(requestHead(port, { path: '/token', headers: { ...headers, 'Content-Length': '200' } }));
  assert.equal((await halfSent.response()).status, 100);
  await halfSent.write(clientCredentials);
  await pause(50);
  halfSent.destroy();

  // Half a chunk of a chunked body, at /introspect.
  const halfChunked = await RawConnection.open(port);
  await halfChunked.write(requestHead(port, { path: '/introspect', headers: { ...headers, 'Transfer-Encoding': 'chunked' } }));
  assert.equal((await halfChunked.response()).status, 100);
  await halfChunked.write('40\r\ntoken=abc');
  await pause(50);
  halfChunked.destroy();

  // Headers only, then gone at once.
  const headersOnly = await RawConnection.open(port);
  await headersOnly.write(requestHead(port, { path: '/token', headers: { 'Content-Type': formType, Authorization: machine.basic, 'Content-Length': '50' } }));
  headersOnly.destroy();
  await pause(50);

  // The next requests are answered normally.
  const token = assertTokenResponse(await send(port, tokenRequest(machine)), 'after the clients went away');
  const introspected = await send(port, introspectionRequest(machine, token));
  assert.equal(introspected.status, 200, introspected.body);
  assert.equal(json(introspected).active, true);

  // Nothing was logged as an error, and only the answered requests as completed.
  const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string; statusCode?: number });
  assert.deepEqual(entries.filter((entry) => entry.level >= 40), []);
  assert.deepEqual(entries.filter((entry) => entry.msg === 'request completed').map((entry) => entry.statusCode), [200, 200]);
  // No request is left hanging on to the server: it closes at once.
  await withTimeout(close(), 5000, 'the server to close');
  assert.equal(server.app.server.listening, false);
});

// ---------------------------------------------------------------------------------------------
// Content types

test('content types: the form type with parameters or in capitals is accepted, JSON is refused, no type and no body is an empty form', async (t) => {
  const { port, machine } = await listen(t);
  for (const type of [
    'application/x-www-form-urlencoded; charset=UTF-8',
    'APPLICATION/X-WWW-FORM-URLENCODED',
    'Application/X-Www-Form-Urlencoded ; charset="utf-8"',
  ]) {
    const token = assertTokenResponse(await send(port, { path: '/token', headers: { 'Content-Type': type, Authorization: machine.basic }, body: clientCredentials }), type);
    const introspected = await send(port, { path: '/introspect', headers: { 'Content-Type': type, Authorization: machine.basic }, body: `token=${token}` });
    assert.equal(introspected.status, 200, `${type}: ${introspected.body}`);
    assert.equal(json(introspected).active, true, type);
  }

  for (const path of ['/token', '/introspect']) {
    const asJson = await send(port, { path, headers: { 'Content-Type': 'application/json', Authorization: machine.basic }, body: JSON.stringify({ grant_type: 'client_credentials' }) });
    assertOAuthError(asJson, 400, 'invalid_request', notAForm, `${path} as JSON`);
    const lookAlike = await send(port, { path, headers: { 'Content-Type': 'application/x-www-form-urlencoded-evil', Authorization: machine.basic }, body: clientCredentials });
    assertOAuthError(lookAlike, 400, 'invalid_request', notAForm, `${path} with a look-alike type`);
    // A body without a type is not guessed at.
    const untyped = await send(port, { path, headers: { Authorization: machine.basic }, body: clientCredentials });
    assertOAuthError(untyped, 400, 'invalid_request', notAForm, `${path}, a body without a type`);
  }

  // No type and no body: an empty form, so the endpoint's own error; with Content-Length: 0 or without it.
  for (const body of ['', undefined]) {
    const label = body === undefined ? 'no Content-Length' : 'Content-Length: 0';
    assertOAuthError(await send(port, { path: '/token', headers: { Authorization: machine.basic }, body }), 400, 'invalid_request', /^'grant_type' is required/, `/token, ${label}`);
    assertOAuthError(await send(port, { path: '/introspect', headers: { Authorization: machine.basic }, body }), 400, 'invalid_request', /^'token' is required/, `/introspect, ${label}`);
    assertOAuthError(await send(port, { path: '/introspect', body }), 401, 'invalid_client', /client authentication is required/, `/introspect without credentials, ${label}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Headers

test('headers: a fresh request id and nosniff on every answer; no-store (and Pragma on tokens); 401 with a Basic challenge for a failed Basic login', async (t) => {
  const { port, machine } = await listen(t);
  const ids = new Set<string>();
  const checked = (response: RawResponse, label: string): RawResponse => {
    const id = response.headers['x-request-id'];
    assert.match(id ?? '', uuid, `${label}: x-request-id`);
    assert.ok(!ids.has(id!), `${label}: the request id ${id} was already used`);
    ids.add(id!);
    assert.equal(response.headers['x-content-type-options'], 'nosniff', label);
    assert.equal(response.headers['content-type'], 'application/json; charset=utf-8', label);
    assert.equal(response.headers['cache-control'], 'no-store', label);
    return response;
  };

  // Twice the same request: two ids.
  for (const attempt of [1, 2]) {
    const tokens = checked(await send(port, tokenRequest(machine)), `token ${attempt}`);
    assertTokenResponse(tokens);
    assert.equal(tokens.headers.pragma, 'no-cache', 'RFC 6749 §5.1');
  }
  const token = assertTokenResponse(checked(await send(port, tokenRequest(machine, `${clientCredentials}&scope=calendar.read`)), 'token with scope'));
  const active = checked(await send(port, introspectionRequest(machine, token)), 'introspection');
  assert.equal(active.status, 200, active.body);
  assert.equal(json(active).active, true);
  const inactive = checked(await send(port, introspectionRequest(machine, 'garbage')), 'introspection of garbage');
  assert.equal(inactive.status, 200, inactive.body);
  assert.deepEqual(json(inactive), { active: false });

  const errors: [string, RawRequest, number, string][] = [
    ['missing grant_type', tokenRequest(machine, 'scope=calendar.read'), 400, 'invalid_request'],
    ['unsupported grant_type', tokenRequest(machine, 'grant_type=password'), 400, 'unsupported_grant_type'],
    ['body too large', tokenRequest(machine, paddedForm(limit + 1)), 400, 'invalid_request'],
    ['JSON', { path: '/token', headers: { 'Content-Type': 'application/json', Authorization: machine.basic }, body: '{}' }, 400, 'invalid_request'],
    ['introspection without a token', { path: '/introspect', headers: { 'Content-Type': formType, Authorization: machine.basic }, body: '' }, 400, 'invalid_request'],
  ];
  for (const [label, request, status, error] of errors) {
    const response = checked(await send(port, request), label);
    assertOAuthError(response, status, error, /./, label);
    assert.equal(response.headers['www-authenticate'], undefined, label);
  }

  // invalid_client: 401, and a Basic challenge when the client tried Basic (RFC 6749 §5.2).
  for (const [path, body] of [['/token', clientCredentials], ['/introspect', 'token=garbage']] as const) {
    const basic = checked(await send(port, { path, headers: { 'Content-Type': formType, Authorization: wrongSecret(machine) }, body }), `${path}, wrong Basic secret`);
    assertOAuthError(basic, 401, 'invalid_client', /./, `${path}, wrong Basic secret`);
    assert.match(basic.headers['www-authenticate'] ?? '', /^Basic realm="gatehouse"/, path);
    const malformed = checked(await send(port, { path, headers: { 'Content-Type': formType, Authorization: 'Basic !!!' }, body }), `${path}, malformed Basic`);
    assertOAuthError(malformed, 401, 'invalid_client', /Authorization header must be/, `${path}, malformed Basic`);
    assert.match(malformed.headers['www-authenticate'] ?? '', /^Basic /, path);
    // Credentials in the body: still 401, but no Basic challenge.
    const posted = checked(
      await send(port, { path, headers: { 'Content-Type': formType }, body: `${body}&client_id=${encodeURIComponent(machine.clientId)}&client_secret=wrong` }),
      `${path}, wrong client_secret`,
    );
    assertOAuthError(posted, 401, 'invalid_client', /./, `${path}, wrong client_secret`);
    assert.equal(posted.headers['www-authenticate'], undefined, path);
  }
});

// ---------------------------------------------------------------------------------------------
// Logs

test('logs: one "request completed" line per request, with the response\'s request id, the path without its query, and the status', async (t) => {
  const lines: string[] = [];
  const { port, machine } = await listen(t, {}, { level: 'trace', destination: { write: (line: string) => void lines.push(line) } });
  const secretQuery = '?secret=xyz';
  const sent: [string, RawRequest, number][] = [
    ['/token', tokenRequest(machine, clientCredentials, `/token${secretQuery}`), 200],
    ['/token', tokenRequest(machine, 'scope=calendar.read', `/token${secretQuery}`), 400],
    ['/token', { path: `/token${secretQuery}`, headers: { 'Content-Type': formType, Authorization: wrongSecret(machine) }, body: clientCredentials }, 401],
    ['/token', tokenRequest(machine, paddedForm(limit + 1), `/token${secretQuery}`), 400],
    ['/introspect', { path: `/introspect${secretQuery}`, headers: { 'Content-Type': formType, Authorization: machine.basic }, body: 'token=garbage' }, 200],
  ];
  const seen: { id: string; path: string; status: number }[] = [];
  let accessToken = '';
  for (const [path, request, status] of sent) {
    const response = await send(port, request);
    assert.equal(response.status, status, `${request.path}: ${response.body}`);
    if (status === 200 && path === '/token') accessToken = json(response).access_token as string;
    seen.push({ id: response.headers['x-request-id']!, path, status });
  }

  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const completed = entries.filter((entry) => entry.msg === 'request completed');
  assert.equal(completed.length, sent.length, JSON.stringify(completed));
  for (const { id, path, status } of seen) {
    const mine = completed.filter((entry) => entry.request_id === id);
    assert.equal(mine.length, 1, `one line for ${path} → ${status} (${id})`);
    const [line] = mine;
    assert.equal(line!.level, 30, 'info');
    assert.equal(line!.method, 'POST');
    assert.equal(line!.url, path);
    assert.equal(line!.statusCode, status);
    assert.equal(typeof line!.responseTime, 'number');
    // Every other line about this request carries its id too (the debug "incoming request").
    const incoming = entries.filter((entry) => entry.msg === 'incoming request' && entry.request_id === id);
    assert.equal(incoming.length, 1, `an incoming request line for ${id}`);
    assert.deepEqual((incoming[0]!.req as { method: string; url: string }).url, path);
  }
  const log = lines.join('');
  assert.ok(!log.includes('xyz'), 'the query string appears in the log');
  assert.ok(!log.includes('secret='), 'the query string appears in the log');
  assert.ok(!log.includes(accessToken), 'the access token appears in the log');
  assert.ok(!log.includes(machine.clientSecret!), 'the client secret appears in the log');
  assert.ok(!log.includes(machine.basic.slice('Basic '.length)), 'the Basic credentials appear in the log');
});

// ---------------------------------------------------------------------------------------------
// Metrics

test('metrics: requests by route and status, tokens by grant type and OAuth errors by code, for requests served by the lane', async (t) => {
  const { port, machine } = await listen(t, { metricsEnabled: true });
  const token = assertTokenResponse(await send(port, tokenRequest(machine)));
  assert.equal((await send(port, tokenRequest(machine, 'scope=calendar.read'))).status, 400);
  assert.equal((await send(port, { path: '/token', headers: { 'Content-Type': formType, Authorization: wrongSecret(machine) }, body: clientCredentials })).status, 401);
  assert.equal((await send(port, tokenRequest(machine, paddedForm(limit + 1)))).status, 400);
  assert.equal((await send(port, introspectionRequest(machine, token))).status, 200);

  const metrics = await send(port, { method: 'GET', path: '/metrics' });
  assert.equal(metrics.status, 200, metrics.body);
  const text = metrics.body;
  assert.equal(sample(text, 'gatehouse_http_requests_total', { method: 'POST', route: '/token', status: '200' }), 1);
  assert.equal(sample(text, 'gatehouse_http_requests_total', { method: 'POST', route: '/token', status: '400' }), 2);
  assert.equal(sample(text, 'gatehouse_http_requests_total', { method: 'POST', route: '/token', status: '401' }), 1);
  assert.equal(sample(text, 'gatehouse_http_requests_total', { method: 'POST', route: '/introspect', status: '200' }), 1);
  assert.equal(sample(text, 'gatehouse_http_request_duration_seconds_count', { method: 'POST', route: '/token' }), 4);
  assert.equal(sample(text, 'gatehouse_http_request_duration_seconds_count', { method: 'POST', route: '/introspect' }), 1);
  assert.equal(sample(text, 'gatehouse_tokens_issued_total', { grant_type: 'client_credentials' }), 1);
  assert.equal(sample(text, 'gatehouse_oauth_errors_total', { error: 'invalid_request' }), 2);
  assert.equal(sample(text, 'gatehouse_oauth_errors_total', { error: 'invalid_client' }), 1);
  // The query string never becomes a label.
  assert.doesNotMatch(text, /route="\/token\?/);
});

// ---------------------------------------------------------------------------------------------
// inject() and the socket

test('inject() and the socket give the same statuses, bodies and headers for the same requests', async (t) => {
  const { server, port, machine } = await listen(t);
  type Case = { label: string; request: (token: string) => RawRequest };
  const cases: Case[] = [
    { label: 'client_credentials', request: () => tokenRequest(machine) },
    { label: 'missing grant_type', request: () => tokenRequest(machine, 'scope=calendar.read') },
    { label: 'wrong secret', request: () => ({ path: '/token', headers: { 'Content-Type': formType, Authorization: wrongSecret(machine) }, body: clientCredentials }) },
    { label: 'unsupported grant type', request: () => tokenRequest(machine, 'grant_type=password') },
    { label: 'introspection of the token', request: (token) => introspectionRequest(machine, token) },
    { label: 'introspection of garbage', request: () => introspectionRequest(machine, 'garbage') },
    { label: 'JSON', request: () => ({ path: '/token', headers: { 'Content-Type': 'application/json', Authorization: machine.basic }, body: '{}' }) },
    { label: 'body too large', request: () => tokenRequest(machine, paddedForm(limit + 1)) },
    { label: 'no type, no body', request: () => ({ path: '/token', headers: { Authorization: machine.basic }, body: '' }) },
    { label: 'query string', request: () => tokenRequest(machine, clientCredentials, '/token?x=1') },
  ];

  interface Seen {
    status: number;
    body: unknown;
    headers: Record<string, string>;
  }
  /** What may differ between two runs: the token's value and the request id; the date; the socket's Keep-Alive. */
  const normalize = (status: number, headers: Record<string, string | string[] | number | undefined>, body: string): Seen => {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    if (typeof parsed.access_token === 'string') {
      assert.match(parsed.access_token, opaqueToken);
      parsed.access_token = '(token)';
    }
    const kept: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name === 'keep-alive') continue;
      kept[name] = name === 'x-request-id' || name === 'date' ? '(varies)' : String(value);
    }
    assert.match(String(headers['x-request-id']), uuid);
    return { status, body: parsed, headers: kept };
  };

  const viaInject: Seen[] = [];
  let token = '';
  for (const { request } of cases) {
    const { path, method = 'POST', headers = {}, body } = request(token);
    const options: InjectOptions = { method: method as 'POST', url: path, headers, ...(body === undefined ? {} : { payload: body }) };
    const response = await server.app.inject(options);
    if (path === '/token' && response.statusCode === 200 && token === '') token = response.json().access_token;
    viaInject.push(normalize(response.statusCode, response.headers, response.body));
  }
  const viaSocket: Seen[] = [];
  token = '';
  for (const { request } of cases) {
    const response = await send(port, request(token));
    if (request(token).path === '/token' && response.status === 200 && token === '') token = json(response).access_token as string;
    viaSocket.push(normalize(response.status, response.headers, response.body));
  }

  for (const [index, { label }] of cases.entries()) {
    const injected = viaInject[index]!;
    const socketed = viaSocket[index]!;
    assert.equal(socketed.status, injected.status, `${label}: status`);
    // The clock of the test server is frozen, so the introspection's exp and iat agree as well.
    assert.deepEqual(socketed.body, injected.body, `${label}: body`);
    assert.deepEqual(Object.keys(socketed.headers).sort(), Object.keys(injected.headers).sort(), `${label}: header names`);
    assert.deepEqual(socketed.headers, injected.headers, `${label}: header values`);
  }
  // The comparison compared something: the expected answers, in both.
  assert.deepEqual(
    viaSocket.map((seen) => seen.status),
    [200, 400, 401, 400, 200, 200, 400, 400, 400, 200],
  );
  assert.equal((viaSocket[4]!.body as { active: boolean }).active, true);
});

// ---------------------------------------------------------------------------------------------
// What the lane leaves to Fastify

test('other methods and look-alike paths go to Fastify: the 404 JSON of the not-found handler', async (t) => {
  const { port, machine } = await listen(t);
  const cases: [string, string][] = [
    ['GET', '/token'],
    ['GET', '/token?grant_type=client_credentials'],
    ['PUT', '/token'],
    ['GET', '/introspect'],
    ['POST', '/token/'],
    ['POST', '/introspect/'],
    ['POST', '/TOKEN'],
    ['POST', '/token/x'],
    ['POST', '//token'],
  ];
  for (const [method, path] of cases) {
    const response = await send(port, { method, path, headers: { 'Content-Type': formType, Authorization: machine.basic }, body: clientCredentials });
    const label = `${method} ${path}`;
    assertOAuthError(response, 404, 'invalid_request', `there is nothing at ${method} ${path.split('?')[0]}`, label);
    assert.match(response.headers['x-request-id'] ?? '', uuid, label);
    assert.equal(response.headers['x-content-type-options'], 'nosniff', label);
  }
  // And the lane still serves the real paths.
  assertTokenResponse(await send(port, tokenRequest(machine)));
});

// ---------------------------------------------------------------------------------------------
// Graceful close

test('graceful close: a request in flight on a keep-alive connection is answered with Connection: close, and close() does not wait for keep-alive', async (t) => {
  const { server, port, machine, close } = await listen(t);
  const connection = await RawConnection.open(port);

  // A first request makes the connection a kept-alive one.
  await connection.write(requestHead(port, tokenRequest(machine)) + clientCredentials);
  const first = await connection.response();
  assertTokenResponse(first, 'before close');
  assert.equal(first.headers.connection, 'keep-alive');

  // The second request's headers reach the lane (the server asks for its body); the body waits.
  const headers = { 'Content-Type': formType, Authorization: machine.basic, Expect: '100-continue', 'Content-Length': String(clientCredentials.length) };
  await connection.write(requestHead(port, { path: '/token', headers }));
  assert.equal((await connection.response()).status, 100);

  const closing = close();
  // The server stops listening once its preClose hooks have run: from then on it is closing.
  while (server.app.server.listening) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(connection.ended, false, 'a connection with a request in flight is not dropped');

  await connection.write(clientCredentials);
  const last = await connection.response();
  assertTokenResponse(last, 'during close');
  assert.equal(last.headers.connection, 'close');
  assert.equal(last.headers['keep-alive'], undefined);
  await connection.closedByServer();
  const started = performance.now();
  await withTimeout(closing, 5000, 'close() to finish');
  assert.ok(performance.now() - started < 5000);
  // New connections are refused.
  await assert.rejects(RawConnection.open(port), (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED');
});

test('graceful close: a request whose headers complete after close began is not served by the lane; Fastify answers 503 and ends the connection', async (t) => {
  const { server, port, machine, close } = await listen(t);
  // Part of a request line: node:http counts the connection as busy, so close() does not drop it.
  const connection = await RawConnection.open(port);
  const request = requestHead(port, tokenRequest(machine)) + clientCredentials;
  await connection.write(request.slice(0, 20));
  await pause(50);

  const closing = close();
  while (server.app.server.listening) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(connection.ended, false, 'a connection with a request under way is not dropped');
  await connection.write(request.slice(20));
  const refused = await connection.response();
  // Observed: Fastify's return503OnClosing answer, in Fastify's own shape (no request id, not
  // the RFC 6749 §5.2 JSON); the same as any other route gets while the server closes.
  assert.equal(refused.status, 503, refused.body);
  assert.equal(refused.headers.connection, 'close');
  assert.equal(json(refused).access_token, undefined, 'no token is issued by a closing server');
  await connection.closedByServer();
  await withTimeout(closing, 5000, 'close() to finish');
});
