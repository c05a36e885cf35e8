import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Browser, hiddenFields, location, pkceAuthorizationRequest, type PkceAuthorization } from '../support/http-browser.ts';
import { freePort } from '../support/listening-server.ts';
import { runGatehouse } from '../support/gatehouse-cli.ts';

/*
 * Durability: nothing is acknowledged before it is on disk. On SQLite the server
 * group-commits the transactions of concurrent requests, so a token is written to the database
 * some time after the request that issues it has done its work; the invariant is that its response
 * is sent only once that commit is done. This test checks it from outside, as an operator would
 * see it: a real `gatehouse start` under concurrent token requests is killed with SIGKILL (no
 * shutdown hook runs, nothing is flushed), started again on the same file, and then
 * - every token a client received before the kill is still valid, and
 * - no authorization code can be redeemed twice: one whose redemption was answered stays used,
 *   and one whose redemption was cut off by the kill is either used or still good for exactly one.
 * A response the client received is what counts; requests cut off by the kill prove nothing
 * either way and are only counted, to show that the kill really landed in the middle of the load.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(repoRoot, 'bin', 'gatehouse.js');
const password = 'correct horse battery staple';
const redirectUri = 'https://app.example/callback';
/** A scope a client can hold for itself (client_credentials refuses user scopes such as profile). */
const machineScope = 'inventory.read';
/** Requests sent at once right before the kill (see there). */
const burstSize = 128;
/** Of the burst, requests written in the same tick as the kill. */
const lastWaveSize = 16;

// Child processes

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Deployment {
  dir: string;
  port: number;
  issuer: string;
  env: NodeJS.ProcessEnv;
  /** `--config FILE`, passed to every command so that all of them know the same scopes. */
  configArgs: string[];
  /** Every `gatehouse start` of the test, killed before the folder is removed. */
  servers: ChildProcess[];
}

/** Only what the commands need: the test runner's variables and the shell's PORT must not leak in. */
function deployment(t: TestContext, port: number): Deployment {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-crash-'));
  const servers: ChildProcess[] = [];
  // Whatever happens to the test, no server outlives it, and the folder goes once they are gone.
  t.after(async () => {
    for (const server of servers) if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    await Promise.all(servers.map(exited));
    rmSync(dir, { recursive: true, force: true });
  });
  const configFile = join(dir, 'gatehouse.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      scopes: { [machineScope]: { description: 'Read the inventory' } },
      // Codes are minted before the load and checked after the restart; on a machine busy with
      // other tests that can take longer than the default minute, and an expired code would
      // answer invalid_grant for a reason this test is not about.
      authorizationCodeTtlSeconds: 600,
    }),
  );
  const issuer = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...(process.env.TMPDIR === undefined ? {} : { TMPDIR: process.env.TMPDIR }),
    DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
    GATEHOUSE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    PORT: String(port),
    HOST: '127.0.0.1',
    GATEHOUSE_ISSUER: issuer,
    LOG_LEVEL: 'silent',
  };
  return { dir, port, issuer, env, configArgs: ['--config', configFile], servers };
}

function gatehouse(deploy: Deployment, args: string[], stdin = ''): Promise<Run> {
  return runGatehouse([...deploy.configArgs, ...args], { env: deploy.env, stdin });
}

async function gatehouseJson<T>(deploy: Deployment, args: string[], stdin?: string): Promise<T> {
  const run = await gatehouse(deploy, [...args, '--json'], stdin);
  assert.equal(run.code, 0, `gatehouse ${args.join(' ')} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** `gatehouse start`, resolved once /health/ready answers 200 (the database is open and migrated). */
async function startGatehouse(deploy: Deployment): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, ...deploy.configArgs, 'start'], { cwd: repoRoot, env: deploy.env, stdio: ['ignore', 'pipe', 'pipe'] });
  deploy.servers.push(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  // Generous: the start-up (TypeScript compiled on the fly) competes for the CPU with other tests.
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      assert.fail(`gatehouse start exited (${child.exitCode ?? child.signalCode}) before it was ready: ${output}`);
    }
    const status = await fetch(`${deploy.issuer}/health/ready`).then(
      async (response) => (await response.arrayBuffer(), response.status),
      () => 0, // not listening yet
    );
    if (status === 200) return child;
    if (Date.now() > deadline) assert.fail(`gatehouse start was not ready within 45 s (last status ${status}): ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// The client's side of the protocol

interface Client {
  id: string;
  secret: string;
}

interface Code {
  code: string;
  verifier: string;
}

interface Tokens {
  access_token: string;
  refresh_token?: string;
}

function basic(client: Client): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`;
}

function authorizationRequest(issuer: string, client: Client): PkceAuthorization {
  return pkceAuthorizationRequest(issuer, client.id, redirectUri, 'profile');
}

function codeFrom(response: Response): string {
  assert.ok(response.status === 302 || response.status === 303, `expected a redirect to the client, got ${response.status}`);
  const callback = new URL(location(response));
  assert.equal(`${callback.origin}${callback.pathname}`, redirectUri);
  const code = callback.searchParams.get('code');
  assert.ok(code, `the redirect carries a code (error: ${callback.searchParams.get('error_description')})`);
  return code;
}

/** Logs alice in and approves the client once; the consent is remembered for every later request. */
async function logInAndConsent(browser: Browser, issuer: string, client: Client): Promise<Code> {
  const request = authorizationRequest(issuer, client);
  const first = await browser.get(request.url);
  assert.equal(first.status, 302);
  const loginUrl = new URL(location(first), issuer);
  assert.equal(loginUrl.pathname, '/login');
  const loginFields = hiddenFields(await (await browser.get(loginUrl)).text());
  const loggedIn = await browser.post(
    '/login',
    new Map([['_csrf', loginFields.get('_csrf')!], ['return_to', loginFields.get('return_to')!], ['username', 'alice'], ['password', password]]),
  );
  assert.equal(loggedIn.status, 303, 'alice is logged in');
  const consentPage = await browser.get(location(loggedIn));
  assert.equal(consentPage.status, 200, 'the consent page');
  const consentFields = hiddenFields(await consentPage.text());
  consentFields.set('decision', 'allow');
  return { code: codeFrom(await browser.post('/authorize/decision', consentFields)), verifier: request.verifier };
}

/** A fresh code for the logged-in browser: one GET of /authorize, answered with a redirect. */
async function mintCode(browser: Browser, issuer: string, client: Client): Promise<Code> {
  const request = authorizationRequest(issuer, client);
  return { code: codeFrom(await browser.get(request.url)), verifier: request.verifier };
}

/** Runs `work` on every item, at most `parallel` at a time. */
async function forEachLimited<T>(items: readonly T[], parallel: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
}

// The load's own HTTP client

/**
 * fetch costs this process more CPU per request than Gatehouse spends answering it, so under a
 * load driven by fetch the server idles between requests (the two share a 2-core machine) and a
 * kill finds nothing in flight: every request it received is long answered. The load therefore
 * writes prepared HTTP/1.1 requests on keep-alive sockets and reads the responses itself, which
 * costs a fraction: the server is the bottleneck and always has requests in progress.
 */
interface RawResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Map<string, string>;
  body: string;
}

/** The connection was refused, reset or closed before a whole response came back. */
class ConnectionCut extends Error {
  override name = 'ConnectionCut';
}

/** One keep-alive connection, one request at a time; Gatehouse answers with Content-Length. */
class RawConnection {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: { resolve(response: RawResponse): void; reject(error: Error): void } | undefined;
  #ended = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#read();
    });
    const end = (error?: Error) => {
      this.#ended = true;
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.reject(new ConnectionCut(error?.message ?? 'the server closed the connection'));
    };
    socket.on('error', end);
    socket.on('close', () => end());
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      const refused = (error: Error) => reject(new ConnectionCut(error.message));
      socket.once('error', refused);
      socket.once('connect', () => {
        socket.off('error', refused);
        resolve(new RawConnection(socket));
      });
    });
  }

  send(request: string): Promise<RawResponse> {
    if (this.#ended) return Promise.reject(new ConnectionCut('the connection is closed'));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #read(): void {
    const headEnd = this.#buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const [statusLine = '', ...lines] = this.#buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
    const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    if (!headers.has('content-length')) {
      this.#waiting?.reject(new Error(`a response without Content-Length, which this client cannot read: ${statusLine}`));
      this.#waiting = undefined;
      return;
    }
    const end = headEnd + 4 + Number(headers.get('content-length'));
    if (this.#buffer.length < end) return;
    const body = this.#buffer.subarray(headEnd + 4, end).toString('utf8');
    this.#buffer = this.#buffer.subarray(end);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
  }
}

function rawPost(port: number, path: string, authorization: string, fields: Record<string, string>): string {
  const body = new URLSearchParams(fields).toString();
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${authorization}\r\n` +
    `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

function rawGet(port: number, pathAndQuery: string, header: { cookie: string } | { authorization: string }): string {
  const [[name, value]] = Object.entries(header) as [[string, string]];
  return `GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${name}: ${value}\r\n\r\n`;
}

/** Runs `work` on every item, one item at a time per connection. */
async function forEachOn<T>(connections: RawConnection[], items: readonly T[], work: (connection: RawConnection, item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    connections.map(async (connection) => {
      while (next < items.length) {
        const index = next++;
        await work(connection, items[index]!, index);
      }
    }),
  );
}

// What the load saw

type Redemption =
  /** Redeemed with 200: the client holds these tokens. */
  | { code: Code; outcome: 'tokens'; tokens: Tokens }
  /** The redemption was sent but no answer came back: the kill cut it off. */
  | { code: Code; outcome: 'no answer' }
  /** Never presented (minted, then the load ended first). */
  | { code: Code; outcome: 'unused' };

test('after SIGKILL under load, every token a client received is still valid and no code redeems twice', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  const deploy = deployment(t, port);
  const { issuer } = deploy;

  // Where the time goes, for a run that is slow on a busy machine.
  const phases: string[] = [];
  let phaseStarted = Date.now();
  const phase = (name: string) => {
    phases.push(`${name} ${Date.now() - phaseStarted} ms`);
    phaseStarted = Date.now();
  };

  // The server migrates the fresh database; the CLI then registers what the load needs while it
  // runs (three commands side by side: each is a Node start-up).
  let server = await startGatehouse(deploy);
  const [machineRegistration, webRegistration] = await Promise.all([
    gatehouseJson<{ client_id: string; client_secret: string }>(deploy, [
      'clients', 'create', '--name', 'Inventory sync', '--grant-type', 'client_credentials', '--scope', machineScope,
    ]),
    gatehouseJson<{ client_id: string; client_secret: string }>(deploy, [
      'clients', 'create', '--name', 'Web app', '--redirect-uri', redirectUri, '--scope', 'profile',
      '--grant-type', 'authorization_code', '--grant-type', 'refresh_token',
    ]),
    gatehouseJson(deploy, ['users', 'create', '--username', 'alice', '--password-stdin'], `${password}\n`),
  ]);
  const machine: Client = { id: machineRegistration.client_id, secret: machineRegistration.client_secret };
  const web: Client = { id: webRegistration.client_id, secret: webRegistration.client_secret };

  phase('start and registrations');

  // One login and one consent; after that every code is one GET of /authorize.
  const browser = new Browser(issuer);
  const pool: Code[] = [await logInAndConsent(browser, issuer, web)];
  await forEachLimited(Array.from({ length: 159 }), 8, async () => {
    pool.push(await mintCode(browser, issuer, web));
  });
  const burstCodes = await Promise.all(Array.from({ length: burstSize / 4 }, () => mintCode(browser, issuer, web)));

  // The load: machine clients asking for tokens, and web clients redeeming codes (the pre-minted
  // ones first, then fresh ones minted under load, so that redemptions are in flight at the kill
  // however fast this machine is). Each loop has a connection of its own.
  const machineTokens: string[] = [];
  const redemptions: Redemption[] = [];
  const cutOff = { machine: 0, codes: 0, mints: 0 };
  let killed = false;

  /** Rethrows anything but a connection cut by the kill. */
  const afterKill = (error: unknown, what: keyof typeof cutOff) => {
    if (!killed || !(error instanceof ConnectionCut)) throw error;
    cutOff[what] += 1;
  };

  const redeem = ({ code, verifier }: Code) =>
    rawPost(port, '/token', basic(web), { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  const clientCredentialsRequest = rawPost(port, '/token', basic(machine), { grant_type: 'client_credentials', scope: machineScope });
  const machineLoop = async (connection: RawConnection) => {
    while (!killed) {
      try {
        const { status, body } = await connection.send(clientCredentialsRequest);
        assert.equal(status, 200, `client_credentials under load: ${body}`);
        machineTokens.push((JSON.parse(body) as Tokens).access_token);
      } catch (error) {
        afterKill(error, 'machine');
        return;
      }
    }
  };

  const codeLoop = async (connection: RawConnection) => {
    while (!killed) {
      let code = pool.pop();
      if (code === undefined) {
        const request = authorizationRequest(issuer, web);
        try {
          const response = await connection.send(rawGet(port, `${request.url.pathname}${request.url.search}`, { cookie: browser.cookies.header() }));
          assert.equal(response.status, 302, 'a code minted under load');
          const callback = new URL(response.headers.get('location')!);
          code = { code: callback.searchParams.get('code')!, verifier: request.verifier };
          assert.ok(code.code, `a code minted under load: ${callback.href}`);
        } catch (error) {
          afterKill(error, 'mints');
          return;
        }
      }
      const redemption: Redemption = { code, outcome: 'unused' };
      redemptions.push(redemption);
      if (killed) return; // minted just before the kill: it stays unused
      try {
        const { status, body } = await connection.send(redeem(code));
        assert.equal(status, 200, `a code redeemed once under load: ${body}`);
        Object.assign(redemption, { outcome: 'tokens', tokens: JSON.parse(body) as Tokens });
      } catch (error) {
        afterKill(error, 'codes');
        Object.assign(redemption, { outcome: 'no answer' });
        return;
      }
    }
  };

  const connections = await Promise.all(Array.from({ length: 32 + burstSize }, () => RawConnection.open(port)));
  t.after(() => connections.forEach((connection) => connection.close()));
  const [loopConnections, burstConnections] = [connections.slice(0, 32), connections.slice(32)];
  phase('login and codes');
  const load = Promise.all(loopConnections.map((connection, index) => (index < 24 ? machineLoop(connection) : codeLoop(connection))));
  // A loop that fails before the kill fails the test below, once the server is down, not as an
  // unhandled rejection while the timer runs.
  load.catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 1000));

  // The kill. Killed at a moment of the timer's choosing, the server may well be idle: when this
  // process is kept off the CPU for a while (the suite runs beside other tests) every request has
  // been answered and waits to be read here. So the kill comes with a burst: a request on each of
  // many fresh connections at once, and the kill as soon as the first of them is answered. The
  // server then surely has the rest of the burst in progress, some of it answered and some not,
  // in the same group commits: exactly the moment where an answer sent before its commit would
  // show. A quarter of the burst redeems codes, so that a lost consumption would show as well.
  const burst = burstConnections.slice(0, burstSize - lastWaveSize).map(async (connection, index) => {
    const code = index < burstSize / 4 ? burstCodes[index]! : undefined;
    const redemption: Redemption | undefined = code === undefined ? undefined : { code, outcome: 'no answer' };
    if (redemption !== undefined) redemptions.push(redemption);
    try {
      const { status, body } = await connection.send(code === undefined ? clientCredentialsRequest : redeem(code));
      assert.equal(status, 200, `a burst request: ${body}`);
      const tokens = JSON.parse(body) as Tokens;
      if (redemption === undefined) machineTokens.push(tokens.access_token);
      else Object.assign(redemption, { outcome: 'tokens', tokens });
    } catch (error) {
      afterKill(error, redemption === undefined ? 'machine' : 'codes');
    }
  });
  await Promise.race(burst);
  const answeredBeforeKill = machineTokens.length + redemptions.filter((entry) => entry.outcome === 'tokens').length;
  // Group commit may answer the whole burst in the commit that answers its first request, so a
  // last wave is written in the same tick as the kill: the server has it at most in progress.
  const lastWave = burstConnections.slice(burstSize - lastWaveSize).map(async (connection) => {
    try {
      const { status, body } = await connection.send(clientCredentialsRequest);
      assert.equal(status, 200, `a last-wave request: ${body}`);
      machineTokens.push((JSON.parse(body) as Tokens).access_token);
    } catch (error) {
      afterKill(error, 'machine');
    }
  });
  // kill(2) is synchronous; the flag is set at once so that a connection failure seen from now on
  // is blamed on the kill and nothing before it is.
  server.kill('SIGKILL');
  killed = true;
  await Promise.all([load, ...burst, ...lastWave]);
  await exited(server);
  assert.equal(server.signalCode, 'SIGKILL', 'the server died of the kill, not of something else');
  for (const code of pool) redemptions.push({ code, outcome: 'unused' });

  const answered = redemptions.filter((entry): entry is Extract<Redemption, { outcome: 'tokens' }> => entry.outcome === 'tokens');
  const unanswered = redemptions.filter((entry) => entry.outcome === 'no answer');
  const unused = redemptions.filter((entry) => entry.outcome === 'unused');
  const summary =
    `load until the kill: ${machineTokens.length} client_credentials tokens, ${answered.length} codes redeemed, ` +
    `${unanswered.length} redemptions cut off, ${unused.length} codes unused; cut off: ${JSON.stringify(cutOff)}`;
  t.diagnostic(summary);
  // Not vacuous: the load issued plenty, and the kill cut requests off in flight.
  assert.ok(answeredBeforeKill > 50, `too few tokens before the kill for the test to mean anything: ${summary}`);
  assert.ok(machineTokens.length > 50 && answered.length > 10, summary);
  assert.ok(cutOff.machine + cutOff.codes + cutOff.mints > 0, `the kill cut no request off, so it did not land mid-load: ${summary}`);

  // The same file, the same port (so the same issuer); SQLite recovers its write-ahead log.
  phase('load and kill');
  server = await startGatehouse(deploy);
  phase('restart');

  // The checks, on connections of their own; every request is answered now.
  const checkers = await Promise.all(Array.from({ length: 16 }, () => RawConnection.open(port)));
  t.after(() => checkers.forEach((connection) => connection.close()));
  // Each client introspects its own tokens: only its own refresh tokens are described to it (RFC 7662 §4).
  const introspect = async (connection: RawConnection, owner: Client, token: string, hint: string) => {
    const { status, body } = await connection.send(rawPost(port, '/introspect', basic(owner), { token, token_type_hint: hint }));
    assert.equal(status, 200, body);
    return JSON.parse(body) as { active: boolean; client_id?: string };
  };
  const userinfoStatus = async (connection: RawConnection, accessToken: string) =>
    (await connection.send(rawGet(port, '/userinfo', { authorization: `Bearer ${accessToken}` }))).status;
  const redemption = async (connection: RawConnection, code: Code) => {
    const { status, body } = await connection.send(redeem(code));
    return { status, error: (JSON.parse(body) as { error?: string }).error };
  };
  // Every broken promise is collected, by kind, so that a failure tells the whole story.
  const problems = new Map<string, number[]>();
  const problem = (kind: string, index: number): void => {
    problems.set(kind, [...(problems.get(kind) ?? []), index]);
  };

  // Every client_credentials token the clients received is still active.
  await forEachOn(checkers, machineTokens, async (connection, token, index) => {
    const found = await introspect(connection, machine, token, 'access_token');
    if (!found.active || found.client_id !== machine.id) problem('client_credentials token inactive', index);
  });

  // Every code redemption that was answered: its access token still reads the user's profile and
  // its refresh token is still good (once: it rotates).
  await forEachOn(checkers, answered, async (connection, { tokens }, index) => {
    if ((await userinfoStatus(connection, tokens.access_token)) !== 200) problem('access token of a redeemed code refused at /userinfo', index);
    if (!(await introspect(connection, web, tokens.refresh_token!, 'refresh_token')).active) problem('refresh token of a redeemed code inactive', index);
    const refreshed = await connection.send(rawPost(port, '/token', basic(web), { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }));
    if (refreshed.status !== 200) problem('refresh token of a redeemed code refused at /token', index);
  });

  // No code redeems twice. A code answered with tokens before the kill is used: presenting it again
  // is a replay, refused, and (RFC 6749 §4.1.2) revokes what its first use issued, which shows the
  // server still knows which tokens that was.
  await forEachOn(checkers, answered, async (connection, { code, tokens }, index) => {
    const again = await redemption(connection, code);
    if (again.status !== 400 || again.error !== 'invalid_grant') problem('redeemed code accepted again', index);
    else if ((await userinfoStatus(connection, tokens.access_token)) !== 401) problem('replayed code did not revoke its tokens', index);
  });
  // A redemption cut off by the kill either committed (the code is used) or did not (the code is
  // still good): one redemption at most, whichever it was.
  let cutOffButCommitted = 0;
  await forEachOn(checkers, unanswered, async (connection, { code }, index) => {
    const first = await redemption(connection, code);
    if (first.status === 400 && first.error === 'invalid_grant') {
      cutOffButCommitted += 1;
      return;
    }
    if (first.status !== 200) {
      problem(`cut-off code answered ${first.status} ${first.error ?? ''}`, index);
      return;
    }
    const second = await redemption(connection, code);
    if (second.status !== 400 || second.error !== 'invalid_grant') problem('cut-off code redeemed twice', index);
  });
  t.diagnostic(`of ${unanswered.length} redemptions cut off by the kill, ${cutOffButCommitted} had committed`);

  // A code the browser received but nobody presented is still good.
  await forEachOn(checkers, unused, async (connection, { code }, index) => {
    const first = await redemption(connection, code);
    if (first.status !== 200) problem(`unused code answered ${first.status} ${first.error ?? ''}`, index);
  });

  phase('checks');
  t.diagnostic(phases.join(', '));
  const report = [...problems].map(([kind, indexes]) => `${kind}: ${indexes.length} (#${indexes.slice(0, 5).join(', #')}${indexes.length > 5 ? ', …' : ''})`);
  assert.deepEqual(report, [], `promises broken by the kill (${summary})`);
});
