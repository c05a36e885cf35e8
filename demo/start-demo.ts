import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  discoverProvider,
  githubProvider,
  googleProvider,
  kakaoProvider,
  naverProvider,
  TokenVault,
  type Provider,
} from '../src/client/index.ts';
import { systemClock } from '../src/shared/clock.ts';
import { createAccount } from '../src/server/accounts/create-account.ts';
import { registerClient } from '../src/server/clients/register-client.ts';
import { defaultConfig } from '../src/server/config/defaults.ts';
import { finishConfig } from '../src/server/config/load.ts';
import { createServerContext } from '../src/server/context.ts';
import { KeyEncryption } from '../src/server/keys/key-encryption.ts';
import { startServer, type RunningServer } from '../src/server/main.ts';
import { buildCalendarApi } from './calendar-api.ts';
import { buildMineApp } from './mine-app.ts';

export interface DemoOptions {
  /** Folder for the demo's databases and its generated secrets. */
  dataDir: string;
  ports: { gatehouse: number; calendar: number; mine: number };
  /** Lifetime of Mine's access tokens: short, so a refresh shows within a minute. */
  accessTokenTtlSeconds: number;
  /**
   * How long before expiry Mine's vault refreshes a token. Default: a sixth of the token lifetime,
   * at most 60 s — the vault's own 60 s default would refresh a 30 s demo token on every request.
   */
  refreshSkewSeconds?: number;
  env: NodeJS.ProcessEnv;
}

export interface RunningDemo {
  urls: { gatehouse: string; calendar: string; mine: string };
  demoUser: { username: string; password: string };
  stop(): Promise<void>;
}

interface DemoSecrets {
  keyEncryptionKey: string;
  vaultKey: string;
  cookieSecret: string;
  demoPassword: string;
  mineClient?: { clientId: string; clientSecret: string };
}

/**
 * The seed's three parties on one machine: Gatehouse (their authorization server), a calendar
 * API (their resource server) and Mine (our client). Secrets are generated on first start and
 * kept in the data folder, so a restart keeps users, tokens and the registered client.
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  mkdirSync(options.dataDir, { recursive: true });
  const secrets = loadSecrets(join(options.dataDir, 'demo-secrets.json'));
  const urls = {
    gatehouse: `http://127.0.0.1:${options.ports.gatehouse}`,
    calendar: `http://127.0.0.1:${options.ports.calendar}`,
    mine: `http://127.0.0.1:${options.ports.mine}`,
  };
  const config = finishConfig({
    ...defaultConfig(),
    port: options.ports.gatehouse,
    issuer: urls.gatehouse,
    databaseUrl: `sqlite:${join(options.dataDir, 'gatehouse.db')}`,
    keyEncryptionKey: secrets.keyEncryptionKey,
    logLevel: 'warn',
    // Mine is a web (confidential) client on http://127.0.0.1:3000, so that the demo runs
    // offline without certificates. Only for the demo: a web client needs https otherwise, and
    // production mode refuses this option (config/load.ts).
    allowInsecureHttpRedirectUris: true,
    scopes: {
      'calendar.read': { description: 'See your calendar events' },
      'calendar.write': { description: 'Add events to your calendar' },
    },
    resources: { [urls.calendar]: { accessTokenFormat: 'jwt' } },
  });
  const started: { close(): Promise<unknown> }[] = [];
  const stop = async () => {
    for (const part of started.reverse()) await part.close();
  };
  try {
    const gatehouse: RunningServer = await startServer(config);
    started.push({ close: () => gatehouse.stop() });
    await seed(config, secrets, options, urls);
    writeFileSync(join(options.dataDir, 'demo-secrets.json'), `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });

    const calendar = await buildCalendarApi({ issuer: urls.gatehouse, audience: urls.calendar, databasePath: join(options.dataDir, 'calendar.db') });
    await listen(calendar, options.ports.calendar);
    started.push(calendar);

    const { providers, unconfigured } = await demoProviders(urls.gatehouse, secrets.mineClient!, options.env);
    const vault = await TokenVault.open({
      databaseUrl: `sqlite:${join(options.dataDir, 'mine.db')}`,
      keys: { current: 'k1', keys: { k1: secrets.vaultKey } },
      providers,
      refreshSkewSeconds: options.refreshSkewSeconds ?? Math.min(60, Math.floor(options.accessTokenTtlSeconds / 6)),
    });
    started.push({ close: () => vault.close() });
    const mine = await buildMineApp({ baseUrl: urls.mine, providers, unconfigured, vault, calendarUrl: urls.calendar, cookieSecret: secrets.cookieSecret });
    await listen(mine, options.ports.mine);
    started.push(mine);
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, demoUser: { username: 'demo', password: secrets.demoPassword }, stop };
}

function loadSecrets(file: string): DemoSecrets {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoSecrets;
  const key = () => randomBytes(32).toString('base64url');
  return { keyEncryptionKey: key(), vaultKey: key(), cookieSecret: key(), demoPassword: randomBytes(9).toString('base64url') };
}

/** First start only: Mine's client registration at Gatehouse, and the demo user. */
async function seed(config: ReturnType<typeof finishConfig>, secrets: DemoSecrets, options: DemoOptions, urls: RunningDemo['urls']) {
  if (secrets.mineClient !== undefined) return;
  const { openStorage } = await import('../src/storage/open-storage.ts');
  const storage = await openStorage(config.databaseUrl);
  try {
    const ctx = createServerContext(config, storage, systemClock, new KeyEncryption(Buffer.from(secrets.keyEncryptionKey, 'base64url')));
    const { client, clientSecret } = await registerClient(
      {
        name: 'Mine',
        redirectUris: [`${urls.mine}/callback/gatehouse`],
        scopes: ['openid', 'profile', 'email', 'offline_access', 'calendar.read', 'calendar.write'],
        resources: [urls.calendar],
        accessTokenTtlSeconds: options.accessTokenTtlSeconds,
      },
      ctx,
    );
    secrets.mineClient = { clientId: client.id, clientSecret: clientSecret! };
    if ((await storage.findAccountByUsername('demo')) === undefined) {
      await createAccount({ username: 'demo', password: secrets.demoPassword, name: 'Demo User', email: 'demo@example.com' }, ctx);
    }
  } finally {
    await storage.close();
  }
}

/** Gatehouse always; the others when their credentials are in the environment. */
async function demoProviders(issuer: string, mine: { clientId: string; clientSecret: string }, env: NodeJS.ProcessEnv) {
  const gatehouse = await discoverProvider(issuer, { ...mine, id: 'gatehouse', displayName: 'Gatehouse' });
  // Mine asks for its access token for the calendar API (RFC 8707 `resource`), and Gatehouse's
  // /userinfo refuses tokens meant for another audience (issue 13 item 6), so Mine reads the
  // profile from the ID token, which carries the profile and email claims its scopes allow.
  const providers: Provider[] = [{ ...gatehouse, userinfoEndpoint: undefined }];
  const unconfigured: { id: string; displayName: string; envHint: string }[] = [];
  const presets = [
    ['github', 'GitHub', githubProvider],
    ['google', 'Google', googleProvider],
    ['kakao', 'Kakao', kakaoProvider],
    ['naver', 'Naver', naverProvider],
  ] as const;
  for (const [id, displayName, preset] of presets) {
    const prefix = id.toUpperCase();
    const clientId = env[`${prefix}_CLIENT_ID`];
    const clientSecret = env[`${prefix}_CLIENT_SECRET`];
    if (clientId) providers.push(preset({ clientId, ...(clientSecret ? { clientSecret } : {}) }));
    else unconfigured.push({ id, displayName, envHint: `${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET` });
  }
  return { providers, unconfigured };
}

async function listen(app: FastifyInstance, port: number): Promise<void> {
  await app.listen({ port, host: '127.0.0.1' });
}
