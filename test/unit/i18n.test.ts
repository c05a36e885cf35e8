import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { finishConfig } from '../../src/server/config/load.ts';
import { defaultConfig } from '../../src/server/config/defaults.ts';
import { en } from '../../src/server/i18n/en.ts';
import { ko } from '../../src/server/i18n/ko.ts';
import { locales } from '../../src/server/i18n/locales.ts';
import { parseAcceptLanguage, resolveLocale } from '../../src/server/i18n/resolve-locale.ts';
import { safeLocalPath } from '../../src/server/http/local-path.ts';
import { withoutUiLocales } from '../../src/server/i18n/routes.ts';
import { catalogs, t } from '../../src/server/i18n/translate.ts';
import { html } from '../../src/server/pages/html.ts';
import { pageContextFor } from '../../src/server/pages/page-context.ts';
import { contrast, parseHex, themeStylesheet } from '../../src/server/pages/theme.ts';
import { ScopeRegistry, builtInScopes } from '../../src/server/authorize/scope-registry.ts';

/** The `{name}` placeholders of a message, sorted. */
function placeholders(message: string): string[] {
  return [...message.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!).sort();
}

/** The tags of a message (`<strong>`, `<code>`, `<a href="/account">`), sorted. */
function tags(message: string): string[] {
  return [...message.matchAll(/<\/?[a-z][^>]*>/g)].map((match) => match[0]).sort();
}

describe('the catalogs', () => {
  test('Korean has every English key, and English every Korean one', () => {
    const english = Object.keys(en).sort();
    const korean = Object.keys(ko).sort();
    assert.ok(english.length > 40, 'the English catalog is not empty');
    assert.deepEqual(english.filter((key) => !korean.includes(key)), [], 'keys missing in ko.ts');
    assert.deepEqual(korean.filter((key) => !english.includes(key)), [], 'keys missing in en.ts');
  });

  test('every catalog is registered, and no message is empty or left untranslated', () => {
    assert.deepEqual(Object.keys(catalogs).sort(), [...locales].sort());
    for (const locale of locales) {
      for (const [key, message] of Object.entries(catalogs[locale])) assert.ok(message.trim() !== '', `${locale} ${key} is empty`);
    }
    // Korean text is Korean: each message has Hangul, but for ones that are only markup, placeholders and "UTC".
    for (const [key, message] of Object.entries(ko)) {
      if (message.replace(/<[^>]*>|\{\w+\}|UTC|[\s().:]/g, '') === '') continue;
      assert.match(message, /[\uac00-\ud7a3]/, `ko ${key} is not Korean: ${message}`);
    }
  });

  test('a translation has the same placeholders and the same markup as the English message', () => {
    for (const [key, english] of Object.entries(en)) {
      const korean = ko[key as keyof typeof en];
      assert.deepEqual(placeholders(korean), placeholders(english), `placeholders of ${key}`);
      assert.deepEqual(tags(korean), tags(english), `markup of ${key}`);
    }
  });

  test('every built-in scope has a description in every language; English matches the scope registry', () => {
    for (const [name, definition] of Object.entries(builtInScopes)) {
      for (const locale of locales) assert.ok(Object.hasOwn(catalogs[locale], `scope.${name}`), `${locale} lacks scope.${name}`);
      assert.equal(en[`scope.${name}` as keyof typeof en], definition.description, `scope.${name}`);
    }
  });
});

describe('t()', () => {
  test('fills placeholders with escaped values and keeps the catalog markup', () => {
    const evil = '"><img src=x onerror=alert(1)><script>alert(1)</script>';
    const heading = t('en', 'consent.heading', { client: evil }).value;
    assert.equal(
      heading,
      '<strong>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(1)&lt;/script&gt;</strong> wants to access your account',
    );
    assert.equal(t('ko', 'consent.heading', { client: 'Mine' }).value, '<strong>Mine</strong>에서 계정에 접근하려고 합니다');
    // Already-built markup is not escaped twice.
    assert.equal(t('en', 'error.code', { code: html`a&b` }).value, 'Error code: <code>a&b</code>');
    assert.equal(t('en', 'error.code', { code: 'a&b' }).value, 'Error code: <code>a&amp;b</code>');
  });

  test('a placeholder without a value is an error, not a silent "{name}"', () => {
    assert.throws(() => t('en', 'consent.heading'), /needs the parameter "client"/);
  });
});

describe('choosing the language', () => {
  test('ui_locales first, then the cookie, then Accept-Language, then the default', () => {
    const all = { uiLocales: 'ko', cookie: 'en', acceptLanguage: 'en' };
    assert.equal(resolveLocale(all, 'en'), 'ko');
    assert.equal(resolveLocale({ ...all, uiLocales: undefined, cookie: 'ko' }, 'en'), 'ko');
    assert.equal(resolveLocale({ uiLocales: undefined, cookie: undefined, acceptLanguage: 'ko-KR,ko;q=0.9' }, 'en'), 'ko');
    assert.equal(resolveLocale({}, 'ko'), 'ko');
    assert.equal(resolveLocale({}, 'en'), 'en');
  });

  test('ui_locales is a preference list: the first language Gatehouse speaks wins', () => {
    assert.equal(resolveLocale({ uiLocales: 'fr-CA fr ko-KR en' }, 'en'), 'ko');
    assert.equal(resolveLocale({ uiLocales: 'en-US ko' }, 'ko'), 'en');
    // Nothing usable in it: the next source decides.
    assert.equal(resolveLocale({ uiLocales: 'fr de', cookie: 'ko' }, 'en'), 'ko');
    assert.equal(resolveLocale({ uiLocales: '   ', acceptLanguage: 'ko' }, 'en'), 'ko');
  });

  test('a cookie naming a language Gatehouse does not speak is ignored', () => {
    assert.equal(resolveLocale({ cookie: 'fr', acceptLanguage: 'ko' }, 'en'), 'ko');
    assert.equal(resolveLocale({ cookie: 'KO<script>' }, 'en'), 'en');
  });

  test('Accept-Language is ordered by q-value; q=0 and * are not a choice', () => {
    assert.deepEqual(parseAcceptLanguage('en;q=0.5, ko-KR, fr;q=0.8'), ['ko-KR', 'fr', 'en']);
    assert.equal(resolveLocale({ acceptLanguage: 'fr, en;q=0.4, ko;q=0.7' }, 'en'), 'ko');
    assert.equal(resolveLocale({ acceptLanguage: 'ko;q=0, en;q=0.1' }, 'ko'), 'en');
    assert.equal(resolveLocale({ acceptLanguage: '*' }, 'ko'), 'ko');
    assert.equal(resolveLocale({ acceptLanguage: 'ko;q=garbage' }, 'en'), 'ko');
  });

  test('a page reads ui_locales from /authorize, from the request its login returns to, and from a posted form', () => {
    const config = { defaultLocale: 'en' as const, productName: 'Gatehouse', logoUrl: '' };
    const get = (url: string, headers: Record<string, string> = {}, cookies: Record<string, string> = {}) =>
      pageContextFor({ method: 'GET', url, headers, cookies }, config);
    assert.equal(get('/authorize?client_id=x&ui_locales=ko').locale, 'ko');
    const login = `/login?${new URLSearchParams({ return_to: '/authorize?client_id=x&ui_locales=ko%20en' })}`;
    assert.equal(get(login).locale, 'ko');
    assert.equal(get(login, { 'accept-language': 'en' }, { gatehouse_lang: 'en' }).locale, 'ko');
    assert.equal(get('/login', { 'accept-language': 'en' }, { gatehouse_lang: 'ko' }).locale, 'ko');
    assert.equal(get('/login', { 'accept-language': 'ko-KR' }).locale, 'ko');
    assert.equal(get('/login').locale, 'en');
    const posted = pageContextFor({ method: 'POST', url: '/login', headers: {}, body: new Map([['return_to', ['/authorize?ui_locales=ko']]]) }, config);
    assert.equal(posted.locale, 'ko');
    assert.equal(posted.path, '/', 'the switcher never returns to a POST');
    assert.equal(get(login).path, login);
  });

  test('the configurable default is validated', () => {
    assert.equal(finishConfig({ ...defaultConfig(), defaultLocale: 'ko' }).defaultLocale, 'ko');
    assert.throws(() => finishConfig({ ...defaultConfig(), defaultLocale: 'fr' as 'en' }), /"defaultLocale" must be one of en, ko/);
  });
});

describe('the language switcher', () => {
  test('returns only to a path on this server', () => {
    assert.equal(safeLocalPath('/login?return_to=%2Faccount'), '/login?return_to=%2Faccount');
    for (const unsafe of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/a b', '/é', undefined]) {
      assert.equal(safeLocalPath(unsafe), '/', String(unsafe));
    }
  });

  test('drops ui_locales from the page and from the request it returns to, so the choice sticks', () => {
    assert.equal(withoutUiLocales('/authorize?client_id=x&ui_locales=ko&state=s'), '/authorize?client_id=x&state=s');
    const login = `/login?${new URLSearchParams({ return_to: '/authorize?client_id=x&ui_locales=ko' })}`;
    const cleaned = new URL(withoutUiLocales(login), 'http://h');
    assert.equal(cleaned.pathname, '/login');
    assert.equal(cleaned.searchParams.get('return_to'), '/authorize?client_id=x');
    // Nothing to drop: the path is returned exactly as it was.
    assert.equal(withoutUiLocales('/authorize?scope=a%20b&x=%7E'), '/authorize?scope=a%20b&x=%7E');
  });
});

describe('scope descriptions', () => {
  test('built-in scopes come from the catalogs; configured ones from description, description_ko or descriptions', () => {
    const registry = new ScopeRegistry({
      'calendar.read': { description: 'Read your calendar events', description_ko: '캘린더 일정 보기' },
      'files.read': { description: 'Read your files', descriptions: { ko: '파일 보기', en: 'See your files' } },
      'legacy.scope': { description: 'Only English' },
    });
    assert.equal(registry.describe('profile', 'ko'), ko['scope.profile']);
    assert.equal(registry.describe('profile'), 'See your username and name');
    assert.equal(registry.describe('calendar.read', 'ko'), '캘린더 일정 보기');
    assert.equal(registry.describe('calendar.read', 'en'), 'Read your calendar events');
    assert.equal(registry.describe('files.read', 'ko'), '파일 보기');
    assert.equal(registry.describe('files.read', 'en'), 'See your files');
    assert.equal(registry.describe('legacy.scope', 'ko'), 'Only English');
    assert.equal(registry.describe('unknown.scope', 'ko'), 'unknown.scope');
  });

  test('a configured translation must be a non-empty text for a known language', () => {
    const withScopes = (scopes: unknown) => () => finishConfig({ ...defaultConfig(), scopes: scopes as never });
    assert.throws(withScopes({ a: { description: 'A', description_ko: '' } }), /"scopes.a.description_ko" must be a non-empty string/);
    assert.throws(withScopes({ a: { description: 'A', descriptions: { fr: 'Un' } } }), /"fr" is not a language of the pages/);
    assert.throws(withScopes({ a: { description: 'A', descriptions: ['x'] } }), /"scopes.a.descriptions" must be an object/);
    assert.doesNotThrow(withScopes({ a: { description: 'A', descriptions: { ko: '가' } } }));
  });
});

describe('branding', () => {
  test('primaryColor must be a hex color; logoUrl a same-origin path or an https URL', () => {
    const look = (overrides: object) => () => finishConfig({ ...defaultConfig(), ...overrides });
    assert.doesNotThrow(look({ primaryColor: '#0a7', logoUrl: '/logo.svg', productName: '게이트하우스' }));
    assert.doesNotThrow(look({ logoUrl: 'https://cdn.example.com/logo.png' }));
    for (const primaryColor of ['red', '#12345', '1d4ed8', '#1d4ed8; background:url(x)']) {
      assert.throws(look({ primaryColor }), /"primaryColor" must be a hex color/, primaryColor);
    }
    for (const logoUrl of ['http://cdn.example.com/logo.png', '//cdn.example.com/logo.png', 'javascript:alert(1)', 'logo.png', '/a b.png']) {
      assert.throws(look({ logoUrl }), /"logoUrl" must be a path on this server/, logoUrl);
    }
    assert.throws(look({ productName: '' }), /"productName" must be 1–60 characters/);
  });

  test('the theme keeps WCAG AA contrast whatever the brand color', () => {
    // #767676 and #959595 sit where white and black text contrast least.
    for (const color of ['#1d4ed8', '#facc15', '#ffffff', '#000', '#22c55e', '#ef4444', '#767676', '#959595', '#7f7f7f']) {
      const css = themeStylesheet(color);
      const value = (name: string) => parseHex(new RegExp(`--${name}: (#[0-9a-f]{6})`).exec(css)![1]!);
      assert.ok(contrast(value('primary-text'), [255, 255, 255]) >= 4.5, `${color}: link text on white`);
      // A light brand color gets black button text, a dark one white (SC 1.4.3, 4.5:1).
      assert.ok(contrast(value('on-primary'), value('primary')) >= 4.5, `${color}: button text on the button`);
    }
    assert.match(themeStylesheet('#1d4ed8'), /--primary: #1d4ed8;/);
    assert.doesNotMatch(themeStylesheet('#1d4ed8'), /url\(|@import/);
  });
});
