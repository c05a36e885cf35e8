import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { launchSharedChromium, localOnlyPage } from '../support/chromium.ts';
import { startDemo } from '../../demo/start-demo.ts';
import { freePort } from '../support/listening-server.ts';

/*
 * The issue's demo, whole: Gatehouse, the calendar API and Mine on loopback ports. A real browser
 * signs in on Mine through Gatehouse, consents, lists and adds events, lets the access token
 * expire and acts again; the refresh shows on Mine's page and in Gatehouse's database. A second
 * test runs `npm start`'s entry as a child process and stops it with Ctrl-C.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const browserReady: Promise<Browser> = launchSharedChromium();

/** A temporary data folder, removed after the test. */
function tempDataDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Three distinct free loopback ports. */
async function demoPorts(): Promise<{ gatehouse: number; calendar: number; mine: number }> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [gatehouse, calendar, mine] = [...ports] as [number, number, number];
  return { gatehouse, calendar, mine };
}

/** A browser page that may reach 127.0.0.1 only; anything else is recorded and refused. */
function newPage(t: TestContext): Promise<{ page: Page; foreign: string[] }> {
  return localOnlyPage(t, browserReady);
}

/** What Mine's "Gatehouse token" line says: how often the vault refreshed, and the expiry. */
async function tokenStatus(page: Page): Promise<{ refreshCount: number; expiresAt: number; text: string }> {
  const text = await page.locator('#token-status').innerText();
  const expires = /expires (\S+);/.exec(text)?.[1];
  assert.ok(expires !== undefined, `no expiry in "${text}"`);
  const expiresAt = Date.parse(expires);
  assert.ok(!Number.isNaN(expiresAt), `unreadable expiry "${expires}"`);
  const refreshCount = Number(await page.locator('#refresh-count').innerText());
  assert.ok(Number.isInteger(refreshCount), 'the refresh count is a number');
  return { refreshCount, expiresAt, text };
}

/** Gatehouse's own record of Mine's refresh tokens, read from its SQLite file without writing. */
function refreshTokenRows(dataDir: string): { rows: number; rotated: number; families: number } {
  const secrets = JSON.parse(readFileSync(join(dataDir, 'demo-secrets.json'), 'utf8')) as { mineClient: { clientId: string } };
  const db = new Database(join(dataDir, 'gatehouse.db'), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare<[string], { rows: number; rotated: number; families: number }>(
        'select count(*) as rows, count(rotated_at) as rotated, count(distinct family_id) as families from refresh_tokens where client_id = ?',
      )
      .get(secrets.mineClient.clientId)!;
  } finally {
    db.close();
  }
}

/** How Mine lists an event: the UTC start, minute precision (the form's local time read by this process). */
function listedAs(localDateTime: string, title: string): string {
  return `${new Date(localDateTime).toISOString().slice(0, 16).replace('T', ' ')} — ${title}`;
}

/** Resolves with the exit code once the child has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function waitFor(what: string, timeoutMs: number, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// Separate ports, data folders and browser contexts: the two tests run side by side.
describe('the demo (npm start)', { concurrency: true }, () => {
  test('in a browser: sign in on Mine through Gatehouse, consent, add an event, outlive the access token, sign out', { timeout: 60_000 }, async (t) => {
    const dataDir = tempDataDir(t);
    // A 3 s token refreshed 1 s before expiry: the wait below is short and the refresh certain.
    const demo = await startDemo({ dataDir, ports: await demoPorts(), accessTokenTtlSeconds: 3, refreshSkewSeconds: 1, env: {} });
    t.after(() => demo.stop());
    const { page, foreign } = await newPage(t);

    // Signed out: Gatehouse works offline; the other providers are shown but not usable.
    const home = await page.goto(demo.urls.mine);
    assert.equal(home?.status(), 200);
    assert.equal(await page.title(), 'Mine');
    for (const name of ['GitHub', 'Google', 'Kakao', 'Naver']) {
      assert.equal(await page.getByRole('link', { name: `Sign in with ${name}` }).count(), 0, `${name} has no credentials here`);
      assert.equal(await page.locator('.button.disabled', { hasText: `Sign in with ${name}` }).count(), 1);
    }

    await Promise.all([
      page.waitForURL((url) => url.origin === demo.urls.gatehouse && url.pathname === '/login'),
      page.getByRole('link', { name: 'Sign in with Gatehouse' }).click(),
    ]);
    await page.getByLabel('Username').fill(demo.demoUser.username);
    await page.getByLabel('Password').fill(demo.demoUser.password);
    await Promise.all([
      page.waitForURL((url) => url.origin === demo.urls.gatehouse && url.pathname === '/authorize'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);

    // Consent names Mine and says in words what the calendar scopes allow.
    assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), 'Mine wants to access your account');
    const scopeItems = (await page.locator('ul.scopes li').allInnerTexts()).map((text) => text.trim());
    assert.ok(scopeItems.includes('See your calendar events (calendar.read)'), scopeItems.join(' | '));
    assert.ok(scopeItems.includes('Add events to your calendar (calendar.write)'), scopeItems.join(' | '));
    await Promise.all([
      page.waitForURL((url) => url.origin === demo.urls.mine && url.pathname === '/'),
      page.getByRole('button', { name: 'Allow' }).click(),
    ]);

    // Back on Mine, signed in, with an empty calendar read through the vault's token.
    assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), 'Hello, Demo User');
    assert.equal(await page.getByRole('heading', { name: 'Your calendar' }).count(), 1);
    assert.equal(await page.locator('#events li').count(), 0);
    assert.equal((await page.locator('#no-events').innerText()).trim(), 'No events yet.');
    assert.match((await tokenStatus(page)).text, /scopes openid profile email offline_access calendar\.read calendar\.write;/);

    // Add an event through the form (calendar.write), then see it listed (calendar.read).
    await page.getByLabel('Title').fill('Dentist');
    await page.getByLabel('Starts').fill('2030-01-02T09:30');
    const [added] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/events'),
      page.getByRole('button', { name: 'Add event' }).click(),
    ]);
    assert.equal(added.status(), 303);
    await page.locator('#events li').first().waitFor();
    assert.deepEqual(await page.locator('#events li').allInnerTexts(), [listedAs('2030-01-02T09:30', 'Dentist')]);
    assert.equal(await page.locator('#no-events').count(), 0);

    // Let the access token expire (it lives 3 s), then act again.
    const before = await tokenStatus(page);
    assert.ok(before.expiresAt - Date.now() <= 3_000, `the token expires within its 3 s lifetime (${before.text})`);
    await waitFor('the access token to expire', 5_000, () => Date.now() > before.expiresAt);
    const reloadedAt = Date.now();
    const reloaded = await page.reload();
    assert.equal(reloaded?.status(), 200);

    // The events are still there, and the page shows the one refresh that reload needed.
    assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), 'Hello, Demo User');
    assert.deepEqual(await page.locator('#events li').allInnerTexts(), [listedAs('2030-01-02T09:30', 'Dentist')]);
    const afterExpiry = await tokenStatus(page);
    assert.equal(afterExpiry.refreshCount, before.refreshCount + 1, `one refresh on reload (${before.text} → ${afterExpiry.text})`);
    assert.ok(afterExpiry.expiresAt > reloadedAt, `the new token outlives the reload (${afterExpiry.text})`);

    // Gatehouse's side: one refresh token from the code, plus one per refresh, each rotating the
    // previous one, all in the same family (RFC 9700 §4.14.2).
    assert.deepEqual(refreshTokenRows(dataDir), { rows: afterExpiry.refreshCount + 1, rotated: afterExpiry.refreshCount, families: 1 });

    // Sign out: back to the sign-in buttons, the session cookie gone.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with Gatehouse' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: /^Hello/ }).count(), 0);
    assert.equal(await page.locator('#events').count(), 0);
    const cookies = await page.context().cookies(demo.urls.mine);
    assert.deepEqual(cookies.filter((cookie) => cookie.name === 'mine_session'), []);

    assert.deepEqual(foreign, [], 'the pages load nothing from other origins');
  });

  test("npm start's entry prints the three URLs and the demo user, serves Mine, and stops on Ctrl-C", { timeout: 40_000 }, async (t) => {
    const dataDir = tempDataDir(t);
    const ports = await demoPorts();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DEMO_DATA_DIR: dataDir,
      GATEHOUSE_PORT: String(ports.gatehouse),
      CALENDAR_PORT: String(ports.calendar),
      MINE_PORT: String(ports.mine),
      DEMO_ACCESS_TOKEN_TTL: '45',
    };
    delete env.NODE_TEST_CONTEXT;
    for (const provider of ['GITHUB', 'GOOGLE', 'KAKAO', 'NAVER']) delete env[`${provider}_CLIENT_ID`];
    const child = spawn(process.execPath, ['--import', 'tsx', 'demo/main.ts'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

    await waitFor('the demo to start', 30_000, () => {
      assert.equal(child.exitCode, null, `the demo exited early:\n${stdout}\n${stderr}`);
      return stdout.includes('Press Ctrl-C to stop.');
    });
    const urls = { gatehouse: `http://127.0.0.1:${ports.gatehouse}`, calendar: `http://127.0.0.1:${ports.calendar}`, mine: `http://127.0.0.1:${ports.mine}` };
    assert.match(stdout, new RegExp(`^Gatehouse \\(authorization server\\): +${urls.gatehouse}$`, 'm'));
    assert.match(stdout, new RegExp(`^Calendar API \\(resource server\\): +${urls.calendar}$`, 'm'));
    assert.match(stdout, new RegExp(`^Mine \\(the client app\\): +${urls.mine} `, 'm'));
    assert.match(stdout, /^Access tokens live 45 seconds here/m);
    const printedPassword = /^Demo user: demo \/ (\S+)$/m.exec(stdout)?.[1];
    const secrets = JSON.parse(readFileSync(join(dataDir, 'demo-secrets.json'), 'utf8')) as { demoPassword: string };
    assert.equal(printedPassword, secrets.demoPassword, 'the printed password is the seeded one');

    const mine = await fetch(urls.mine);
    assert.equal(mine.status, 200);
    assert.match(await mine.text(), /href="\/signin\/gatehouse">Sign in with Gatehouse</);
    const discovery = await fetch(`${urls.gatehouse}/.well-known/openid-configuration`);
    assert.equal(discovery.status, 200);
    assert.equal(((await discovery.json()) as { issuer: string }).issuer, urls.gatehouse);
    const anonymous = await fetch(`${urls.calendar}/events`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer /);

    // Ctrl-C: a clean stop, exit code 0, nothing listening any more.
    child.kill('SIGINT');
    const deadline = sleep(15_000, undefined, { ref: false }).then(() => 'timeout' as const);
    assert.equal(await Promise.race([exited(child), deadline]), 0, `exit code after SIGINT\n${stdout}\n${stderr}`);
    assert.match(stdout, /Stopping/);
    await assert.rejects(fetch(urls.mine), 'Mine no longer listens');
  });
});
