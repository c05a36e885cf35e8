/**
 * Follow-up of issue 13 item 7: the sign-in throttle checks and counts an attempt in one atomic
 * step, so wrong guesses sent all at once cannot each pass a limit that had one attempt left. The
 * same twenty guesses are sent, all at once, to one in-process server, to one Redis-backed
 * server, and split between two instances sharing one Redis; no more than the limit may have
 * their password checked (401), the rest are refused (429).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import type { GatehouseConfig } from '../../src/server/config/defaults.ts';
import { CookieJar, buildTestServer, createTestUser, form, formFields, type TestServer } from '../support/test-server.ts';

const redisUrl = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const guesses = 20;
const limit = 5;
/** Every limit out of the way but the one a test is about. */
const generous = { loginAttemptsPerIp: 1000, loginAttemptsPerAccount: 1000, loginDelayAfterFailures: 1000 } satisfies Partial<GatehouseConfig>;

/** Names unique to one test, so that tests sharing the Redis never see each other's counts. */
interface Names {
  username: string;
  address(index: number): string;
}

/** How a test's servers are built: the instances its guesses are spread over. */
type Deployment = (t: TestContext, config: Partial<GatehouseConfig>, names: Names) => Promise<TestServer[]>;

const deployments: Record<string, Deployment> = {
  'one in-process server': async (t, config) => [await server(t, config)],
  'one Redis-backed server': async (t, config, names) => {
    forgetRedisCounts(t, names);
    return [await server(t, { ...config, redisUrl })];
  },
  'two instances sharing one Redis': async (t, config, names) => {
    forgetRedisCounts(t, names);
    return [await server(t, { ...config, redisUrl }), await server(t, { ...config, redisUrl })];
  },
};

async function server(t: TestContext, config: Partial<GatehouseConfig>): Promise<TestServer> {
  const built = await buildTestServer(config);
  t.after(() => built.close());
  return built;
}

/** Deletes this test's counts from Redis when it ends (the keys of failure-counters.ts). */
function forgetRedisCounts(t: TestContext, names: Names): void {
  t.after(async () => {
    const redis = new Redis(redisUrl, { lazyConnect: true });
    await redis.connect();
    const prefix = names.address(0).replace(/\.\d+$/, '.');
    const keys = [...(await redis.keys(`gatehouse-login:*${names.username}*`)), ...(await redis.keys(`gatehouse-login:ip:${prefix}*`))];
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
}

function uniqueNames(): Names {
  const [a, b] = randomBytes(2);
  return { username: `parallel-${randomBytes(6).toString('hex')}`, address: (index) => `10.${a}.${b}.${index + 1}` };
}

/**
 * Wrong guesses sent all at once: the i-th for `usernameOf(i)` from `addressOf(i)` to
 * `servers[i % servers.length]`, each with its own browser's login form. Answers the status codes,
 * tallied.
 */
async function guessAllAtOnce(servers: TestServer[], usernameOf: (index: number) => string, addressOf: (index: number) => string): Promise<Record<number, number>> {
  const attempts = await Promise.all(
    Array.from({ length: guesses }, async (_unused, index) => {
      const target = servers[index % servers.length]!;
      const remoteAddress = addressOf(index);
      const page = await target.app.inject({ method: 'GET', url: '/login', remoteAddress });
      const jar = new CookieJar();
      jar.store(page);
      const body = form({ _csrf: formFields(page.body).get('_csrf')!, return_to: '/', username: usernameOf(index), password: `guess ${index}` });
      return () => target.app.inject({ method: 'POST', url: '/login', ...body, remoteAddress, headers: { ...body.headers, cookie: jar.header() } });
    }),
  );
  const responses = await Promise.all(attempts.map((send) => send()));
  const tally: Record<number, number> = {};
  for (const { statusCode } of responses) tally[statusCode] = (tally[statusCode] ?? 0) + 1;
  return tally;
}

for (const [deployment, deploy] of Object.entries(deployments)) {
  test(`${deployment}: ${guesses} guesses at once for one account from one address check ${limit} passwords`, async (t) => {
    const names = uniqueNames();
    const servers = await deploy(t, { ...generous, loginAttemptsPerAccount: limit }, names);
    for (const each of servers) await createTestUser(each, names.username);
    assert.deepEqual(await guessAllAtOnce(servers, () => names.username, () => names.address(0)), { 401: limit, 429: guesses - limit });
  });

  test(`${deployment}: ${guesses} guesses at once from one address for ${guesses} usernames check ${limit} passwords`, async (t) => {
    const names = uniqueNames();
    const servers = await deploy(t, { ...generous, loginAttemptsPerIp: limit }, names);
    assert.deepEqual(await guessAllAtOnce(servers, (index) => `${names.username}-${index}`, () => names.address(0)), { 401: limit, 429: guesses - limit });
  });

  test(`${deployment}: ${guesses} guesses at once for one account from ${guesses} addresses check ${limit} passwords before the wait`, async (t) => {
    const names = uniqueNames();
    const servers = await deploy(t, { ...generous, loginDelayAfterFailures: limit }, names);
    for (const each of servers) await createTestUser(each, names.username);
    assert.deepEqual(await guessAllAtOnce(servers, () => names.username, names.address), { 401: limit, 429: guesses - limit });
  });
}
