import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ManualClock } from '../../src/shared/clock.ts';
import { buildServer, type BuildServerInput } from '../../src/server/app.ts';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient, type ClientRegistration } from '../../src/server/clients/register-client.ts';
import { defaultConfig, type GatehouseConfig } from '../../src/server/config/defaults.ts';
import { finishConfig } from '../../src/server/config/load.ts';
import { createServerContext, type ServerContext } from '../../src/server/context.ts';
import { KeyEncryption } from '../../src/server/keys/key-encryption.ts';
import { randomBytes } from 'node:crypto';
import { s256Challenge } from '../../src/server/authorize/pkce.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import type { KyselyStorage } from '../../src/storage/kysely-storage.ts';

export const issuer = 'http://127.0.0.1:4000';
export const redirectUri = 'https://client.example/callback';
export const password = 'correct horse battery staple';
/** RFC 7636 Appendix B. */
export const rfc7636Verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
export const rfc7636Challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

export interface TestServer {
  app: FastifyInstance;
  clock: ManualClock;
  storage: KyselyStorage;
  ctx: ServerContext;
  config: GatehouseConfig;
  close(): Promise<void>;
}

/**
 * A fresh server for one test: its own SQLite file in a temporary folder, a frozen clock, and
 * the configuration overrides the test asks for.
 */
export async function buildTestServer(
  overrides: Partial<GatehouseConfig> = {},
  /** Logging, as `buildServer` takes it; off unless a test reads the log. */
  logger: BuildServerInput['logger'] = false,
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const config = finishConfig({
    ...defaultConfig(),
    issuer,
    databaseUrl: `sqlite:${join(dir, 'gatehouse.db')}`,
    scopes: { 'calendar.read': { description: 'Read your calendar events' } },
    ...overrides,
  });
  const storage = await openStorage(config.databaseUrl);
  const clock = new ManualClock(Date.UTC(2026, 10, 27, 12));
  const keyEncryption = new KeyEncryption(randomBytes(32));
  const app = await buildServer({ config, storage, clock, keyEncryption, logger });
  const ctx = createServerContext(config, storage, clock, keyEncryption);
  return {
    app,
    clock,
    storage,
    ctx,
    config,
    async close() {
      await app.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestClient {
  clientId: string;
  clientSecret: string | null;
  /** `Authorization: Basic …` for confidential clients. */
  basic: string;
}

export async function createTestClient(server: TestServer, overrides: Partial<ClientRegistration> = {}): Promise<TestClient> {
  const { client, clientSecret } = await registerClient(
    { name: 'Mine', redirectUris: [redirectUri], scopes: ['profile', 'email', 'calendar.read', 'offline_access'], ...overrides },
    server.ctx,
  );
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(clientSecret ?? '')}`).toString('base64')}`;
  return { clientId: client.id, clientSecret, basic };
}

export async function createTestUser(server: TestServer, username = 'alice') {
  return createAccount({ username, password, name: 'Alice Kim', email: `${username}@example.com` }, server.ctx);
}

/** Parses Set-Cookie headers into one Cookie header value, as a browser would send back. */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies as { name: string; value: string; expires?: Date }[]) {
      if (cookie.value === '' || (cookie.expires !== undefined && cookie.expires.getTime() < Date.now() - 1e12)) {
        this.#cookies.delete(cookie.name);
      } else {
        this.#cookies.set(cookie.name, cookie.value);
      }
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The hidden form fields of a page, as name → value. */
export function formFields(page: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields.set(unescape(match[1]!), unescape(match[2]!));
  }
  return fields;
}

function unescape(text: string): string {
  return text.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

export function form(fields: Record<string, string> | Map<string, string>): { payload: string; headers: Record<string, string> } {
  const entries = fields instanceof Map ? [...fields] : Object.entries(fields);
  return {
    payload: new URLSearchParams(entries).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

/** Logs in through the login form and returns the browser's cookies. */
export async function logIn(server: TestServer, username = 'alice', jar = new CookieJar()): Promise<CookieJar> {
  const page = await server.app.inject({ method: 'GET', url: '/login', headers: { cookie: jar.header() } });
  jar.store(page);
  const fields = formFields(page.body);
  const body = form({ _csrf: fields.get('_csrf')!, return_to: '/', username, password });
  const response = await server.app.inject({ method: 'POST', url: '/login', ...body, headers: { ...body.headers, cookie: jar.header() } });
  if (response.statusCode !== 303) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  jar.store(response);
  return jar;
}

export interface AuthorizeOptions {
  scope?: string;
  state?: string;
  verifier?: string | null;
  redirectUri?: string;
  extra?: Record<string, string>;
}

export function authorizeUrl(client: TestClient, options: AuthorizeOptions = {}): string {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: options.redirectUri ?? redirectUri,
    state: options.state ?? 'xyz',
    ...(options.scope === undefined ? {} : { scope: options.scope }),
    ...(options.verifier === null
      ? {}
      : { code_challenge: s256Challenge(options.verifier ?? rfc7636Verifier), code_challenge_method: 'S256' }),
    ...options.extra,
  });
  return `/authorize?${params}`;
}

/**
 * Runs /authorize for a logged-in browser, allowing the consent page when it appears, and
 * returns the final redirect's URL.
 */
export async function authorize(server: TestServer, jar: CookieJar, client: TestClient, options: AuthorizeOptions = {}): Promise<URL> {
  const response = await server.app.inject({ method: 'GET', url: authorizeUrl(client, options), headers: { cookie: jar.header() } });
  jar.store(response);
  if (response.statusCode === 302) return new URL(response.headers.location as string);
  if (response.statusCode !== 200) throw new Error(`authorize failed: ${response.statusCode} ${response.body}`);
  const fields = formFields(response.body);
  fields.set('decision', 'allow');
  const body = form(fields);
  const decision = await server.app.inject({
    method: 'POST',
    url: '/authorize/decision',
    ...body,
    headers: { ...body.headers, cookie: jar.header() },
  });
  if (decision.statusCode !== 303) throw new Error(`consent failed: ${decision.statusCode} ${decision.body}`);
  return new URL(decision.headers.location as string);
}

/** Logs in (first time), consents and returns a fresh authorization code. */
export async function issueCode(server: TestServer, jar: CookieJar, client: TestClient, options: AuthorizeOptions = {}): Promise<string> {
  const location = await authorize(server, jar, client, options);
  const code = location.searchParams.get('code');
  if (code === null) throw new Error(`no code in ${location}`);
  return code;
}

export function redeemCode(
  server: TestServer,
  client: TestClient,
  code: string,
  fields: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const body = form({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: rfc7636Verifier, ...fields });
  return server.app.inject({ method: 'POST', url: '/token', ...body, headers: { ...body.headers, authorization: client.basic } });
}

export function refresh(server: TestServer, client: TestClient, refreshToken: string, fields: Record<string, string> = {}) {
  const body = form({ grant_type: 'refresh_token', refresh_token: refreshToken, ...fields });
  return server.app.inject({ method: 'POST', url: '/token', ...body, headers: { ...body.headers, authorization: client.basic } });
}

export function callUserinfo(server: TestServer, accessToken: string) {
  return server.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${accessToken}` } });
}
