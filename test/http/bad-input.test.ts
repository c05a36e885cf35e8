import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import {
  authorizeUrl,
  buildTestServer,
  createTestClient,
  createTestUser,
  issueCode,
  logIn,
  redeemCode,
  redirectUri,
  refresh,
  rfc7636Verifier,
  type TestClient,
  type TestServer,
} from '../support/test-server.ts';

/**
 * RFC 6749 §3.1, §3.2 and §5.2 against bad input: every malformed, repeated, oversized or
 * mistyped request is a 4xx with an RFC error code, never a 5xx, and leaves the database as it
 * was (DESIGN invariant 5): no token issued, no code consumed, no refresh token rotated.
 */

const formType = { 'content-type': 'application/x-www-form-urlencoded' };

/** Every error code of RFC 6749 §4.1.2.1 and §5.2 and RFC 6750 §3.1. */
const rfcErrorCodes = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'unsupported_response_type',
  'invalid_scope',
  'access_denied',
  'invalid_token',
  'insufficient_scope',
  'server_error',
  'temporarily_unavailable',
]);

interface Fixture {
  server: TestServer;
  client: TestClient;
  /** A code issued with the RFC 7636 Appendix B challenge and not yet redeemed. */
  code: string;
  /** A live refresh token of an earlier redemption. */
  refreshToken: string;
  /** The database as it was before the bad requests. */
  before: DatabaseState;
}

async function setUp(t: TestContext): Promise<Fixture> {
  const server = await buildTestServer();
  t.after(() => server.close());
  const client = await createTestClient(server);
  await createTestUser(server);
  const jar = await logIn(server);
  // The client may have calendar.read, but these grants leave it out.
  const scope = 'profile email';
  const earlier = await redeemCode(server, client, await issueCode(server, jar, client, { scope }));
  assert.equal(earlier.statusCode, 200, earlier.body);
  const code = await issueCode(server, jar, client, { scope });
  return { server, client, code, refreshToken: earlier.json().refresh_token, before: databaseState(server) };
}

/** The form fields of a valid redemption of the fixture's code, as ordered pairs. */
function validRedemption(fixture: Fixture): [string, string][] {
  return [
    ['grant_type', 'authorization_code'],
    ['code', fixture.code],
    ['redirect_uri', redirectUri],
    ['code_verifier', rfc7636Verifier],
  ];
}

function encode(pairs: [string, string][]): string {
  return new URLSearchParams(pairs).toString();
}

function postToken(server: TestServer, payload: string | Buffer, headers: Record<string, string> = formType) {
  return server.app.inject({ method: 'POST', url: '/token', payload, headers });
}

function assertError(response: LightMyRequestResponse, status: number, error: string, description?: RegExp, label = '') {
  assert.equal(response.statusCode, status, `${label}: ${response.body}`);
  assert.match(response.headers['content-type'] as string, /^application\/json/, label);
  assert.equal(response.headers['cache-control'], 'no-store', label);
  const body = response.json() as { error: string; error_description: string };
  assert.equal(body.error, error, `${label}: ${body.error_description}`);
  if (description !== undefined) assert.match(body.error_description, description, label);
}

/** An error page (RFC 6749 §4.1.2.1: never a redirect when the client or URI is not trusted). */
function assertErrorPage(response: LightMyRequestResponse, description: RegExp, label = '') {
  assert.equal(response.statusCode, 400, `${label}: ${response.body}`);
  assert.equal(response.headers.location, undefined, label);
  assert.match(response.headers['content-type'] as string, /^text\/html/, label);
  assert.match(response.body, /Error code: <code>invalid_request<\/code>/, label);
  assert.match(response.body, description, label);
}

/** Nothing was written, and both the code and the refresh token still work (in that order). */
async function assertNothingHalfWritten(fixture: Fixture) {
  assert.deepEqual(databaseState(fixture.server), fixture.before);
  const redeemed = await redeemCode(fixture.server, fixture.client, fixture.code);
  assert.equal(redeemed.statusCode, 200, `the code no longer works: ${redeemed.body}`);
  const refreshed = await refresh(fixture.server, fixture.client, fixture.refreshToken);
  assert.equal(refreshed.statusCode, 200, `the refresh token no longer works: ${refreshed.body}`);
}

// Malformed form bodies

test('malformed form bodies are invalid_request, even around a valid redemption', async (t) => {
  const fixture = await setUp(t);
  const { server, client } = fixture;
  const valid = encode(validRedemption(fixture));
  const headers = { ...formType, authorization: client.basic };
  const percent = /malformed percent-encoding or bytes that are not UTF-8/;
  const cases: [string, string | Buffer, RegExp][] = [
    ['a lone %zz', '%zz', percent],
    ['%zz in a name', `${valid}&%zz=1`, percent],
    ['%zz in a value', `${valid}&state=%zz`, percent],
    ['a truncated escape', `${valid}&x=%e`, percent],
    ['a bare %', `${valid}&x=%`, percent],
    ['%ff, not UTF-8 once decoded', `${valid}&x=%ff`, percent],
    ['an invalid UTF-8 sequence', `${valid}&x=%C3%28`, percent],
    ['an overlong encoding of /', `${valid}&x=%C0%AF`, percent],
    ['a lone surrogate', `${valid}&x=%ED%A0%80`, percent],
    ['%ff in the code itself', valid.replace(`code=${fixture.code}`, `code=${fixture.code}%ff`), percent],
    ['a raw 0xff byte', Buffer.concat([Buffer.from(`${valid}&x=`), Buffer.from([0xff])]), /not valid UTF-8/],
    ['raw overlong bytes', Buffer.concat([Buffer.from(`${valid}&x=`), Buffer.from([0xc0, 0xaf])]), /not valid UTF-8/],
    ['a raw latin-1 é', Buffer.concat([Buffer.from(`${valid}&x=caf`), Buffer.from([0xe9])]), /not valid UTF-8/],
    ['a lone &&&', '&&&', /'grant_type' is required/],
    ['only =', '=', /'grant_type' is required/],
    ['a name without a value', 'grant_type', /'grant_type' is required/],
    ['an empty body', '', /'grant_type' is required/],
  ];
  for (const [label, payload, description] of cases) {
    assertError(await postToken(server, payload, headers), 400, 'invalid_request', description, label);
  }
  await assertNothingHalfWritten(fixture);
});

// Repeated parameters (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once")

test('a repeated parameter is invalid_request naming the parameter, even with the same value twice', async (t) => {
  const fixture = await setUp(t);
  const { server, client } = fixture;
  const post: [string, string][] = [
    ['client_id', client.clientId],
    ['client_secret', client.clientSecret!],
  ];
  const redemption = validRedemption(fixture);
  const rotation: [string, string][] = [['grant_type', 'refresh_token'], ['refresh_token', fixture.refreshToken]];
  // The client is registered for client_secret_basic, which it must use (issue 13): the body
  // carries its credentials only where they are what is repeated, which is refused before
  // the client is authenticated.
  const cases: [string, [string, string][]][] = [
    ['grant_type', [...redemption, ['grant_type', 'authorization_code']]],
    ['grant_type', [...redemption, ['grant_type', 'refresh_token']]],
    ['code', [...redemption, ['code', fixture.code]]],
    ['code', [...redemption, ['code', 'another-code']]],
    ['client_id', [...redemption, ...post, ['client_id', client.clientId]]],
    ['client_secret', [...redemption, ...post, ['client_secret', client.clientSecret!]]],
    ['redirect_uri', [...redemption, ['redirect_uri', redirectUri]]],
    ['code_verifier', [...redemption, ['code_verifier', rfc7636Verifier]]],
    ['refresh_token', [...rotation, ['refresh_token', fixture.refreshToken]]],
    ['scope', [...rotation, ['scope', 'profile'], ['scope', 'profile']]],
  ];
  for (const [name, pairs] of cases) {
    const headers = name.startsWith('client_') ? formType : { ...formType, authorization: client.basic };
    const response = await postToken(server, encode(pairs), headers);
    assertError(response, 400, 'invalid_request', new RegExp(`^'${name}' must not be repeated`), `${name} twice`);
  }
  // With HTTP Basic, a repeated client_id in the body is still refused.
  const basic = await postToken(server, encode([...validRedemption(fixture), ['client_id', client.clientId], ['client_id', client.clientId]]), {
    ...formType,
    authorization: client.basic,
  });
  assertError(basic, 400, 'invalid_request', /^'client_id' must not be repeated/);
  await assertNothingHalfWritten(fixture);
});

// Absurdly long values

test('absurdly long values are invalid_request naming the parameter', async (t) => {
  const fixture = await setUp(t);
  const { server, client } = fixture;
  const long = 'a'.repeat(10_000);
  const basic = { ...formType, authorization: client.basic };
  const replace = (pairs: [string, string][], name: string, value: string) =>
    encode(pairs.map(([key, old]): [string, string] => [key, key === name ? value : old]));
  const redemption = validRedemption(fixture);
  const rotation: [string, string][] = [['grant_type', 'refresh_token'], ['refresh_token', fixture.refreshToken]];
  const cases: [string, string, Record<string, string>, RegExp][] = [
    ['grant_type', replace(redemption, 'grant_type', long), basic, /'grant_type' is longer than 128 characters/],
    ['code', replace(redemption, 'code', long), basic, /'code' is longer than 256 characters/],
    ['redirect_uri', replace(redemption, 'redirect_uri', `${redirectUri}?${long}`), basic, /'redirect_uri' is longer than 4096 characters/],
    ['code_verifier', replace(redemption, 'code_verifier', long), basic, /'code_verifier' is longer than 256 characters/],
    ['code_verifier of 129', replace(redemption, 'code_verifier', 'v'.repeat(129)), basic, /'code_verifier' must be 43-128 characters/],
    ['client_id', encode([...redemption, ['client_id', long], ['client_secret', client.clientSecret!]]), formType, /'client_id' is longer than 256 characters/],
    ['client_secret', encode([...redemption, ['client_id', client.clientId], ['client_secret', long]]), formType, /'client_secret' is longer than 256 characters/],
    ['refresh_token', replace(rotation, 'refresh_token', long), basic, /'refresh_token' is longer than 256 characters/],
    ['scope', encode([...rotation, ['scope', long]]), basic, /'scope' is longer than 4096 characters/],
  ];
  for (const [label, payload, headers, description] of cases) {
    assertError(await postToken(server, payload, headers), 400, 'invalid_request', description, label);
  }
  const hugeBasic = await postToken(server, encode(redemption), { ...formType, authorization: `Basic ${'QUJD'.repeat(2500)}` });
  assertError(hugeBasic, 401, 'invalid_client', /Authorization header must be/);
  await assertNothingHalfWritten(fixture);
});

test('a body over the limit is 400 invalid_request, not 413 or 500, however large', async (t) => {
  const fixture = await setUp(t);
  const { server, client } = fixture;
  const valid = encode(validRedemption(fixture));
  for (const size of [server.config.bodyLimitBytes + 1, 1024 * 1024, 8 * 1024 * 1024]) {
    const payload = `${valid}&padding=${'p'.repeat(size - valid.length)}`;
    assert.ok(payload.length > server.config.bodyLimitBytes);
    const response = await postToken(server, payload, { ...formType, authorization: client.basic });
    assertError(response, 400, 'invalid_request', /request body is too large/, `${size} bytes`);
  }
  await assertNothingHalfWritten(fixture);
});

test('unknown parameters are ignored (RFC 6749 §3.2), however long or many, within the body limit', async (t) => {
  const fixture = await setUp(t);
  const { server, client } = fixture;
  const pairs: [string, string][] = [...validRedemption(fixture), ['padding', 'p'.repeat(20_000)]];
  for (let i = 0; i < 2000; i += 1) pairs.push([`x${i}`, 'y'], ['repeated', 'z']);
  const payload = encode(pairs);
  assert.ok(payload.length < server.config.bodyLimitBytes);
  const response = await postToken(server, payload, { ...formType, authorization: client.basic });
  assert.equal(response.statusCode, 200, response.body);
});

// Wrong content types (RFC 6749 §4.1.3: application/x-www-form-urlencoded)

test('a body of any other content type is invalid_request, even when it carries a valid request', async (t) => {
  const fixture = await setUp(t);
  const { server, client } = fixture;
  const fields = Object.fromEntries(validRedemption(fixture));
  const valid = encode(validRedemption(fixture));
  const boundary = 'gatehouse-boundary';
  const multipart = validRedemption(fixture)
    .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
    .join('')
    .concat(`--${boundary}--\r\n`);
  const notForm = /must be application\/x-www-form-urlencoded/;
  const cases: [string, string | Buffer, string | undefined, RegExp][] = [
    ['JSON', JSON.stringify(fields), 'application/json', notForm],
    ['JSON with a charset', JSON.stringify(fields), 'application/json; charset=utf-8', notForm],
    // The token endpoint never parses JSON, so malformed JSON is refused for its type alone.
    ['malformed JSON', '{"grant_type": "authorization_code",', 'application/json', notForm],
    ['JSON with __proto__', '{"__proto__": {"grant_type": "authorization_code"}}', 'application/json', notForm],
    ['text/plain', valid, 'text/plain', notForm],
    ['multipart', multipart, `multipart/form-data; boundary=${boundary}`, notForm],
    ['octet-stream', Buffer.from(valid), 'application/octet-stream', notForm],
    ['a look-alike type', valid, 'application/x-www-form-urlencoded-evil', notForm],
    ['a prefixed look-alike', valid, 'xapplication/x-www-form-urlencoded', notForm],
    ['two types', valid, 'application/x-www-form-urlencoded, application/json', notForm],
    ['an unparseable type', valid, '/;;==', notForm],
    ['no content type', Buffer.from(valid), undefined, notForm],
  ];
  for (const [label, payload, contentType, description] of cases) {
    const headers: Record<string, string> = { authorization: client.basic };
    if (contentType !== undefined) headers['content-type'] = contentType;
    const response = await postToken(server, payload, headers);
    assertError(response, 400, 'invalid_request', description, label);
  }
  await assertNothingHalfWritten(fixture);
});

// Wrong methods and paths

test('other methods at /token are 4xx JSON, never 5xx', async (t) => {
  const fixture = await setUp(t);
  const { server, client } = fixture;
  const query = encode(validRedemption(fixture));
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
    const response = await server.app.inject({ method, url: `/token?${query}`, headers: { authorization: client.basic } });
    assertError(response, 404, 'invalid_request', new RegExp(`there is nothing at ${method} /token$`), method);
  }
  await assertNothingHalfWritten(fixture);
});

test('unknown paths are 404 JSON, and so are paths that are not valid URLs', async (t) => {
  const { server } = await setUp(t);
  for (const url of ['/nope', '/token/', '/TOKEN', '/userinfo/x', `/${'a'.repeat(10_000)}`, '/token?x=%zz']) {
    const response = await server.app.inject({ method: 'POST', url, payload: 'grant_type=x', headers: formType });
    if (url === '/token?x=%zz') {
      // The query of a POST to /token is not read, so a bad one there is harmless.
      assertError(response, 400, 'unsupported_grant_type', undefined, url);
    } else {
      assertError(response, 404, 'invalid_request', /there is nothing at POST \//, url);
    }
  }
  for (const url of ['/%zz', '/token%zz', '/authorize/%ff', '/%']) {
    const response = await server.app.inject({ method: 'GET', url });
    assertError(response, 400, 'invalid_request', /not a valid url/, url);
  }
});

// /authorize: errors before the client and redirect URI are trusted are pages, never redirects

test('/authorize with a repeated client_id or redirect_uri is a 400 error page without a redirect', async (t) => {
  const { server, client } = await setUp(t);
  const codesBefore = databaseState(server).codes;
  const url = authorizeUrl(client);
  const cases: [string, string][] = [
    ['client_id', `${url}&client_id=${client.clientId}`],
    ['client_id', `${url}&client_id=evil`],
    ['redirect_uri', `${url}&redirect_uri=${encodeURIComponent(redirectUri)}`],
    ['redirect_uri', `${url}&redirect_uri=${encodeURIComponent('https://attacker.example/')}`],
  ];
  for (const [name, target] of cases) {
    const response = await server.app.inject({ method: 'GET', url: target });
    assertErrorPage(response, new RegExp(`&quot;${name}&quot; must not be repeated`), target);
  }
  const posted = await server.app.inject({
    method: 'POST',
    url: '/authorize',
    payload: `${url.split('?')[1]}&client_id=${client.clientId}`,
    headers: formType,
  });
  assertErrorPage(posted, /&quot;client_id&quot; must not be repeated/, 'POST');
  assert.equal(databaseState(server).codes, codesBefore);
});

test('/authorize with a query that is not UTF-8 or not well encoded is a 400 error page without a redirect', async (t) => {
  const { server, client } = await setUp(t);
  const url = authorizeUrl(client);
  const percent = /malformed percent-encoding or bytes that are not UTF-8/;
  for (const target of [
    `/authorize?client_id=%ff`,
    `${url}&state=%ff`,
    `${url}&state=%C3%28`,
    `${url}&x=%zz`,
    `${url.replace(client.clientId, `${client.clientId}%ED%A0%80`)}`,
  ]) {
    assertErrorPage(await server.app.inject({ method: 'GET', url: target }), percent, target);
  }
  const body = Buffer.concat([Buffer.from(`${url.split('?')[1]}&state=`), Buffer.from([0xff])]);
  const posted = await server.app.inject({ method: 'POST', url: '/authorize', payload: body, headers: formType });
  assertErrorPage(posted, /not valid UTF-8/, 'POST');
});

test('/authorize with a repeated parameter after the client is trusted redirects with invalid_request', async (t) => {
  const { server, client } = await setUp(t);
  const response = await server.app.inject({ method: 'GET', url: `${authorizeUrl(client, { scope: 'profile', state: 's-9' })}&scope=email` });
  assert.equal(response.statusCode, 302, response.body);
  const location = new URL(response.headers.location as string);
  assert.equal(`${location.origin}${location.pathname}`, redirectUri);
  assert.equal(location.searchParams.get('error'), 'invalid_request');
  assert.match(location.searchParams.get('error_description')!, /'scope' must not be repeated/);
  assert.equal(location.searchParams.get('state'), 's-9');
  assert.equal(location.searchParams.get('iss'), server.config.issuer);
  assert.equal(location.searchParams.get('code'), null);
});

// Requests that fail part-way leave nothing behind

test('requests that fail after the code or refresh token was looked up leave both usable', async (t) => {
  const fixture = await setUp(t);
  const { server, client, code, refreshToken } = fixture;
  const other = await createTestClient(server, { name: 'Other' });
  assertError(await redeemCode(server, other, code), 400, 'invalid_grant', /issued to another client/);
  assertError(await refresh(server, client, refreshToken, { scope: 'profile calendar.read' }), 400, 'invalid_scope');
  assertError(await refresh(server, client, refreshToken, { scope: 'profile\tcalendar.read' }), 400, 'invalid_scope');
  assertError(await refresh(server, other, refreshToken), 400, 'invalid_grant', /issued to another client/);
  await assertNothingHalfWritten(fixture);
});

test("a check that fails for the code's own client spends the code and writes nothing else", async (t) => {
  // DESIGN invariant 3: a code is spent even when its exchange fails, so PKCE cannot be guessed at.
  const failures: [Record<string, string>, RegExp][] = [
    [{ code_verifier: 'w'.repeat(43) }, /'code_verifier' does not match/],
    [{ redirect_uri: `${redirectUri}/` }, /'redirect_uri' does not match/],
    [{ code_verifier: '' }, /'code_verifier' is required/],
  ];
  for (const [fields, description] of failures) {
    const fixture = await setUp(t);
    const { server, client, code, refreshToken } = fixture;
    assertError(await redeemCode(server, client, code, fields), 400, 'invalid_grant', description);
    assert.deepEqual(databaseState(server), { ...fixture.before, consumedCodes: fixture.before.consumedCodes + 1 });
    assertError(await redeemCode(server, client, code), 400, 'invalid_grant', /already been used/);
    assert.equal((await refresh(server, client, refreshToken)).statusCode, 200, 'the refresh token of an earlier code is untouched');
  }
});

// Never a 5xx

test('thirty mangled requests: each is a 4xx with a JSON RFC error, and nothing is written', async (t) => {
  const fixture = await setUp(t);
  const { server, client } = fixture;
  const valid = encode(validRedemption(fixture));
  const basic = { ...formType, authorization: client.basic };
  const token = (payload: string | Buffer, headers: Record<string, string> = basic): InjectOptions => ({ method: 'POST', url: '/token', payload, headers });
  const requests: [string, InjectOptions][] = [
    ['%zz', token('%zz')],
    ['%ff', token(`${valid}&x=%ff`)],
    ['raw 0xff', token(Buffer.from([0xff, 0xfe, 0x3d]))],
    ['NUL in grant_type', token('grant_type=%00')],
    ['NUL in code', token(valid.replace(fixture.code, `${fixture.code}%00`))],
    ['newline in code', token(valid.replace(fixture.code, `${fixture.code}%0A`))],
    ['emoji code', token(valid.replace(fixture.code, '%F0%9F%98%80'))],
    ['code as a name only', token('grant_type=authorization_code&code&redirect_uri')],
    ['&&&', token('&&&')],
    ['==', token('==&=&grant_type==')],
    ['grant_type twice', token(`${valid}&grant_type=authorization_code`)],
    ['10 000-char code', token(valid.replace(fixture.code, 'c'.repeat(10_000)))],
    ['1 MB body', token(`${valid}&x=${'x'.repeat(1024 * 1024)}`)],
    ['JSON', token(JSON.stringify({ grant_type: 'authorization_code', code: fixture.code }), { authorization: client.basic, 'content-type': 'application/json' })],
    ['JSON array', token('[1,2,3]', { authorization: client.basic, 'content-type': 'application/json' })],
    ['JSON null', token('null', { authorization: client.basic, 'content-type': 'application/json' })],
    ['text/plain', token(valid, { authorization: client.basic, 'content-type': 'text/plain' })],
    ['multipart without a boundary', token(valid, { authorization: client.basic, 'content-type': 'multipart/form-data' })],
    ['no content type', token(Buffer.from(valid), { authorization: client.basic })],
    ['a verifier with spaces', token(valid.replace(rfc7636Verifier, encodeURIComponent(`${rfc7636Verifier.slice(0, 40)}   `)))],
    ['Basic with bad base64', token(valid, { ...formType, authorization: 'Basic ===' })],
    ['Basic with non-UTF-8', token(valid, { ...formType, authorization: `Basic ${Buffer.from([0xff, 0x3a, 0xff]).toString('base64')}` })],
    ['Bearer at /token', token(valid, { ...formType, authorization: 'Bearer abc' })],
    ['grant_type password', token(`grant_type=password&username=alice&password=${encodeURIComponent('correct horse battery staple')}`)],
    ['scope with a quote', token(`grant_type=refresh_token&refresh_token=${fixture.refreshToken}&scope=%22profile%22`)],
    ['scope with a backslash', token(`grant_type=refresh_token&refresh_token=${fixture.refreshToken}&scope=pro%5Cfile`)],
    ['GET /token', { method: 'GET', url: `/token?${valid}` }],
    ['bad URL', { method: 'POST', url: '/token%zz', payload: valid, headers: basic }],
    ['userinfo with a mangled token', { method: 'GET', url: '/userinfo', headers: { authorization: 'Bearer \u00ff' } }],
    ['userinfo with a huge token', { method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${'t'.repeat(10_000)}` } }],
    ['userinfo with a JSON body', { method: 'POST', url: '/userinfo', payload: '{', headers: { 'content-type': 'application/json' } }],
    ['userinfo with a non-UTF-8 body', { method: 'POST', url: '/userinfo', payload: Buffer.from([0xff]), headers: formType }],
  ];
  assert.ok(requests.length >= 30);
  for (const [label, request] of requests) {
    const response = await server.app.inject(request);
    assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${label}: ${response.statusCode} ${response.body}`);
    assert.match(response.headers['content-type'] as string, /^application\/json/, label);
    const body = response.json() as { error?: unknown; error_description?: unknown };
    assert.equal(typeof body.error, 'string', label);
    assert.ok(rfcErrorCodes.has(body.error as string), `${label}: ${String(body.error)} is not an RFC error code`);
    assert.equal(typeof body.error_description, 'string', label);
    assert.equal(response.headers['cache-control'], 'no-store', label);
  }
  await assertNothingHalfWritten(fixture);
});

// Direct database reads

interface DatabaseState {
  accessTokens: number;
  refreshTokens: number;
  codes: number;
  consumedCodes: number;
  rotatedRefreshTokens: number;
  revokedTokens: number;
}

function databaseState(server: TestServer): DatabaseState {
  const db = new Database(server.config.databaseUrl.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
  try {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      accessTokens: count('SELECT count(*) AS n FROM access_tokens'),
      refreshTokens: count('SELECT count(*) AS n FROM refresh_tokens'),
      codes: count('SELECT count(*) AS n FROM authorization_codes'),
      consumedCodes: count('SELECT count(*) AS n FROM authorization_codes WHERE consumed_at IS NOT NULL'),
      rotatedRefreshTokens: count('SELECT count(*) AS n FROM refresh_tokens WHERE rotated_at IS NOT NULL'),
      revokedTokens: count(
        'SELECT (SELECT count(*) FROM access_tokens WHERE revoked_at IS NOT NULL) + (SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NOT NULL) AS n',
      ),
    };
  } finally {
    db.close();
  }
}

test('bytes that Node itself refuses before routing still get an RFC error in JSON', async (t) => {
  const { startListeningServer } = await import('../support/listening-server.ts');
  const { connect } = await import('node:net');
  const listening = await startListeningServer();
  t.after(() => listening.close());
  const port = new URL(listening.url).port;
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(Buffer.concat([Buffer.from('GET /authorize?client_id='), Buffer.from([0xff, 0xfe]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]));
    });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
  const [head, body] = raw.split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 400 /);
  assert.match(head!, /cache-control: no-store/i);
  assert.deepEqual(JSON.parse(body!), { error: 'invalid_request', error_description: 'the request is not valid HTTP' });
});
