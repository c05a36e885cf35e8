/**
 * The user's side (issue 7): /account with its authorized apps, "Revoke access", password change
 * and sign out; the language of every page; branding; and escaping of everything a client, a
 * configuration or an account can put on a page.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { hashPassword } from '../../src/server/accounts/password.ts';
import type { GatehouseConfig } from '../../src/server/config/defaults.ts';
import {
  CookieJar,
  authorize,
  authorizeUrl,
  buildTestServer,
  callUserinfo,
  createTestClient,
  createTestUser,
  form,
  formFields,
  issueCode,
  issuer,
  logIn,
  password,
  redeemCode,
  refresh,
  type TestClient,
  type TestServer,
} from '../support/test-server.ts';

async function setup(t: TestContext, overrides: Partial<GatehouseConfig> = {}): Promise<TestServer> {
  const server = await buildTestServer(overrides);
  t.after(() => server.close());
  return server;
}

function get(server: TestServer, url: string, jar?: CookieJar, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return server.app.inject({ method: 'GET', url, headers: { ...headers, ...(jar ? { cookie: jar.header() } : {}) } });
}

function post(server: TestServer, url: string, fields: Record<string, string> | Map<string, string>, jar?: CookieJar) {
  const body = form(fields);
  return server.app.inject({ method: 'POST', url, ...body, headers: { ...body.headers, ...(jar ? { cookie: jar.header() } : {}) } });
}

/** The account page, which must answer 200 for a signed-in browser. */
async function accountPage(server: TestServer, jar: CookieJar, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const response = await get(server, '/account', jar, headers);
  assert.equal(response.statusCode, 200, `expected the account page, got ${response.statusCode} ${response.headers.location ?? ''}`);
  jar.store(response);
  return response;
}

/** Tokens for `client` acting for the logged-in user of `jar` (consenting if needed). */
async function tokensFor(server: TestServer, jar: CookieJar, client: TestClient, scope: string) {
  const response = await redeemCode(server, client, await issueCode(server, jar, client, { scope }));
  assert.equal(response.statusCode, 200, response.body);
  const tokens = response.json() as { access_token: string; refresh_token: string };
  assert.ok(tokens.refresh_token, 'a refresh token was issued');
  return tokens;
}

/** Text between tags, entities decoded: what a person reads. */
function visibleText(body: string): string {
  return body
    .replace(/<[^>]*>/g, ' ')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&')
    .replace(/\s+/g, ' ');
}

/**
 * No markup an attacker could have planted: no script, no image, no event handler in any tag.
 * Escaped text keeps its words ("onerror=") but never a raw "<", so only real tags are checked,
 * with their quoted attribute values (where quotes are escaped) set aside.
 */
function assertNoInjectedMarkup(body: string, what: string): void {
  const tagsOnly = [...body.replace(/"[^"]*"/g, '""').matchAll(/<[^>]*>/g)].map((match) => match[0]);
  assert.ok(tagsOnly.length > 10, `${what}: the page has tags at all`);
  for (const tag of tagsOnly) {
    assert.doesNotMatch(tag, /^<\/?(script|img)\b/i, `${what}: ${tag}`);
    assert.doesNotMatch(tag, /\son\w+\s*=/i, `${what}: ${tag}`);
  }
}

async function auditActions(server: TestServer): Promise<{ actor: string; action: string; subject: string | null }[]> {
  return (await server.storage.listAuditEvents(100)).map(({ actor, action, subject }) => ({ actor, action, subject }));
}

describe('/account', () => {
  test('needs a login, and the login comes back to it', async (t) => {
    const server = await setup(t);
    await createTestUser(server);
    const anonymous = await get(server, '/account');
    assert.equal(anonymous.statusCode, 303);
    assert.equal(anonymous.headers.location, '/login?return_to=%2Faccount');

    const jar = new CookieJar();
    const loginPage = await get(server, anonymous.headers.location, jar);
    jar.store(loginPage);
    const fields = formFields(loginPage.body);
    assert.equal(fields.get('return_to'), '/account');
    const loggedIn = await post(server, '/login', { _csrf: fields.get('_csrf')!, return_to: '/account', username: 'alice', password }, jar);
    assert.equal(loggedIn.statusCode, 303);
    assert.equal(loggedIn.headers.location, '/account');
    jar.store(loggedIn);
    const page = await accountPage(server, jar);
    assert.match(page.body, /Signed in as <strong>alice<\/strong>/);
    assert.match(page.body, /You have not allowed any app to use your account\./);
    // Only /account itself is a new way back: a look-alike is not.
    for (const returnTo of ['/account/../admin', '/accounts', '//account', '/account?x=1']) {
      // Each sign-in replaces the CSRF secret, so each needs a fresh form.
      const form = await get(server, '/login', jar);
      jar.store(form);
      const other = await post(server, '/login', { _csrf: formFields(form.body).get('_csrf')!, return_to: returnTo, username: 'alice', password }, jar);
      jar.store(other);
      assert.equal(other.headers.location, '/', returnTo);
    }
  });

  test('lists the authorized apps with their scopes in words and when each was last used', async (t) => {
    const server = await setup(t);
    const mine = await createTestClient(server, { name: 'Mine' });
    const calendar = await createTestClient(server, { name: 'Calendar' });
    const user = await createTestUser(server);
    const jar = await logIn(server);
    await issueCode(server, jar, calendar, { scope: 'calendar.read' });
    server.clock.advance(60);
    await tokensFor(server, jar, mine, 'profile email');

    const page = await accountPage(server, jar);
    const text = visibleText(page.body);
    assert.match(page.body, /<h2 id="apps-heading">Authorized apps<\/h2>/);
    // Most recently used first: Mine obtained tokens, Calendar only got a code.
    assert.ok(text.indexOf('Mine') < text.indexOf('Calendar'), text);
    assert.match(text, /Mine Allowed to: See your username and name \(profile\) See your email address \(email\) Last used November 27, 2026 at 12:01 UTC · Allowed November 27, 2026 at 12:01 UTC/);
    assert.match(text, /Calendar Allowed to: Read your calendar events \(calendar\.read\) Not used since you allowed it · Allowed November 27, 2026 at 12:00 UTC/);
    assert.match(page.body, /<time datetime="2026-11-27T12:01:00.000Z">/);
    // One Revoke button per app, each naming its app for assistive technology.
    const buttons = [...page.body.matchAll(/<button type="submit" class="danger" aria-describedby="(app-\d)">Revoke access<\/button>/g)];
    assert.equal(buttons.length, 2);
    assert.match(page.body, /<h3 id="app-0">Mine<\/h3>/);
    assert.match(page.body, new RegExp(`<input type="hidden" name="client_id" value="${calendar.clientId}">`));
    // Another user's grants are not shown.
    await createTestUser(server, 'bob');
    const bob = await logIn(server, 'bob');
    assert.match((await accountPage(server, bob)).body, /You have not allowed any app/);
    assert.ok(user.id);
  });

  test('"Revoke access" forgets the consent and the app’s access and refresh tokens stop working at once', async (t) => {
    const server = await setup(t);
    const mine = await createTestClient(server, { name: 'Mine' });
    const other = await createTestClient(server, { name: 'Other' });
    const user = await createTestUser(server);
    const jar = await logIn(server);
    const tokens = await tokensFor(server, jar, mine, 'profile');
    const otherTokens = await tokensFor(server, jar, other, 'profile');
    assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 200);

    const page = await accountPage(server, jar);
    const revoked = await post(server, '/account/revoke', { _csrf: formFields(page.body).get('_csrf')!, client_id: mine.clientId }, jar);
    assert.equal(revoked.statusCode, 303);
    assert.equal(revoked.headers.location, '/account?notice=revoked');

    const userinfo = await callUserinfo(server, tokens.access_token);
    assert.equal(userinfo.statusCode, 401);
    assert.match(String(userinfo.headers['www-authenticate']), /error="invalid_token"/);
    const refreshed = await refresh(server, mine, tokens.refresh_token);
    assert.equal(refreshed.statusCode, 400);
    assert.equal(refreshed.json().error, 'invalid_grant');
    assert.equal(await server.storage.findGrant(user.id, mine.clientId), undefined);

    // The other app keeps its access.
    assert.equal((await callUserinfo(server, otherTokens.access_token)).statusCode, 200);
    assert.equal((await refresh(server, other, otherTokens.refresh_token)).statusCode, 200);

    const after = await get(server, revoked.headers.location as string, jar);
    assert.match(after.body, /<p class="notice" role="status">Access revoked\. The app’s tokens no longer work\.<\/p>/);
    assert.doesNotMatch(after.body, /<h3 id="app-\d">Mine<\/h3>/);
    assert.match(after.body, /<h3 id="app-0">Other<\/h3>/);
    // The app must ask again: the consent page is back.
    const again = await get(server, authorizeUrl(mine, { scope: 'profile' }), jar);
    assert.equal(again.statusCode, 200);
    assert.match(again.body, /wants to access your account/);

    const events = await auditActions(server);
    assert.ok(events.some((e) => e.action === 'grant_revoked' && e.actor === `account:${user.id}` && e.subject === `client:${mine.clientId}`), JSON.stringify(events));
    assert.ok(events.some((e) => e.action === 'consent' && e.actor === `account:${user.id}` && e.subject === `client:${mine.clientId}`));
    assert.ok(events.some((e) => e.action === 'login' && e.actor === `account:${user.id}`));
  });

  test('revoking needs the CSRF token and a session; nothing is revoked otherwise', async (t) => {
    const server = await setup(t);
    const mine = await createTestClient(server);
    await createTestUser(server);
    const jar = await logIn(server);
    const tokens = await tokensFor(server, jar, mine, 'profile');

    const forged = await post(server, '/account/revoke', { client_id: mine.clientId }, jar);
    assert.equal(forged.statusCode, 403);
    assert.match(forged.body, /the form has expired or did not come from this site/);
    const wrongToken = await post(server, '/account/revoke', { _csrf: 'x'.repeat(40), client_id: mine.clientId }, jar);
    assert.equal(wrongToken.statusCode, 403);
    assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 200);

    // A valid CSRF pair without a session: sent to log in, nothing changes.
    const page = await accountPage(server, jar);
    const csrfOnly = new CookieJar();
    const loginPage = await get(server, '/login');
    csrfOnly.store(loginPage);
    const noSession = await post(server, '/account/revoke', { _csrf: formFields(loginPage.body).get('_csrf')!, client_id: mine.clientId }, csrfOnly);
    assert.equal(noSession.statusCode, 303);
    assert.equal(noSession.headers.location, '/login?return_to=%2Faccount');
    assert.equal((await callUserinfo(server, tokens.access_token)).statusCode, 200);

    const missing = await post(server, '/account/revoke', { _csrf: formFields(page.body).get('_csrf')! }, jar);
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /&quot;client_id&quot; is required/);
  });

  test('changing the password ends the other sessions, renews this one, and the new password works', async (t) => {
    const server = await setup(t);
    const user = await createTestUser(server);
    const here = await logIn(server);
    const elsewhere = await logIn(server);
    const page = await accountPage(server, here);
    assert.match(page.body, /<label for="current-password">Current password<\/label>/);
    assert.match(page.body, /<label for="new-password">New password<\/label>/);
    assert.match(page.body, /<label for="confirm-password">New password again<\/label>/);
    const csrf = formFields(page.body).get('_csrf')!;
    const newPassword = 'a much longer new passphrase';

    const changed = await post(server, '/account/password', { _csrf: csrf, current_password: password, new_password: newPassword, confirm_password: newPassword }, here);
    assert.equal(changed.statusCode, 303);
    assert.equal(changed.headers.location, '/account?notice=password_changed');
    // This browser carries on with the new session id the change gave it.
    here.store(changed);

    const stillHere = await get(server, changed.headers.location as string, here);
    assert.equal(stillHere.statusCode, 200);
    assert.match(stillHere.body, /Your password was changed, and you were signed out everywhere else\./);
    const signedOut = await get(server, '/account', elsewhere);
    assert.equal(signedOut.statusCode, 303);
    assert.equal(signedOut.headers.location, '/login?return_to=%2Faccount');

    await assert.rejects(logIn(server, 'alice'), /login failed: 401/, 'the old password no longer works');
    const fresh = new CookieJar();
    const loginPage = await get(server, '/login', fresh);
    fresh.store(loginPage);
    const withNew = await post(server, '/login', { _csrf: formFields(loginPage.body).get('_csrf')!, username: 'alice', password: newPassword }, fresh);
    assert.equal(withNew.statusCode, 303);

    const events = await auditActions(server);
    assert.ok(events.some((e) => e.action === 'password_changed' && e.actor === `account:${user.id}`), JSON.stringify(events));
    assert.ok(events.some((e) => e.action === 'login_failed' && e.actor === `account:${user.id}`));
  });

  test('a wrong current password, two different new ones or a short one change nothing', async (t) => {
    const server = await setup(t);
    await createTestUser(server);
    const here = await logIn(server);
    const elsewhere = await logIn(server);
    const csrf = formFields((await accountPage(server, here)).body).get('_csrf')!;
    const cases: [Record<string, string>, RegExp][] = [
      [{ current_password: 'not my password', new_password: 'new passphrase 1', confirm_password: 'new passphrase 1' }, /Your current password is not right\./],
      [{ current_password: password, new_password: 'new passphrase 1', confirm_password: 'new passphrase 2' }, /The two new passwords are not the same\./],
      [{ current_password: password, new_password: 'short', confirm_password: 'short' }, /The new password must be 8 to 1024 characters long\./],
    ];
    for (const [fields, message] of cases) {
      const response = await post(server, '/account/password', { _csrf: csrf, ...fields }, here);
      assert.equal(response.statusCode, 400, JSON.stringify(fields));
      assert.match(response.body, new RegExp(`<p class="error" role="alert">${message.source}</p>`));
    }
    // Nothing changed: the other session lives and the old password still works.
    assert.equal((await get(server, '/account', elsewhere)).statusCode, 200);
    await logIn(server);
    const forged = await post(server, '/account/password', { current_password: password, new_password: 'new passphrase 1', confirm_password: 'new passphrase 1' }, here);
    assert.equal(forged.statusCode, 403);
    await logIn(server);
  });

  test('guessing the current password from a session is rate-limited', async (t) => {
    const server = await setup(t, { loginAttemptsPerAccount: 3 });
    await createTestUser(server);
    const jar = await logIn(server);
    const csrf = formFields((await accountPage(server, jar)).body).get('_csrf')!;
    const guess = () => post(server, '/account/password', { _csrf: csrf, current_password: 'guess guess', new_password: 'new passphrase 1', confirm_password: 'new passphrase 1' }, jar);
    for (let i = 0; i < 3; i++) assert.equal((await guess()).statusCode, 400);
    const limited = await guess();
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
  });

  test('sign out is a CSRF-protected form on the page', async (t) => {
    const server = await setup(t);
    await createTestUser(server);
    const jar = await logIn(server);
    const page = await accountPage(server, jar);
    assert.match(page.body, /<form method="post" action="\/logout"><input type="hidden" name="_csrf" value="[^"]+"><button type="submit" class="secondary">Sign out<\/button><\/form>/);
    const out = await post(server, '/logout', { _csrf: formFields(page.body).get('_csrf')! }, jar);
    assert.equal(out.statusCode, 303);
    jar.store(out);
    assert.equal((await get(server, '/account', jar)).statusCode, 303);
  });
});

describe('the language of the pages', () => {
  const korean = /<html lang="ko">/;
  const english = /<html lang="en">/;

  test('ui_locales on /authorize makes the login page Korean, and survives the login redirect', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const start = await get(server, authorizeUrl(client, { scope: 'profile', extra: { ui_locales: 'ko-KR en' } }));
    assert.equal(start.statusCode, 302);
    const jar = new CookieJar();
    const login = await get(server, start.headers.location as string, jar);
    jar.store(login);
    assert.match(login.body, korean);
    assert.match(login.body, /<title>로그인 · Gatehouse<\/title>/);
    assert.match(login.body, /<h1>로그인<\/h1>/);
    assert.match(login.body, /<label for="username">아이디<\/label>/);
    assert.match(login.body, /<label for="password">비밀번호<\/label>/);
    assert.match(login.body, /<button type="submit">로그인<\/button>/);
    // The other language is one link away, and the current one is marked.
    assert.match(login.body, /<span lang="ko" aria-current="true">한국어<\/span>/);
    assert.match(login.body, /<a href="\/lang\?to=en&amp;return_to=%2Flogin%3Freturn_to%3D[^"]+" lang="en" hreflang="en">English<\/a>/);

    const fields = formFields(login.body);
    const failed = await post(server, '/login', { _csrf: fields.get('_csrf')!, return_to: fields.get('return_to')!, username: 'alice', password: 'wrong password' }, jar);
    assert.equal(failed.statusCode, 401);
    assert.match(failed.body, korean);
    assert.match(failed.body, /<p class="error" role="alert">아이디 또는 비밀번호가 올바르지 않습니다\.<\/p>/);

    const ok = await post(server, '/login', { _csrf: formFields(failed.body).get('_csrf')!, return_to: fields.get('return_to')!, username: 'alice', password }, jar);
    assert.equal(ok.statusCode, 303);
    jar.store(ok);
    const consent = await get(server, ok.headers.location as string, jar);
    assert.equal(consent.statusCode, 200);
    assert.match(consent.body, korean);
    assert.match(consent.body, /<title>접근 허용 · Gatehouse<\/title>/);
    assert.match(consent.body, /<h1><strong>Mine<\/strong>에서 계정에 접근하려고 합니다<\/h1>/);
    assert.match(consent.body, /<strong>alice<\/strong> 계정으로 로그인했습니다\./);
    assert.match(consent.body, /<li>아이디와 이름 보기 <span class="muted">\(profile\)<\/span><\/li>/);
    assert.match(consent.body, /<button type="submit" name="decision" value="allow">허용<\/button>/);
    assert.match(consent.body, /<button type="submit" name="decision" value="deny" class="secondary">거부<\/button>/);
    // ui_locales travels on with the decision form, so the request validated again is the same one.
    assert.equal(formFields(consent.body).get('ui_locales'), 'ko-KR en');
  });

  test('then the switcher cookie, then Accept-Language, then the configured default', async (t) => {
    const server = await setup(t);
    const koCookie = new CookieJar();
    koCookie.store(await get(server, '/lang?to=ko&return_to=/login'));
    assert.match((await get(server, '/login', koCookie)).body, korean);
    // The cookie beats Accept-Language …
    assert.match((await get(server, '/login', koCookie, { 'accept-language': 'en-US,en;q=0.9' })).body, korean);
    // … and ui_locales beats the cookie.
    const client = await createTestClient(server);
    const viaEnglish = `/login?${new URLSearchParams({ return_to: authorizeUrl(client, { extra: { ui_locales: 'en' } }) })}`;
    assert.match((await get(server, viaEnglish, koCookie)).body, english);

    assert.match((await get(server, '/login', undefined, { 'accept-language': 'ko-KR,ko;q=0.9,en;q=0.8' })).body, korean);
    assert.match((await get(server, '/login', undefined, { 'accept-language': 'fr, en;q=0.5, ko;q=0.9' })).body, korean);
    assert.match((await get(server, '/login', undefined, { 'accept-language': 'fr' })).body, english);
    assert.match((await get(server, '/login')).body, english);

    const koreanByDefault = await setup(t, { defaultLocale: 'ko' });
    assert.match((await get(koreanByDefault, '/login')).body, korean);
    assert.match((await get(koreanByDefault, '/login', undefined, { 'accept-language': 'en' })).body, english);
  });

  test('/lang remembers the choice and goes back without ui_locales, only to this server', async (t) => {
    const server = await setup(t);
    const returnTo = `/login?${new URLSearchParams({ return_to: '/authorize?client_id=c&ui_locales=ko&state=s' })}`;
    const response = await get(server, `/lang?${new URLSearchParams({ to: 'en', return_to: returnTo })}`);
    assert.equal(response.statusCode, 303);
    const location = new URL(response.headers.location as string, issuer);
    assert.equal(location.pathname, '/login');
    assert.equal(location.searchParams.get('return_to'), '/authorize?client_id=c&state=s');
    const cookie = String(response.headers['set-cookie']);
    assert.match(cookie, /^gatehouse_lang=en;/);
    assert.match(cookie, /Path=\//);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);

    for (const unsafe of ['https://evil.example/', '//evil.example/', '/\\evil.example']) {
      const away = await get(server, `/lang?${new URLSearchParams({ to: 'ko', return_to: unsafe })}`);
      assert.equal(away.statusCode, 303);
      assert.equal(away.headers.location, '/', unsafe);
    }
    const unknown = await get(server, '/lang?to=xx&return_to=/login');
    assert.equal(unknown.statusCode, 303);
    assert.equal(unknown.headers['set-cookie'], undefined, 'an unknown language sets nothing');
  });

  test('error pages, the home page and the account page are translated too', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    await createTestUser(server);
    const error = await get(server, authorizeUrl({ ...client, clientId: 'nope' }, { extra: { ui_locales: 'ko' } }));
    assert.equal(error.statusCode, 400);
    assert.match(error.body, korean);
    assert.match(error.body, /<h1>문제가 발생했습니다<\/h1>/);
    assert.match(error.body, /이곳으로 보낸 앱이 이 서버에 등록되어 있지 않거나/);
    // The protocol's own description stays as it is, marked as English.
    assert.match(error.body, /<p class="error" role="alert" lang="en">there is no client with ID &quot;nope&quot;<\/p>/);
    assert.match(error.body, /오류 코드: <code>invalid_client<\/code>/);

    const jar = await logIn(server);
    const ko = { 'accept-language': 'ko' };
    const home = await get(server, '/', jar, ko);
    assert.match(home.body, /<strong>alice<\/strong> 계정으로 로그인했습니다\./);
    assert.match(home.body, /<a href="\/account">내 계정과 연결된 앱<\/a>/);
    assert.match(home.body, /<button type="submit" class="secondary">로그아웃<\/button>/);

    await tokensFor(server, jar, client, 'profile');
    const account = await accountPage(server, jar, ko);
    assert.match(account.body, /<h1>내 계정<\/h1>/);
    assert.match(account.body, /<h2 id="apps-heading">연결된 앱<\/h2>/);
    assert.match(account.body, /마지막 사용: <time datetime="[^"]+">2026년 11월 27일 12:00 \(UTC\)<\/time>/);
    assert.match(account.body, />접근 권한 취소<\/button>/);
    assert.match(account.body, /<li>아이디와 이름 보기 <span class="muted">\(profile\)<\/span><\/li>/);
    assert.match(account.body, /<label for="current-password">현재 비밀번호<\/label>/);
    const csrf = formFields(account.body).get('_csrf')!;
    const mismatch = await server.app.inject({
      method: 'POST',
      url: '/account/password',
      ...form({ _csrf: csrf, current_password: password, new_password: 'passphrase one', confirm_password: 'passphrase two' }),
      headers: { ...form({}).headers, cookie: jar.header(), ...ko },
    });
    assert.match(mismatch.body, /새 비밀번호 두 개가 서로 다릅니다\./);
  });

  test('configured scopes show their Korean description, or their English one when they have none', async (t) => {
    const server = await setup(t, {
      scopes: {
        'calendar.read': { description: 'Read your calendar events', description_ko: '캘린더 일정 보기' },
        'files.read': { description: 'Read your files' },
        'notes.read': { description: 'Read your notes', descriptions: { ko: '메모 보기' } },
      },
    });
    const client = await createTestClient(server, { scopes: ['calendar.read', 'files.read', 'notes.read'] });
    await createTestUser(server);
    const jar = await logIn(server);
    const page = await get(server, authorizeUrl(client, { scope: 'calendar.read files.read notes.read', extra: { ui_locales: 'ko' } }), jar);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<li>캘린더 일정 보기 <span class="muted">\(calendar\.read\)<\/span><\/li>/);
    assert.match(page.body, /<li>Read your files <span class="muted">\(files\.read\)<\/span><\/li>/);
    assert.match(page.body, /<li>메모 보기 <span class="muted">\(notes\.read\)<\/span><\/li>/);
  });
});

describe('branding', () => {
  test('product name, logo and primary color come from configuration; the CSP allows exactly the logo’s origin', async (t) => {
    const server = await setup(t, { productName: 'Acme ID', logoUrl: 'https://cdn.acme.example/logo.svg', primaryColor: '#0f766e' });
    const page = await get(server, '/login');
    assert.match(page.body, /<title>Sign in · Acme ID<\/title>/);
    assert.match(page.body, /<header class="brand"><img src="https:\/\/cdn\.acme\.example\/logo\.svg" alt="" height="32"><span>Acme ID<\/span><\/header>/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /img-src 'self' https:\/\/cdn\.acme\.example(;|$)/);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    const stylesheets = [...page.body.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].map((match) => match[1]);
    assert.deepEqual(stylesheets, ['/assets/gatehouse.css', '/assets/theme.css']);
    const theme = await get(server, '/assets/theme.css');
    assert.equal(theme.statusCode, 200);
    assert.match(String(theme.headers['content-type']), /^text\/css/);
    assert.match(theme.body, /--primary: #0f766e;/);
    assert.doesNotMatch(page.body, /style=/i, 'no inline style');

    const plain = await setup(t);
    const plainPage = await get(plain, '/login');
    assert.match(String(plainPage.headers['content-security-policy']), /img-src 'self'(;|$)/);
    assert.doesNotMatch(plainPage.body, /<img/);
  });

  test('a same-origin logo path adds nothing to the CSP', async (t) => {
    const server = await setup(t, { logoUrl: '/static/logo.png' });
    const page = await get(server, '/login');
    assert.match(page.body, /<img src="\/static\/logo\.png" alt="" height="32">/);
    assert.match(String(page.headers['content-security-policy']), /img-src 'self'(;|$)/);
  });
});

describe('markup from clients, configuration and accounts is shown literally', () => {
  const evilName = '"><img src=x onerror=alert(1)><script>alert(1)</script>';

  test('a client name and a scope description with markup, on the consent and account pages', async (t) => {
    const server = await setup(t, { scopes: { 'evil.scope': { description: `<script>alert(2)</script>"><img onerror=x>`, description_ko: '<script>alert(3)</script>' } } });
    const client = await createTestClient(server, { name: evilName, scopes: ['profile', 'evil.scope'] });
    await createTestUser(server);
    const jar = await logIn(server);
    for (const locale of ['en', 'ko']) {
      const consent = await get(server, authorizeUrl(client, { scope: 'profile evil.scope', extra: { ui_locales: locale } }), jar);
      assert.equal(consent.statusCode, 200);
      assertNoInjectedMarkup(consent.body, `consent page (${locale})`);
      assert.ok(visibleText(consent.body).includes(evilName), 'the name is shown as typed');
      assert.match(consent.body, /<strong>&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/strong>/);
      assert.ok(visibleText(consent.body).includes(locale === 'en' ? '<script>alert(2)</script>"><img onerror=x>' : '<script>alert(3)</script>'));
    }
    await authorize(server, jar, client, { scope: 'profile evil.scope' });
    const account = await accountPage(server, jar);
    assertNoInjectedMarkup(account.body, 'account page');
    assert.match(account.body, /<h3 id="app-0">&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/h3>/);
    assert.ok(visibleText(account.body).includes('<script>alert(2)</script>"><img onerror=x> (evil.scope)'));
  });

  test('a username with markup (from an import that skipped validation) on the consent, home and account pages', async (t) => {
    const server = await setup(t);
    const client = await createTestClient(server);
    const username = '"><img onerror=x><script>alert(1)</script>';
    await server.storage.insertAccount({
      id: 'imported-1',
      username,
      passwordHash: await hashPassword(password),
      name: '<b>Bob</b>',
      email: null,
      emailVerified: false,
      isAdmin: false,
      disabledAt: null,
      createdAt: server.clock.now(),
    });
    const jar = await logIn(server, username);
    const escaped = '&quot;&gt;&lt;img onerror=x&gt;&lt;script&gt;alert\\(1\\)&lt;/script&gt;';
    const consent = await get(server, authorizeUrl(client, { scope: 'profile' }), jar);
    assertNoInjectedMarkup(consent.body, 'consent page');
    assert.match(consent.body, new RegExp(`Signed in as <strong>${escaped}</strong>`));
    const home = await get(server, '/', jar);
    assertNoInjectedMarkup(home.body, 'home page');
    const account = await accountPage(server, jar);
    assertNoInjectedMarkup(account.body, 'account page');
    assert.match(account.body, new RegExp(`Signed in as <strong>${escaped}</strong>`));
    assert.doesNotMatch(account.body, /<b>/);
  });

  test('a failed login with a markup username records no typed text and echoes it escaped', async (t) => {
    const server = await setup(t);
    const jar = new CookieJar();
    const page = await get(server, '/login', jar);
    jar.store(page);
    const failed = await post(server, '/login', { _csrf: formFields(page.body).get('_csrf')!, username: evilName, password: 'whatever1' }, jar);
    assert.equal(failed.statusCode, 401);
    assertNoInjectedMarkup(failed.body, 'failed login');
    const events = await server.storage.listAuditEvents(10);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.action, 'login_failed');
    assert.equal(events[0]!.actor, 'anonymous');
    assert.ok(!JSON.stringify(events[0]).includes('onerror'), 'an unknown username is not kept: it may be a password');
  });
});
