/**
 * The workloads of issue 6, each as a group of server processes started together and one or more
 * result tables whose targets are measured interleaved (A B C A B C …). A target is one server
 * answering one kind of request; `load` is called before every measurement, outside the measured
 * window, because some inputs are single use (codes) or change (rotating refresh tokens).
 */
import { resolve } from 'node:path';
import type { ServerProcess, ServerSpec } from './harness/server-process.ts';
import type { FixedRequest, LoadSpec, SequenceRequest } from './harness/load.ts';
import {
  authorizePath,
  clientCredentialsBody,
  codeExchangeBody,
  codeFromLocation,
  form,
  formContentType,
  machineToken,
  machineTokens,
  mintCodes,
  refreshBody,
  signIn,
  userTokens,
} from './harness/oauth-client.ts';
import { basicAuthorization, benchUsers, type ClientCredentialsPair, type ReadyMessage } from './servers/protocol.ts';

export interface BenchSettings {
  quick: boolean;
  connections: number;
  /** Length of one measurement. */
  seconds: number;
  /** Length of the one warm-up run per target, discarded. */
  warmupSeconds: number;
  rounds: number;
  /** Codes redeemed per measurement of the code exchange (each needs a fresh code). */
  codesPerMeasurement: number;
  /** Live tokens in the database for the large case of the cost-growth workload. */
  growthTokens: number;
  /** Another checkout of Gatehouse to measure beside this one (BENCH_BASELINE), or undefined. */
  baseline?: string;
}

export type Phase = 'warmup' | 'measure';

export interface Target {
  label: string;
  /** Name of the server process (a `ServerSpec.name` of the group). */
  server: string;
  /** Requests per reported unit: 3 for a whole flow (authorize, token, userinfo). */
  perUnit?: number;
  load(phase: Phase): Promise<LoadSpec>;
}

export interface ResultTable {
  key: string;
  title: string;
  unit: 'req/s' | 'flows/s';
  targets: Target[];
  /** Label of the target every row is divided by ("× floor"), when the table has one. */
  floor?: string;
  /** Pairs of labels printed as "A ÷ B". */
  comparisons: Array<[string, string]>;
  /** What the reader must know to read the table honestly. */
  notes: string[];
}

export interface WorkloadGroup {
  key: string;
  /** Started first, all at once. */
  servers: ServerSpec[];
  /** Started once the first ones are ready (an API needs its issuer's URL). */
  dependentServers?: (ready: Map<string, ReadyMessage>) => ServerSpec[];
  tables(servers: Map<string, ServerProcess>, settings: BenchSettings): Promise<ResultTable[]>;
}

const GATEHOUSE = 'Gatehouse';
const OIDC = 'oidc-provider';
const NODE_OAUTH2 = 'node-oauth2-server';
const FLOOR = 'floor';
const FLOOR_SQLITE = 'floor + SQLite';

const gatehouse: ServerSpec = { name: 'gatehouse', script: 'gatehouse.ts' };
const oidcProvider: ServerSpec = { name: 'oidc-provider', script: 'oidc-provider.ts' };
const nodeOauth2: ServerSpec = { name: 'node-oauth2-server', script: 'node-oauth2-server.ts' };
const floor: ServerSpec = { name: 'floor', script: 'floor.ts' };
const floorSqlite: ServerSpec = { name: 'floor-sqlite', script: 'floor-sqlite.ts' };

function readyOf(servers: Map<string, ServerProcess>, name: string): ReadyMessage {
  const server = servers.get(name);
  if (server === undefined) throw new Error(`no server "${name}" in this group`);
  return server.ready;
}

function post(ready: ReadyMessage, path: string, client: ClientCredentialsPair, body: string): FixedRequest {
  return { method: 'POST', url: ready.url + path, headers: { 'Content-Type': formContentType, Authorization: basicAuthorization(client) }, body };
}

function fixed(request: FixedRequest): Target['load'] {
  return async () => ({ kind: 'fixed', request });
}

function issuanceTarget(label: string, server: string, ready: ReadyMessage, client = ready.machine!): Target {
  return { label, server, load: fixed(post(ready, ready.paths.token, client, clientCredentialsBody(client))) };
}

function bearerGet(label: string, server: string, url: string, token: string): Target {
  return { label, server, load: fixed({ method: 'GET', url, headers: { Authorization: `Bearer ${token}` } }) };
}

/**
 * Session cookies of the web client's users: given by the server, or obtained by signing in as
 * many users. Requests are spread over the users, as a real server's load is.
 */
async function sessionCookies(ready: ReadyMessage): Promise<string[]> {
  const web = ready.web!;
  if (web.cookies.length > 0) return web.cookies;
  const cookies: string[] = [];
  for (let user = 0; user < benchUsers; user++) cookies.push(await signIn(ready, web, 'openid profile offline_access'));
  return cookies;
}

function header(headers: SequenceRequest['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** Workload 5a: each request redeems a fresh code (minted just before the measurement) with PKCE. */
async function codeExchangeTarget(label: string, server: string, ready: ReadyMessage, settings: BenchSettings): Promise<Target> {
  const web = ready.web!;
  const cookies = await sessionCookies(ready);
  return {
    label,
    server,
    async load(phase) {
      const amount = phase === 'warmup' ? Math.ceil(settings.codesPerMeasurement / 4) : settings.codesPerMeasurement;
      // Every connection builds its first request up front: a few spare codes.
      const codes = await mintCodes(ready, web, cookies, web.oauthScope, amount + settings.connections + 8);
      let next = 0;
      return {
        kind: 'sequence',
        origin: ready.url,
        amount,
        requests: [
          {
            method: 'POST',
            path: ready.paths.token,
            headers: { 'content-type': formContentType, authorization: basicAuthorization(web) },
            setupRequest: (request) => ({ ...request, body: codeExchangeBody(web, codes[next++] ?? 'no-code-left') }),
            onResponse: (status, body) => {
              if (status !== 200 && process.env.BENCH_DEBUG) console.error(`code ${label}: ${status} ${body}`);
            },
          },
        ],
      };
    },
  };
}

/**
 * Workload 5b: the refresh grant. Refresh tokens rotate (each is single use), so the connections
 * share a pool: a request takes one, its answer puts the successor back.
 */
async function refreshTarget(label: string, server: string, ready: ReadyMessage, settings: BenchSettings): Promise<Target> {
  const web = ready.web!;
  const cookies = await sessionCookies(ready);
  const pool: string[] = [];
  let user = 0;
  // A measurement ends with requests in flight whose successors never come back: top the pool up
  // (through whole code flows, outside the measured window) before each one.
  const topUp = async () => {
    const wanted = settings.connections + 8;
    const worker = async () => {
      while (pool.length < wanted) {
        const tokens = await userTokens(ready, web, cookies[user++ % cookies.length]!, web.oauthScope);
        if (tokens.refresh_token === undefined) throw new Error(`${label}: the code exchange issued no refresh token`);
        pool.push(tokens.refresh_token);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  };
  await topUp();
  const request: SequenceRequest = {
    method: 'POST',
    path: ready.paths.token,
    headers: { 'content-type': formContentType, authorization: basicAuthorization(web) },
    setupRequest: (built, context) => {
      const token = pool.shift() ?? 'no-refresh-token-left';
      (context as { token?: string }).token = token;
      return { ...built, body: refreshBody(token) };
    },
    onResponse: (status, body, context) => {
      const used = (context as { token?: string }).token;
      if (status !== 200 && process.env.BENCH_DEBUG) console.error(`refresh ${label}: ${status} ${body} for ${used}`);
      if (status !== 200) return;
      const successor = (JSON.parse(body) as { refresh_token?: string }).refresh_token ?? used;
      if (successor !== undefined) pool.push(successor);
    },
  };
  return {
    label,
    server,
    async load() {
      await topUp();
      return { kind: 'sequence', origin: ready.url, requests: [request] };
    },
  };
}

/** Workload 6: /authorize (session cookie, remembered consent) → 302 with code → /token → /userinfo. */
async function flowTarget(label: string, server: string, ready: ReadyMessage): Promise<Target> {
  const web = ready.web!;
  const cookies = await sessionCookies(ready);
  let user = 0;
  type FlowContext = { code?: string; accessToken?: string };
  const requests: SequenceRequest[] = [
    {
      method: 'GET',
      path: authorizePath(ready, web, web.flowScope),
      setupRequest: (request) => ({ ...request, headers: { ...request.headers, cookie: cookies[user++ % cookies.length]! } }),
      onResponse: (_status, _body, context, headers) => {
        (context as FlowContext).code = codeFromLocation(header(headers, 'location'), web);
      },
    },
    {
      method: 'POST',
      path: ready.paths.token,
      headers: { 'content-type': formContentType, authorization: basicAuthorization(web) },
      // A falsy return starts the flow over (counted by autocannon as a reset).
      setupRequest: (request, context) => {
        const { code } = context as FlowContext;
        return (code === undefined ? undefined : { ...request, body: codeExchangeBody(web, code) }) as SequenceRequest;
      },
      onResponse: (status, body, context) => {
        (context as FlowContext).accessToken = status === 200 ? (JSON.parse(body) as { access_token: string }).access_token : undefined;
      },
    },
    {
      method: 'GET',
      path: ready.paths.userinfo!,
      setupRequest: (request, context) => {
        const { accessToken } = context as FlowContext;
        return (accessToken === undefined ? undefined : { ...request, headers: { ...request.headers, authorization: `Bearer ${accessToken}` } }) as SequenceRequest;
      },
    },
  ];
  return { label, server, perUnit: 3, load: async () => ({ kind: 'sequence', origin: ready.url, requests }) };
}

const fairness = {
  oidcMemory: `${OIDC}: its built-in in-memory adapter, uncapped (tokens are lost on restart); ${NODE_OAUTH2}: in-memory Maps. Gatehouse and ${FLOOR_SQLITE} commit every token to SQLite (WAL) before answering.`,
  gatehouseLogs: 'Gatehouse runs with its production defaults, including one info log line per request (to /dev/null here).',
};

export const workloadGroups: WorkloadGroup[] = [
  {
    key: 'issuance',
    servers: [gatehouse, oidcProvider, nodeOauth2, floor, floorSqlite],
    async tables(servers) {
      return [
        {
          key: 'issuance',
          title: '1. client_credentials token issuance (opaque access tokens)',
          unit: 'req/s',
          floor: FLOOR,
          targets: [
            issuanceTarget(GATEHOUSE, 'gatehouse', readyOf(servers, 'gatehouse')),
            issuanceTarget(OIDC, 'oidc-provider', readyOf(servers, 'oidc-provider')),
            issuanceTarget(NODE_OAUTH2, 'node-oauth2-server', readyOf(servers, 'node-oauth2-server')),
            issuanceTarget(FLOOR, 'floor', readyOf(servers, 'floor')),
            issuanceTarget(FLOOR_SQLITE, 'floor-sqlite', readyOf(servers, 'floor-sqlite')),
          ],
          comparisons: [
            [GATEHOUSE, OIDC],
            [GATEHOUSE, NODE_OAUTH2],
            [GATEHOUSE, FLOOR_SQLITE],
          ],
          notes: [fairness.oidcMemory, fairness.gatehouseLogs],
        },
      ];
    },
  },
  {
    key: 'jwt',
    servers: [
      { name: 'gatehouse-es256', script: 'gatehouse.ts', env: { BENCH_SIGNING_ALG: 'ES256' } },
      { name: 'gatehouse-rs256', script: 'gatehouse.ts', env: { BENCH_SIGNING_ALG: 'RS256' } },
      oidcProvider,
      floor,
    ],
    async tables(servers) {
      const es = readyOf(servers, 'gatehouse-es256');
      const rs = readyOf(servers, 'gatehouse-rs256');
      const oidc = readyOf(servers, 'oidc-provider');
      return [
        {
          key: 'jwt',
          title: '2. client_credentials issuance of JWT access tokens (RFC 9068)',
          unit: 'req/s',
          floor: FLOOR,
          targets: [
            issuanceTarget(`${GATEHOUSE} ES256`, 'gatehouse-es256', es, es.jwt!.ES256),
            issuanceTarget(`${GATEHOUSE} RS256`, 'gatehouse-rs256', rs, rs.jwt!.RS256),
            issuanceTarget(`${OIDC} ES256`, 'oidc-provider', oidc, oidc.jwt!.ES256),
            issuanceTarget(`${OIDC} RS256`, 'oidc-provider', oidc, oidc.jwt!.RS256),
            issuanceTarget(FLOOR, 'floor', readyOf(servers, 'floor')),
          ],
          comparisons: [
            [`${GATEHOUSE} ES256`, `${OIDC} ES256`],
            [`${GATEHOUSE} RS256`, `${OIDC} RS256`],
            [`${GATEHOUSE} ES256`, `${OIDC} RS256`],
          ],
          notes: [
            `${OIDC} issues JWTs for a resource indicator (RFC 8707) and keeps no record of them; Gatehouse stores each JWT's hash too (introspection, revocation).`,
            `${NODE_OAUTH2} has no JWT access tokens. The floor answers an opaque token (no signature).`,
          ],
        },
      ];
    },
  },
  {
    key: 'introspection',
    servers: [gatehouse, oidcProvider, floor, floorSqlite],
    async tables(servers) {
      const target = async (label: string, server: string): Promise<Target> => {
        const ready = readyOf(servers, server);
        const token = await machineToken(ready, ready.machine!);
        return { label, server, load: fixed(post(ready, ready.paths.introspect!, ready.machine!, form({ token }))) };
      };
      return [
        {
          key: 'introspection',
          title: '3. token introspection (RFC 7662) of a valid opaque token',
          unit: 'req/s',
          floor: FLOOR,
          targets: [await target(GATEHOUSE, 'gatehouse'), await target(OIDC, 'oidc-provider'), await target(FLOOR, 'floor'), await target(FLOOR_SQLITE, 'floor-sqlite')],
          comparisons: [
            [GATEHOUSE, OIDC],
            [GATEHOUSE, FLOOR_SQLITE],
          ],
          notes: [
            `${OIDC} looks the token up in process memory. Gatehouse looks it up in SQLite by SHA-256 the first time, then finds it in its cache of up to 10 000 tokens looked up (dropped whole when full, after any write that may change a token, on a rollback and on any commit by another process; 7b measures lookups that miss it). ${FLOOR_SQLITE} reads SQLite every time (one indexed read). The floor answers "active" without any lookup.`,
            `${NODE_OAUTH2} has no introspection endpoint.`,
          ],
        },
      ];
    },
  },
  {
    key: 'bearer',
    servers: [gatehouse, oidcProvider, nodeOauth2, floor],
    dependentServers: (ready) => [{ name: 'api', script: 'api.ts', env: { BENCH_ISSUER: ready.get('gatehouse')!.url } }],
    async tables(servers) {
      const gh = readyOf(servers, 'gatehouse');
      const oidc = readyOf(servers, 'oidc-provider');
      const n2 = readyOf(servers, 'node-oauth2-server');
      const api = readyOf(servers, 'api');
      const fl = readyOf(servers, 'floor');
      const ghUser = await userTokens(gh, gh.web!, gh.web!.cookies[0]!, gh.web!.flowScope);
      const oidcUser = await userTokens(oidc, oidc.web!, (await sessionCookies(oidc))[0]!, oidc.web!.flowScope);
      const n2User = await userTokens(n2, n2.web!, n2.web!.cookies[0]!, n2.web!.flowScope);
      const jwt = await machineToken(gh, gh.jwt!.ES256!);
      return [
        {
          key: 'bearer',
          title: '4. a Bearer-protected GET',
          unit: 'req/s',
          floor: FLOOR,
          targets: [
            bearerGet(`${GATEHOUSE} /userinfo`, 'gatehouse', gh.url + gh.paths.userinfo, ghUser.access_token!),
            bearerGet('resource-server helper (local ES256 JWT)', 'api', `${api.url}/me`, jwt),
            bearerGet(`${OIDC} /me`, 'oidc-provider', oidc.url + oidc.paths.userinfo, oidcUser.access_token!),
            bearerGet(`${NODE_OAUTH2} authenticate()`, 'node-oauth2-server', n2.url + n2.paths.userinfo, n2User.access_token!),
            bearerGet(FLOOR, 'floor', fl.url + fl.paths.userinfo, fl.bearerToken!),
          ],
          comparisons: [
            [`${GATEHOUSE} /userinfo`, `${OIDC} /me`],
            [`${GATEHOUSE} /userinfo`, `${NODE_OAUTH2} authenticate()`],
            ['resource-server helper (local ES256 JWT)', `${OIDC} /me`],
          ],
          notes: [
            'Gatehouse /userinfo: opaque user token, looked up by SHA-256 (in SQLite the first time, then in the token cache), then the account read for the claims. The helper verifies an ES256 JWT signature against the cached JWKS, with no call to Gatehouse.',
            `${OIDC} /me and ${NODE_OAUTH2} look the token up in memory. The floor compares the header with one known token.`,
          ],
        },
      ];
    },
  },
  {
    key: 'code',
    servers: [gatehouse, oidcProvider, nodeOauth2],
    async tables(servers, settings) {
      const gh = readyOf(servers, 'gatehouse');
      const oidc = readyOf(servers, 'oidc-provider');
      const n2 = readyOf(servers, 'node-oauth2-server');
      return [
        {
          key: 'code',
          title: `5a. authorization code exchange with PKCE (${settings.codesPerMeasurement} fresh codes per measurement)`,
          unit: 'req/s',
          targets: [
            await codeExchangeTarget(GATEHOUSE, 'gatehouse', gh, settings),
            await codeExchangeTarget(OIDC, 'oidc-provider', oidc, settings),
            await codeExchangeTarget(NODE_OAUTH2, 'node-oauth2-server', n2, settings),
          ],
          comparisons: [
            [GATEHOUSE, OIDC],
            [GATEHOUSE, NODE_OAUTH2],
          ],
          notes: [
            'Scope "profile offline_access": an access and a refresh token each, no ID token. Codes are minted before each measurement through the real /authorize with the session cookies of 32 users (remembered consent), 1 to 32 in turn.',
          ],
        },
        {
          key: 'refresh',
          title: '5b. refresh grant (rotating refresh tokens)',
          unit: 'req/s',
          targets: [
            await refreshTarget(GATEHOUSE, 'gatehouse', gh, settings),
            await refreshTarget(OIDC, 'oidc-provider', oidc, settings),
            await refreshTarget(NODE_OAUTH2, 'node-oauth2-server', n2, settings),
          ],
          comparisons: [
            [GATEHOUSE, OIDC],
            [GATEHOUSE, NODE_OAUTH2],
          ],
          notes: ['Each answer carries a new access token and the successor refresh token, which the next request uses.'],
        },
      ];
    },
  },
  {
    key: 'flow',
    servers: [gatehouse, oidcProvider, nodeOauth2],
    async tables(servers) {
      return [
        {
          key: 'flow',
          title: '6. whole browserless code flow: /authorize → 302 → /token → /userinfo',
          unit: 'flows/s',
          targets: [
            await flowTarget(GATEHOUSE, 'gatehouse', readyOf(servers, 'gatehouse')),
            await flowTarget(OIDC, 'oidc-provider', readyOf(servers, 'oidc-provider')),
            await flowTarget(NODE_OAUTH2, 'node-oauth2-server', readyOf(servers, 'node-oauth2-server')),
          ],
          comparisons: [
            [GATEHOUSE, OIDC],
            [GATEHOUSE, NODE_OAUTH2],
          ],
          notes: [
            `Gatehouse and ${OIDC}: scope "openid profile", so each flow also signs an RS256 ID token. ${NODE_OAUTH2} has no OpenID Connect: scope "profile", no ID token, and its "/userinfo" is authenticate() in front of a fixed answer.`,
            'Latency columns are per request (three per flow); CPU is per flow.',
          ],
        },
      ];
    },
  },
  {
    key: 'growth',
    servers: [
      { name: 'gatehouse-10k', script: 'gatehouse.ts', env: { BENCH_PREFILL: '10000' } },
      // The large case's count comes from the settings; replaced in `groupsFor`.
      { name: 'gatehouse-large', script: 'gatehouse.ts', env: { BENCH_PREFILL: '1000000' } },
    ],
    async tables(servers, settings) {
      const small = readyOf(servers, 'gatehouse-10k');
      const large = readyOf(servers, 'gatehouse-large');
      const largeLabel = `${GATEHOUSE} @ ${formatCount(settings.growthTokens)}`;
      // Many distinct tokens in turn, so that each lookup reads the database: Gatehouse keeps up
      // to 10 000 tokens it looked up (SqliteStorage), and one token would be found there.
      const introspection = async (label: string, server: string, ready: ReadyMessage): Promise<Target> => {
        const tokens = await machineTokens(ready, ready.machine!, growthIntrospectionTokens);
        const { method, url, headers } = post(ready, ready.paths.introspect!, ready.machine!, '');
        return { label, server, load: fixed({ method, url, headers, bodies: tokens.map((token) => form({ token })) }) };
      };
      return [
        {
          key: 'growth-issuance',
          title: `7a. issuance with 10 000 and ${formatCount(settings.growthTokens)} live tokens in the database`,
          unit: 'req/s',
          targets: [issuanceTarget(`${GATEHOUSE} @ 10k`, 'gatehouse-10k', small), issuanceTarget(largeLabel, 'gatehouse-large', large)],
          comparisons: [[largeLabel, `${GATEHOUSE} @ 10k`]],
          notes: ['Tokens inserted straight into access_tokens (one transaction) before the server starts; all live (not expired).'],
        },
        {
          key: 'growth-introspection',
          title: `7b. introspection with 10 000 and ${formatCount(settings.growthTokens)} live tokens in the database`,
          unit: 'req/s',
          targets: [await introspection(`${GATEHOUSE} @ 10k`, 'gatehouse-10k', small), await introspection(largeLabel, 'gatehouse-large', large)],
          comparisons: [[largeLabel, `${GATEHOUSE} @ 10k`]],
          notes: [
            `${growthIntrospectionTokens.toLocaleString('en')} distinct tokens introspected in turn, twice as many as Gatehouse's token cache holds: every lookup reads the database.`,
          ],
        },
      ];
    },
  },
];

/**
 * Tokens 7b introspects in turn: twice what the token cache of `SqliteStorage` holds before it is
 * dropped whole, so none is found there.
 */
const growthIntrospectionTokens = 20_000;

export function formatCount(count: number): string {
  if (count >= 1_000_000 && count % 1_000_000 === 0) return `${count / 1_000_000}M`;
  if (count >= 1000 && count % 1000 === 0) return `${count / 1000}k`;
  return String(count);
}

/** The groups with the settings applied (the size of the large database, a baseline checkout). */
export function groupsFor(settings: BenchSettings): WorkloadGroup[] {
  const groups = workloadGroups.map((group) =>
    group.key !== 'growth'
      ? group
      : {
          ...group,
          servers: group.servers.map((spec) =>
            spec.name === 'gatehouse-large' ? { ...spec, env: { ...spec.env, BENCH_PREFILL: String(settings.growthTokens) } } : spec,
          ),
        },
  );
  return settings.baseline === undefined ? groups : groups.map((group) => withBaseline(group, settings.baseline!));
}

const BASELINE = `${GATEHOUSE} (baseline)`;

/**
 * BENCH_BASELINE=DIR: Gatehouse from another checkout (say `git worktree add DIR main`) runs
 * beside this one in the issuance, JWT, introspection and code-flow groups, so a change is measured against
 * what it changes in one interleaved run rather than across two noisy ones.
 */
function withBaseline(group: WorkloadGroup, checkout: string): WorkloadGroup {
  const script = resolve(checkout, 'bench/servers/gatehouse.ts');
  const spec: ServerSpec = { name: 'gatehouse-baseline', script, env: group.key === 'jwt' ? { BENCH_SIGNING_ALG: 'ES256' } : {} };
  const ours = group.key === 'jwt' ? `${GATEHOUSE} ES256` : GATEHOUSE;
  const targetFor = async (servers: Map<string, ServerProcess>): Promise<Target | undefined> => {
    const ready = readyOf(servers, spec.name);
    if (group.key === 'issuance') return issuanceTarget(BASELINE, spec.name, ready);
    if (group.key === 'jwt') return issuanceTarget(BASELINE, spec.name, ready, ready.jwt!.ES256);
    if (group.key === 'flow') return flowTarget(BASELINE, spec.name, ready);
    if (group.key !== 'introspection') return undefined;
    const token = await machineToken(ready, ready.machine!);
    return { label: BASELINE, server: spec.name, load: fixed(post(ready, ready.paths.introspect!, ready.machine!, form({ token }))) };
  };
  if (!['issuance', 'jwt', 'introspection', 'flow'].includes(group.key)) return group;
  return {
    ...group,
    servers: [...group.servers, spec],
    async tables(servers, settings) {
      const tables = await group.tables(servers, settings);
      const target = await targetFor(servers);
      return tables.map((table) =>
        table.key !== group.key || target === undefined
          ? table
          : { ...table, targets: [...table.targets, target], comparisons: [...table.comparisons, [ours, BASELINE]] },
      );
    },
  };
}
