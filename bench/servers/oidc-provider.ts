/**
 * The certified Node OpenID provider (`oidc-provider` 9) as the benchmark runs it: its default
 * in-memory adapter (tokens live in process memory and die with it), `client_credentials`,
 * introspection, and resource indicators for JWT access tokens — one resource per signing
 * algorithm, so one process serves both the ES256 and the RS256 JWT workloads.
 *
 * Its login and consent are interactions an application implements; here a bench-only handler
 * logs "alice" in and grants what was asked, so a browserless client that keeps the cookies
 * reaches the code redirect, and later requests with the session cookie go straight through.
 */
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { errors, type Configuration } from 'oidc-provider';
import { announce, exitWith } from './protocol.ts';

const machineScope = 'calendar.read';
const redirectUri = 'http://127.0.0.1:9/callback';
const resources: Record<string, 'ES256' | 'RS256'> = {
  'https://api.bench.test/es256': 'ES256',
  'https://api.bench.test/rs256': 'RS256',
};
const secret = () => randomBytes(32).toString('base64url');
const machineSecret = secret();
const machineJwtSecret = secret();
const webSecret = secret();

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

let handler: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | undefined;
const server = createServer((req, res) => handler!(req, res));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;

const configuration: Configuration = {
  clients: [
    {
      client_id: 'machine',
      client_secret: machineSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: machineScope,
    },
    {
      client_id: 'machine-jwt',
      client_secret: machineJwtSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: machineScope,
    },
    {
      client_id: 'web',
      client_secret: webSecret,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [redirectUri],
      scope: 'openid profile offline_access',
    },
  ],
  jwks: { keys: [{ ...ec, alg: 'ES256', use: 'sig', kid: 'es256' }, { ...rsa, alg: 'RS256', use: 'sig', kid: 'rs256' }] as never },
  cookies: { keys: [secret()] },
  scopes: ['openid', 'offline_access', 'profile', machineScope],
  claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, name: 'Alice', email: 'alice@example.test' }) }),
  // As Gatehouse's defaults: one hour for every access token.
  ttl: { AccessToken: 3600, ClientCredentials: 3600 },
  // As Gatehouse: a refresh token with every code exchange of a client allowed the refresh grant
  // (the library's default wants offline_access, which it only keeps with openid).
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  // As Gatehouse and node-oauth2-server: every refresh rotates the refresh token (RFC 9700
  // §4.14.2); the library's default rotates a confidential client's token only late in its life.
  rotateRefreshToken: () => true,
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // The library's default policy, given explicitly so it does not warn on every start.
      allowedPolicy: async (ctx, client, token) => !(client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client?.clientId),
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined as unknown as string,
      useGrantedResource: async () => false,
      getResourceServerInfo: async (_ctx, resource) => {
        const alg = resources[resource];
        if (alg === undefined) throw new errors.InvalidTarget();
        return { scope: machineScope, audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
      },
    },
  },
};

const provider = new Provider(url, configuration);
const callback = provider.callback();
handler = (req, res) => {
  if (req.url?.startsWith('/interaction/')) {
    finishInteraction(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
    return;
  }
  callback(req, res);
};

/** Bench-only login and consent: "alice", granting every scope the request names. */
async function finishInteraction(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId: 'alice' } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId === undefined
    ? new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) })
    : (await provider.Grant.find(details.grantId))!;
  grant.addOIDCScope('openid profile offline_access');
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

exitWith(() => {
  server.closeAllConnections();
  server.close();
});

announce({
  type: 'ready',
  url,
  paths: { authorize: '/auth', token: '/token', introspect: '/token/introspection', userinfo: '/me' },
  machine: { clientId: 'machine', clientSecret: machineSecret, scope: machineScope },
  jwt: {
    ES256: { clientId: 'machine-jwt', clientSecret: machineJwtSecret, scope: machineScope, extraParams: { resource: 'https://api.bench.test/es256' } },
    RS256: { clientId: 'machine-jwt', clientSecret: machineJwtSecret, scope: machineScope, extraParams: { resource: 'https://api.bench.test/rs256' } },
  },
  web: {
    clientId: 'web',
    clientSecret: webSecret,
    redirectUri,
    oauthScope: 'profile offline_access',
    flowScope: 'openid profile',
    // Empty: the driver signs in through the interaction above and keeps the session cookies.
    cookie: '',
  },
});
