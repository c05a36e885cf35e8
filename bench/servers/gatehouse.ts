/**
 * Gatehouse as the benchmark runs it: `startServer` (what `gatehouse start` calls) on a fresh
 * SQLite file in WAL mode with the production defaults — production mode, info-level request
 * logs to stdout (the driver points stdout at /dev/null), migrations on start. Before it starts,
 * the setup registers the clients, an account with a session and remembered consent, and
 * optionally inserts `BENCH_PREFILL` live access tokens straight into the table.
 *
 * Environment: BENCH_SIGNING_ALG (ES256 | RS256, default ES256) for JWT access tokens,
 * BENCH_PREFILL (number of live tokens, default 0), BENCH_GATEHOUSE_LOG_LEVEL (default: the
 * production default, info).
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccount } from '../../src/server/accounts/create-account.ts';
import { registerClient } from '../../src/server/clients/register-client.ts';
import { defaultConfig } from '../../src/server/config/defaults.ts';
import { finishConfig } from '../../src/server/config/load.ts';
import { rememberConsent } from '../../src/server/consent/remembered-consent.ts';
import { createServerContext } from '../../src/server/context.ts';
import { KeyEncryption } from '../../src/server/keys/key-encryption.ts';
import { sessionCookieName } from '../../src/server/login/session-cookie.ts';
import { startSession } from '../../src/server/login/sessions.ts';
import { startServer } from '../../src/server/main.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { announce, envNumber, exitWith } from './protocol.ts';

const signingAlg = process.env.BENCH_SIGNING_ALG === 'RS256' ? 'RS256' : 'ES256';
const prefill = envNumber('BENCH_PREFILL', 0);
const machineScope = 'calendar.read';
const redirectUri = 'http://127.0.0.1:9/callback';

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
const account = await createAccount({ username: 'alice', password: 'correct horse battery staple', name: 'Alice', email: 'alice@example.test' }, ctx);
const session = await startSession(account, ctx);
await rememberConsent(account.id, web.client.id, ['openid', 'profile', 'offline_access'], ctx);
// The signing keys of a first start (RSA 2048 and P-256 generation), timed apart from the start.
const keysAt = performance.now();
await ctx.keys.ensureActiveKeys();
const keyGenerationMs = performance.now() - keysAt;
await storage.close();

if (prefill > 0) await insertLiveTokens(databasePath, machine.client.id, prefill);

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
    cookie: `${sessionCookieName}=${session.cookieValue}`,
  },
});

/**
 * Live access tokens of the machine client, as Gatehouse itself stores them (SHA-256 of 256 random
 * bits), in one transaction with better-sqlite3: the "cost growth" workload's database.
 */
async function insertLiveTokens(path: string, clientId: string, count: number): Promise<void> {
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  // A large page cache for this one-off connection only: random 256-bit keys land all over the
  // primary-key index, and the default 2 MB cache would make the setup crawl.
  database.pragma('cache_size = -1048576');
  const insert = database.prepare(
    `insert into access_tokens (hash, family_id, client_id, account_id, scopes, audience, expires_at, revoked_at, created_at)
     values (?, ?, ?, null, ?, null, ?, null, ?)`,
  );
  const now = Date.now();
  const expiresAt = now + 7 * 24 * 3600 * 1000;
  const scopes = JSON.stringify([machineScope]);
  const batch = 50_000;
  const insertBatch = (size: number) => {
    const random = randomBytes(size * 48);
    for (let i = 0; i < size; i++) {
      const hash = createHash('sha256').update(random.subarray(i * 48, i * 48 + 32)).digest('base64url');
      insert.run(hash, random.subarray(i * 48 + 32, i * 48 + 48).toString('hex'), clientId, scopes, expiresAt, now);
    }
  };
  // One transaction for all rows, opened by hand so that the event loop can deliver progress
  // messages between batches.
  const started = performance.now();
  database.exec('begin');
  for (let done = 0; done < count; done += batch) {
    insertBatch(Math.min(batch, count - done));
    const inserted = Math.min(done + batch, count);
    if (inserted % 200_000 === 0 || inserted === count) {
      announce({ type: 'progress', text: `${inserted.toLocaleString('en')} / ${count.toLocaleString('en')} tokens inserted` });
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  database.exec('commit');
  database.pragma('wal_checkpoint(TRUNCATE)');
  database.close();
  announce({ type: 'progress', text: `${count.toLocaleString('en')} live tokens in ${((performance.now() - started) / 1000).toFixed(1)} s` });
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
