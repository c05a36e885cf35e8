/**
 * Gatehouse as the benchmark runs it: `startServer` (what `gatehouse start` calls) on a fresh
 * SQLite file in WAL mode with the production defaults — production mode, info-level request
 * logs to stdout (the driver points stdout at /dev/null), migrations on start. Before it starts,
 * the setup registers the clients, 32 accounts each with a session and remembered consent, and
 * optionally inserts `BENCH_PREFILL` live access tokens straight into the table.
 *
 * Environment: BENCH_SIGNING_ALG (ES256 | RS256, default ES256) for JWT access tokens,
 * BENCH_PREFILL (number of live tokens, default 0), BENCH_GATEHOUSE_LOG_LEVEL (default: the
 * production default, info).
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import { defaultConfig } from '../../src/server/config/defaults.ts';
import { finishConfig } from '../../src/server/config/load.ts';
import { rememberConsent } from '../../src/server/authorize/remembered-consent.ts';
import { createServerContext } from '../../src/server/context.ts';
import { KeyEncryption } from '../../src/server/keys/key-encryption.ts';
import { sessionCookieName } from '../../src/server/login/session-cookie.ts';
import { startSession } from '../../src/server/login/sessions.ts';
import { startServer } from '../../src/server/main.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { announce, benchUsers, envNumber, exitWith, type ServerMessage } from './protocol.ts';

const signingAlg = process.env.BENCH_SIGNING_ALG === 'RS256' ? 'RS256' : 'ES256';
const prefill = envNumber('BENCH_PREFILL', 0);
const machineScope = 'calendar.read';
// Never followed: the driver reads the code from the Location header. https, because a web
// (confidential) client may not register loopback http (RFC 8252 §7.3; clients/redirect-uri.ts).
const redirectUri = 'https://bench.example/callback';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
const databasePath = join(dir, 'gatehouse.db');
const port = await freePort();
const keyEncryptionKey = randomBytes(32).toString('base64url');
const config = finishConfig({
  ...defaultConfig(),
  port,
  host: '127.0.0.1',
  issuer: `http://127.0.0.1:${port}`,
  databaseUrl: `sqlite:${databasePath}`,
  production: true,
  keyEncryptionKey,
  accessTokenSigningAlg: signingAlg,
  scopes: { [machineScope]: { description: 'Read your calendar events' } },
  ...(process.env.BENCH_GATEHOUSE_LOG_LEVEL ? { logLevel: process.env.BENCH_GATEHOUSE_LOG_LEVEL } : {}),
});

// Setup through the domain functions, on the same database the server will open.
const storage = await openStorage(config.databaseUrl);
const ctx = createServerContext(config, storage, systemClock, new KeyEncryption(Buffer.from(keyEncryptionKey, 'base64url')));
const machine = await registerClient(
  { name: 'bench machine', redirectUris: [], scopes: [machineScope], grantTypes: ['client_credentials'] },
  ctx,
);
const machineJwt = await registerClient(
  { name: 'bench machine (JWT)', redirectUris: [], scopes: [machineScope], grantTypes: ['client_credentials'], accessTokenFormat: 'jwt' },
  ctx,
);
const web = await registerClient(
  { name: 'bench web app', redirectUris: [redirectUri], scopes: ['openid', 'profile', 'offline_access'], grantTypes: ['authorization_code', 'refresh_token'] },
  ctx,
);
const cookies: string[] = [];
for (let user = 0; user < benchUsers; user++) {
  const account = await createAccount({ username: `user${user}`, password: 'correct horse battery staple', name: `User ${user}`, email: `user${user}@example.test` }, ctx);
  const session = await startSession(account, ctx);
  await rememberConsent(account.id, web.client.id, ['openid', 'profile', 'offline_access'], ctx);
  cookies.push(`${sessionCookieName}=${session.cookieValue}`);
}
// The signing keys of a first start (RSA 2048 and P-256 generation), timed apart from the start.
const keysAt = performance.now();
await ctx.keys.ensureActiveKeys();
const keyGenerationMs = performance.now() - keysAt;
await storage.close();

// In a process of its own, so that its memory (a large page cache) is not the server's.
if (prefill > 0) await prefillTokens(databasePath, machine.client.id, prefill);

const startedAt = performance.now();
const server = await startServer(config);
const startMs = performance.now() - startedAt;
exitWith(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

announce({
  type: 'ready',
  url: server.url,
  startMs,
  keyGenerationMs,
  paths: { authorize: '/authorize', token: '/token', introspect: '/introspect', userinfo: '/userinfo' },
  machine: { clientId: machine.client.id, clientSecret: machine.clientSecret!, scope: machineScope },
  jwt: { [signingAlg]: { clientId: machineJwt.client.id, clientSecret: machineJwt.clientSecret!, scope: machineScope } },
  web: {
    clientId: web.client.id,
    clientSecret: web.clientSecret!,
    redirectUri,
    oauthScope: 'profile offline_access',
    flowScope: 'openid profile',
    cookies,
  },
});

function prefillTokens(path: string, clientId: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./prefill-tokens.ts', import.meta.url)), [path, clientId, String(count)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (message: ServerMessage) => announce(message));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`inserting ${count} tokens failed (exit code ${code})`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const found = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(found));
    });
  });
}
