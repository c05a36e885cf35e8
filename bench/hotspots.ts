/**
 * Where Gatehouse's CPU goes, layer by layer, in one process and without sockets, so that the
 * numbers hold on a busy machine: process CPU time (user + system) per operation, for the same
 * operation through the whole app (`inject`), through the domain functions, through the storage
 * interface, and as raw better-sqlite3 — the differences are the cost of each layer.
 *
 *   node --import tsx bench/hotspots.ts            (BENCH_HOTSPOT_N=5000 operations per line)
 */
import Database from 'better-sqlite3';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildServer } from '../src/server/app.ts';
import { registerClient } from '../src/server/clients/register-client.ts';
import { defaultConfig } from '../src/server/config/defaults.ts';
import { finishConfig } from '../src/server/config/load.ts';
import { createServerContext } from '../src/server/context.ts';
import { KeyEncryption } from '../src/server/keys/key-encryption.ts';
import { generateSecret, generateTimeOrderedIdentifier, generateToken, hashSecret } from '../src/server/keys/opaque-secret.ts';
import { signJwt } from '../src/server/keys/jws.ts';
import { authenticateClient } from '../src/server/tokens/client-authentication.ts';
import { exchangeClientCredentials } from '../src/server/tokens/client-credentials-grant.ts';
import { introspect } from '../src/server/tokens/introspection.ts';
import { systemClock } from '../src/shared/clock.ts';
import { openStorage } from '../src/storage/open-storage.ts';
import { basicAuthorization } from './servers/protocol.ts';
import { registerErrorHandler } from '../src/server/http/error-handler.ts';
import { registerFormBodyParser } from '../src/server/http/form-body.ts';
import { ServerMetrics } from '../src/server/operations/metrics.ts';
import { tokenRoutes } from '../src/server/tokens/routes.ts';

const n = Number(process.env.BENCH_HOTSPOT_N ?? 5000);
const concurrency = 32;
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-hotspots-'));
const databasePath = join(dir, 'gatehouse.db');
const keyEncryption = new KeyEncryption(randomBytes(32));
const config = finishConfig({
  ...defaultConfig(),
  port: 4999,
  issuer: 'http://127.0.0.1:4999',
  databaseUrl: `sqlite:${databasePath}`,
  production: true,
  keyEncryptionKey: randomBytes(32).toString('base64url'),
  scopes: { 'calendar.read': { description: 'Read your calendar events' } },
});
const storage = await openStorage(config.databaseUrl);
const ctx = createServerContext(config, storage, systemClock, keyEncryption);
await ctx.keys.ensureActiveKeys();
const machine = await registerClient({ name: 'm', redirectUris: [], scopes: ['calendar.read'], grantTypes: ['client_credentials'] }, ctx);
const machineJwt = await registerClient(
  { name: 'j', redirectUris: [], scopes: ['calendar.read'], grantTypes: ['client_credentials'], accessTokenFormat: 'jwt' },
  ctx,
);
const credentials = { clientId: machine.client.id, clientSecret: machine.clientSecret! };
const authorization = basicAuthorization(credentials);
const issuanceBody = 'grant_type=client_credentials&scope=calendar.read';
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded', authorization };

const devNull = pino.destination({ dest: '/dev/null', sync: true });
const appWithLogs = await buildServer({ config, storage, clock: systemClock, keyEncryption, logger: { level: 'info', destination: devNull } });
const appQuiet = await buildServer({ config, storage, clock: systemClock, keyEncryption, logger: false });
const bare = Fastify();
bare.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_request, body, done) => done(null, new URLSearchParams(String(body))));
bare.post('/token', async (_request, reply) => reply.header('cache-control', 'no-store').send({ access_token: generateSecret(), token_type: 'Bearer' }));

// Gatehouse's token routes with nothing else: the difference to `appQuiet` is the cost of the
// app-wide plugins and hooks (helmet, csrf, cookie, rate-limit, metrics, request ids).
const lean = Fastify();
registerFormBodyParser(lean);
registerErrorHandler(lean, () => {});
tokenRoutes(lean, ctx);
const leanHelmet = Fastify();
await leanHelmet.register(helmet);
registerFormBodyParser(leanHelmet);
registerErrorHandler(leanHelmet, () => {});
tokenRoutes(leanHelmet, ctx);
const leanMetrics = Fastify();
const metrics = new ServerMetrics(storage, systemClock);
leanMetrics.addHook('onResponse', async (request, reply) => {
  // What app.ts's recordRequest does for every response.
  const route = request.routeOptions.url ?? 'unmatched';
  metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
  metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
});
registerFormBodyParser(leanMetrics);
registerErrorHandler(leanMetrics, () => {});
tokenRoutes(leanMetrics, ctx);

const lines: Array<[string, number, number]> = [];
/** `perOp`: how many of the named unit one operation performs (CPU is reported per unit). */
async function measure(name: string, operation: (i: number) => Promise<unknown> | unknown, perOp = 1): Promise<void> {
  for (let i = 0; i < Math.min(1000, n / 4); i++) await operation(i);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await operation(next++);
    }),
  );
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  lines.push([name, (used.user + used.system) / n / perOp, (n * perOp) / seconds]);
  console.error(`${name}: ${((used.user + used.system) / n / perOp).toFixed(0)} µs CPU/op`);
}

const inject = (app: FastifyInstance, url: string, payload: string) =>
  app.inject({ method: 'POST', url, headers: formHeaders, payload }).then((response) => {
    if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}: ${response.body}`);
  });

// client_credentials issuance, layer by layer
await measure('issuance: whole app, info logs (production default)', () => inject(appWithLogs, '/token', issuanceBody));
await measure('issuance: whole app, logger off', () => inject(appQuiet, '/token', issuanceBody));
await measure('issuance: token routes alone in Fastify (no app-wide plugins or hooks)', () => inject(lean, '/token', issuanceBody));
await measure('issuance: token routes + @fastify/helmet', () => inject(leanHelmet, '/token', issuanceBody));
await measure('issuance: token routes + the metrics onResponse hook', () => inject(leanMetrics, '/token', issuanceBody));
await measure('baseline: bare Fastify inject, form body, random token', () =>
  bare.inject({ method: 'POST', url: '/token', headers: formHeaders, payload: issuanceBody }),
);
await measure('issuance: domain (authenticateClient + exchangeClientCredentials)', async () => {
  const client = await authenticateClient({ method: 'client_secret_basic', ...credentials }, ctx);
  return exchangeClientCredentials({ scope: 'calendar.read', resources: undefined }, client, ctx);
});
await measure('storage: findClient', () => storage.findClient(credentials.clientId));
await measure('storage: transaction with one insertAccessToken', () =>
  storage.transaction((tx) => tx.insertAccessToken(accessTokenRecord(credentials.clientId))),
);
await measure('storage: insertAccessToken outside a transaction', () => storage.insertAccessToken(accessTokenRecord(credentials.clientId)));

// The same work as raw better-sqlite3 on the same file (a second connection; WAL allows it).
const raw = new Database(databasePath);
raw.pragma('journal_mode = WAL');
raw.pragma('synchronous = NORMAL');
const insertSql = `insert into access_tokens (hash, family_id, client_id, account_id, scopes, audience, expires_at, revoked_at, created_at) values (?, ?, ?, null, ?, null, ?, null, ?)`;
const selectClientSql = 'select * from clients where id = ?';
const insert = raw.prepare(insertSql);
const selectClient = raw.prepare(selectClientSql);
const begin = raw.prepare('begin');
const commit = raw.prepare('commit');
// Keys as Gatehouse makes them: time-ordered, so that new rows append to the indexes.
const rowValues = () => [hashSecret(generateToken()), generateTimeOrderedIdentifier(), credentials.clientId, '["calendar.read"]', Date.now() + 3600_000, Date.now()];
await measure('raw better-sqlite3: cached statements, select client + begin/insert/commit', () => {
  selectClient.get(credentials.clientId);
  begin.run();
  insert.run(...rowValues());
  commit.run();
});
await measure('raw better-sqlite3: prepare() on every call (as Kysely\'s driver does)', () => {
  raw.prepare(selectClientSql).get(credentials.clientId);
  raw.prepare('begin').run();
  raw.prepare(insertSql).run(...rowValues());
  raw.prepare('commit').run();
});
await measure(
  'raw better-sqlite3: 32 inserts per transaction (group commit), per token',
  () => {
    begin.run();
    for (let i = 0; i < 32; i++) insert.run(...rowValues());
    commit.run();
  },
  32,
);

// introspection
const token = (await exchangeClientCredentials({ scope: 'calendar.read', resources: undefined }, machine.client, ctx)).access_token;
const introspectionBody = `token=${token}`;
await measure('introspection: whole app, info logs', () => inject(appWithLogs, '/introspect', introspectionBody));
await measure('introspection: domain (authenticateClient + introspect)', async () => {
  const caller = await authenticateClient({ method: 'client_secret_basic', ...credentials }, ctx);
  return introspect(token, undefined, caller, ctx);
});
await measure('storage: findAccessToken', () => storage.findAccessToken(hashSecret(token)));

// JWT access tokens
const jwtCredentials = { clientId: machineJwt.client.id, clientSecret: machineJwt.clientSecret! };
await measure('JWT issuance (ES256): whole app, info logs', () =>
  appWithLogs.inject({ method: 'POST', url: '/token', headers: { ...formHeaders, authorization: basicAuthorization(jwtCredentials) }, payload: issuanceBody }),
);
await measure('keys: activeKey(ES256) (one indexed row; the private key imported once per kid)', () => ctx.keys.activeKey('ES256'));
const es256 = await ctx.keys.activeKey('ES256');
await measure('jose: SignJWT ES256 with a cached key', () =>
  new SignJWT({ client_id: 'x', scope: 'calendar.read' }).setProtectedHeader({ alg: 'ES256', kid: es256.kid, typ: 'at+jwt' }).setIssuedAt().setExpirationTime('1h').sign(es256.privateKey),
);
const rs256 = await ctx.keys.activeKey('RS256');
await measure('node:crypto: signJwt ES256 (keys/jws.ts, what Gatehouse signs with)', () =>
  signJwt({ alg: 'ES256', kid: es256.kid, typ: 'at+jwt' }, { client_id: 'x', scope: 'calendar.read', iat: 1, exp: 2 }, es256.privateKey),
);
await measure('jose: SignJWT RS256 with a cached key', () =>
  new SignJWT({ client_id: 'x', scope: 'calendar.read' }).setProtectedHeader({ alg: 'RS256', kid: rs256.kid, typ: 'at+jwt' }).setIssuedAt().setExpirationTime('1h').sign(rs256.privateKey),
);
await measure('node:crypto: sha256 + 32 random bytes', () => createHash('sha256').update(randomBytes(32)).digest('base64url'));

console.log(`| operation (${n} each, ${concurrency} in flight) | CPU µs/op | ops/s (wall) |`);
console.log('|---|---:|---:|');
for (const [name, cpu, rate] of lines) console.log(`| ${name} | ${cpu.toFixed(0)} | ${Math.round(rate).toLocaleString('en')} |`);

raw.close();
await appWithLogs.close();
await appQuiet.close();
await bare.close();
await lean.close();
await leanHelmet.close();
await leanMetrics.close();
await storage.close();
rmSync(dir, { recursive: true, force: true });

function accessTokenRecord(clientId: string) {
  const now = Date.now();
  return {
    hash: hashSecret(generateToken()),
    familyId: generateTimeOrderedIdentifier(),
    clientId,
    accountId: null,
    scopes: ['calendar.read'],
    audience: null,
    expiresAt: now + 3600_000,
    revokedAt: null,
    createdAt: now,
  };
}
