/**
 * The certified Node OpenID provider (`oidc-provider` 9) as the benchmark runs it: its built-in
 * in-memory adapter (tokens live in process memory and die with it), `client_credentials`,
 * introspection, and resource indicators for JWT access tokens — one resource per signing
 * algorithm, so one process serves both the ES256 and the RS256 JWT workloads.
 *
 * The built-in adapter keeps its entries in an LRU of 1 000–2 000 entries (it is meant for quick
 * starts), so under load it forgets tokens, codes, sessions and grants: codes minted ahead of a
 * measurement and refresh tokens in use would vanish. The adapter's code runs unchanged here;
 * only its store is replaced by an uncapped Map with the same expiry rules, so it holds every
 * token until it expires, as node-oauth2-server's Maps and Gatehouse's database do.
 *
 * Its login and consent are interactions an application implements; here a bench-only handler
 * logs a new user in at each sign-in and grants what was asked, so a browserless client that keeps the cookies
 * reaches the code redirect, and later requests with the session cookie go straight through.
 */
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { errors, type Configuration } from 'oidc-provider';
import { announce, exitWith } from './protocol.ts';

/** The LRU's interface (get, set with maxAge, has, delete, clear, size) without its cap. */
class UncappedStore {
  readonly #entries = new Map<string, { value: unknown; expiry: number | undefined }>();

  get(key: string): unknown {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiry !== undefined && entry.expiry <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: unknown, { maxAge }: { maxAge?: number } = {}): this {
    const expiry = typeof maxAge === 'number' && maxAge !== Number.POSITIVE_INFINITY ? Date.now() + maxAge : undefined;
    this.#entries.set(key, { value, expiry });
    return this;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}

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
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, name: `User ${sub}`, email: `${sub}@example.test` }) }),
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

// Deep import: the adapter class the provider uses by default, given the uncapped store.
const memoryAdapterModule = 'oidc-provider/lib/adapters/memory_adapter.js';
const { default: MemoryAdapter } = (await import(memoryAdapterModule)) as {
  default: new (model: string, store: UncappedStore) => NonNullable<Configuration['adapter']> extends (name: string) => infer A ? A : never;
};
const store = new UncappedStore();
const provider = new Provider(url, { ...configuration, adapter: (model: string) => new MemoryAdapter(model, store) });
if (process.env.BENCH_DEBUG) {
  provider.on('grant.error', (_ctx, error: { error_detail?: string; message: string }) => console.error(`grant.error: ${error.error_detail ?? error.message}`));
}
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

let signIns = 0;

/** Bench-only login and consent: a new user per sign-in, granted every scope the request names. */
async function finishInteraction(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    // Each sign-in is another user, so each has a session and a grant of its own.
    await provider.interactionFinished(req, res, { login: { accountId: `user${signIns++}` } }, { mergeWithLastSubmission: false });
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
    cookies: [],
  },
});

