/**
 * Follow-up of issue 13 item 7: the sign-in throttle checks and counts an attempt in one atomic
 * step, so wrong guesses sent all at once cannot each pass a limit that had one attempt left. The
 * same twenty guesses are sent, all at once, to one in-process server, to one Redis-backed
 * server, and split between two instances sharing one Redis; no more than the limit may have
 * their password checked (401), the rest are refused (429). Redis applies the rules in a script
 * of its own, so one guess after another must also be told the same waits there as in process.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import type { LightMyRequestResponse } from 'fastify';
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
  'one in-process server': async (t, config) => [await startServer(t, config)],
  'one Redis-backed server': async (t, config, names) => countingInRedis(t, names, [await startServer(t, { ...config, redisUrl })]),
  'two instances sharing one Redis': async (t, config, names) =>
    countingInRedis(t, names, [await startServer(t, { ...config, redisUrl }), await startServer(t, { ...config, redisUrl })]),
};

async function startServer(t: TestContext, config: Partial<GatehouseConfig>): Promise<TestServer> {
  const built = await buildTestServer(config);
  t.after(() => built.close());
  return built;
}

/**
 * The servers, once each counts in Redis: until its connection is up a server counts nothing and
 * refuses nothing (fail open, by design), which would let a burst sent at once through unchecked.
 * Each sends wrong sign-ins from an address of its own until one is counted. This test's counts
 * are deleted from Redis when it ends (the keys of failure-counters.ts).
 */
async function countingInRedis(t: TestContext, names: Names, servers: TestServer[]): Promise<TestServer[]> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  t.after(async () => {
    const subnet = names.address(0).replace(/\.\d+$/, '.');
    const keys = [...(await redis.keys(`gatehouse-login:*${names.username}*`)), ...(await redis.keys(`gatehouse-login:ip:${subnet}*`))];
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  for (const [index, each] of servers.entries()) {
    const remoteAddress = names.address(200 + index);
    for (let probe = 1; (await redis.exists(`gatehouse-login:ip:${remoteAddress}`)) === 0; probe++) {
      if (probe > 50) assert.fail(`server ${index + 1} counted nothing in Redis after 50 sign-ins`);
      await (await preparedSignIn(each, `${names.username}-probe`, 'probe', remoteAddress))();
    }
  }
  return servers;
}

function uniqueNames(): Names {
  const [a, b] = randomBytes(2);
  return { username: `parallel-${randomBytes(6).toString('hex')}`, address: (index) => `10.${a}.${b}.${index + 1}` };
}

/** A sign-in from a browser that has its login form: the POST, ready to be sent. */
async function preparedSignIn(server: TestServer, username: string, secret: string, remoteAddress: string): Promise<() => Promise<LightMyRequestResponse>> {
  const page = await server.app.inject({ method: 'GET', url: '/login', remoteAddress });
  const jar = new CookieJar();
  jar.store(page);
  const body = form({ _csrf: formFields(page.body).get('_csrf')!, return_to: '/', username, password: secret });
  return () => server.app.inject({ method: 'POST', url: '/login', ...body, remoteAddress, headers: { ...body.headers, cookie: jar.header() } });
}

/**
 * Wrong guesses sent all at once: the i-th for `usernameOf(i)` from `addressOf(i)` to
 * `servers[i % servers.length]`, each from its own browser. Answers the status codes, tallied.
 */
async function guessAllAtOnce(servers: TestServer[], usernameOf: (index: number) => string, addressOf: (index: number) => string): Promise<Record<number, number>> {
  const signIns = await Promise.all(
    Array.from({ length: guesses }, (_unused, index) => preparedSignIn(servers[index % servers.length]!, usernameOf(index), `guess ${index}`, addressOf(index))),
  );
  const responses = await Promise.all(signIns.map((send) => send()));
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

for (const [deployment, deploy] of Object.entries(deployments)) {
  test(`${deployment}: one guess after another, every wait is the one the rules give`, async (t) => {
    const names = uniqueNames();
    // 1 s after 2 failures, doubling up to 5 s; the pair's hard limit at 6 waits out the window.
    const servers = await deploy(t, { ...generous, loginDelayAfterFailures: 2, loginDelayMaxSeconds: 5, loginAttemptsPerAccount: 6 }, names);
    for (const each of servers) await createTestUser(each, names.username);
    const answers: string[] = [];
    for (let guess = 0; guess < 12; guess++) {
      const response = await (await preparedSignIn(servers[guess % servers.length]!, names.username, `guess ${guess}`, names.address(0)))();
      if (response.statusCode !== 429) answers.push(String(response.statusCode));
      else {
        const wait = Number(response.headers['retry-after']);
        answers.push(`wait ${wait}`);
        for (const each of servers) each.clock.advance(wait);
      }
    }
    assert.deepEqual(answers, ['401', '401', 'wait 1', '401', 'wait 2', '401', 'wait 4', '401', 'wait 5', '401', 'wait 900', '401']);
  });
}
