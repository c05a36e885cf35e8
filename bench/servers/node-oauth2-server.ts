/**
 * `@node-oauth/oauth2-server` 5 as the benchmark runs it: the library behind bare `node:http`,
 * with an in-memory model (Maps; nothing survives the process). It has no introspection, no
 * OpenID Connect and no JWT access tokens, so it takes part in the workloads it supports:
 * client_credentials issuance, a Bearer-protected GET (`authenticate`), the code exchange with
 * PKCE, the refresh grant, and the whole code flow (a cookie stands for each user's logged-in session).
 */
import OAuth2Server from '@node-oauth/oauth2-server';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { announce, benchUsers, exitWith } from './protocol.ts';

const { Request, Response } = OAuth2Server;
type Client = OAuth2Server.Client;
type Token = OAuth2Server.Token;
type AuthorizationCode = OAuth2Server.AuthorizationCode;

const machineScope = 'calendar.read';
const redirectUri = 'http://127.0.0.1:9/callback';
const secret = () => randomBytes(32).toString('base64url');

interface StoredClient {
  client: Client;
  secret: Buffer;
  scopes: string[];
}

const clients = new Map<string, StoredClient>();
function addClient(id: string, grants: string[], scopes: string[], redirectUris: string[]): string {
  const value = secret();
  clients.set(id, { client: { id, grants, redirectUris, accessTokenLifetime: 3600 }, secret: Buffer.from(value), scopes });
  return value;
}
const machineSecret = addClient('machine', ['client_credentials'], [machineScope], []);
const webSecret = addClient('web', ['authorization_code', 'refresh_token'], ['profile', 'offline_access'], [redirectUri]);
/** Logged-in browser sessions: `sid` cookie value → user. */
const sessions = new Map(Array.from({ length: benchUsers }, (_, user) => [secret(), { id: `user${user}`, name: `User ${user}` }]));

const accessTokens = new Map<string, Token>();
const refreshTokens = new Map<string, Token>();
const codes = new Map<string, AuthorizationCode>();

const model = {
  async getClient(clientId: string, clientSecret: string | null) {
    const stored = clients.get(clientId);
    if (stored === undefined) return false;
    if (clientSecret !== null && clientSecret !== undefined) {
      const presented = Buffer.from(clientSecret);
      if (presented.length !== stored.secret.length || !timingSafeEqual(presented, stored.secret)) return false;
    }
    return stored.client;
  },
  async getUserFromClient(client: Client) {
    return { id: client.id };
  },
  async validateScope(_user: unknown, client: Client, scope?: string[]) {
    const allowed = clients.get(client.id)?.scopes ?? [];
    const requested = scope ?? allowed;
    return requested.every((value) => allowed.includes(value)) ? requested : false;
  },
  async saveToken(token: Token, client: Client, owner: OAuth2Server.User) {
    const saved = { ...token, client, user: owner };
    accessTokens.set(token.accessToken, saved);
    if (token.refreshToken !== undefined) refreshTokens.set(token.refreshToken, saved);
    return saved;
  },
  async getAccessToken(accessToken: string) {
    return accessTokens.get(accessToken) ?? false;
  },
  async verifyScope(token: Token, scope: string[]) {
    return scope.every((value) => token.scope?.includes(value));
  },
  async getRefreshToken(refreshToken: string) {
    const token = refreshTokens.get(refreshToken);
    return token === undefined ? false : { ...token, refreshToken };
  },
  async revokeToken(token: Token) {
    return refreshTokens.delete(token.refreshToken!);
  },
  async saveAuthorizationCode(code: AuthorizationCode, client: Client, owner: OAuth2Server.User) {
    const saved = { ...code, client, user: owner };
    codes.set(code.authorizationCode, saved);
    return saved;
  },
  async getAuthorizationCode(authorizationCode: string) {
    return codes.get(authorizationCode) ?? false;
  },
  async revokeAuthorizationCode(code: AuthorizationCode) {
    return codes.delete(code.authorizationCode);
  },
};

const oauth = new OAuth2Server({ model: model as never, accessTokenLifetime: 3600 });

/** The logged-in browser session, as a cookie `sid=…`. */
const authenticateHandler = {
  handle(request: OAuth2Server.Request) {
    const cookie = request.headers?.cookie ?? '';
    return (cookie.startsWith('sid=') && sessions.get(cookie.slice(4))) || false;
  },
};

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    res.statusCode = 500;
    res.end(String(error));
  });
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const body = req.method === 'POST' ? Object.fromEntries(new URLSearchParams(await readBody(req))) : {};
  const request = new Request({ headers: req.headers as Record<string, string>, method: req.method!, query: Object.fromEntries(url.searchParams), body });
  const response = new Response({ headers: {} });
  try {
    if (url.pathname === '/token' && req.method === 'POST') {
      await oauth.token(request, response);
    } else if (url.pathname === '/authorize' && req.method === 'GET') {
      await oauth.authorize(request, response, { authenticateHandler });
    } else if (url.pathname === '/userinfo' && req.method === 'GET') {
      const token = await oauth.authenticate(request, response);
      response.status = 200;
      response.body = { sub: token.user.id, name: token.user.name };
    } else {
      response.status = 404;
      response.body = { error: 'not_found' };
    }
  } catch (error) {
    // The library has already put the OAuth error into `response`; anything else is a 500.
    if (!(error instanceof OAuth2Server.OAuthError)) throw error;
  }
  send(res, response);
}

function send(res: ServerResponse, response: OAuth2Server.Response): void {
  for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value as string);
  res.statusCode = response.status ?? 200;
  if (response.body !== undefined && Object.keys(response.body).length > 0) {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(response.body));
  } else {
    res.end();
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
exitWith(() => {
  server.closeAllConnections();
  server.close();
});

announce({
  type: 'ready',
  url,
  paths: { authorize: '/authorize', token: '/token', userinfo: '/userinfo' },
  machine: { clientId: 'machine', clientSecret: machineSecret, scope: machineScope },
  web: { clientId: 'web', clientSecret: webSecret, redirectUri, oauthScope: 'profile offline_access', flowScope: 'profile', cookies: [...sessions.keys()].map((id) => `sid=${id}`) },
});
