import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/server/accounts/password.ts';
import {
  checkCodeChallenge,
  checkCodeVerifierFormat,
  s256Challenge,
  verifierMatchesChallenge,
} from '../../src/server/authorize/pkce.ts';
import { matchRedirectUri, validateRedirectUriForRegistration } from '../../src/server/clients/redirect-uri.ts';
import { ConfigError, loadConfig } from '../../src/server/config/load.ts';
import { optionalParam, parseFormEncoded, queryParams, requiredParam } from '../../src/server/http/params.ts';
import { generateSecret, generateTimeOrderedIdentifier, generateToken, hashSecret, secretMatchesHash } from '../../src/server/keys/opaque-secret.ts';
import { createHash } from 'node:crypto';
import { OAuthError, type OAuthErrorCode } from '../../src/shared/oauth-error.ts';
import { parseScope } from '../../src/shared/scope.ts';
import type { ClientRecord, ClientType } from '../../src/storage/storage.ts';

/** Asserts that `work` throws an `OAuthError` with this code whose description matches `message`. */
function assertOAuthError(work: () => unknown, code: OAuthErrorCode, message: RegExp): void {
  assert.throws(work, (error: unknown) => {
    assert.ok(error instanceof OAuthError, `expected an OAuthError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.description, message);
    return true;
  });
}

function client(type: ClientType, redirectUris: string[]): ClientRecord {
  return {
    id: 'client-1',
    secretHash: null,
    name: 'Test client',
    type,
    redirectUris,
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['profile'],
    accessTokenTtlSeconds: null,
    refreshTokenTtlSeconds: null,
    accessTokenFormat: 'opaque',
    resources: [],
    tokenEndpointAuthMethod: type === 'public' ? 'none' : 'client_secret_basic',
    consentPolicy: type === 'public' ? 'always_ask' : 'remember',
    canIntrospect: false,
    servedResources: [],
    createdAt: 0,
  };
}

describe('redirect URI matching (RFC 9700 §2.1: exact string comparison)', () => {
  const registered = 'https://client.example/callback';
  const withQuery = 'https://client.example/cb?x=1';
  const confidential = client('confidential', [registered, withQuery]);
  // The same registrations on a public client: the loopback exception must not loosen these.
  const publicClient = client('public', [registered, withQuery]);

  test('the registered string matches itself', () => {
    assert.equal(matchRedirectUri(confidential, registered), registered);
    assert.equal(matchRedirectUri(confidential, withQuery), withQuery);
    assert.equal(matchRedirectUri(publicClient, registered), registered);
  });

  const bypassAttempts: Array<[name: string, requested: string]> = [
    ['trailing slash', 'https://client.example/callback/'],
    ['upper-case host', 'https://CLIENT.example/callback'],
    ['upper-case path', 'https://client.example/Callback'],
    ['upper-case scheme', 'HTTPS://client.example/callback'],
    ['added query', 'https://client.example/callback?next=https://evil.example'],
    ['empty query', 'https://client.example/callback?'],
    ['added fragment', 'https://client.example/callback#evil'],
    ['empty fragment', 'https://client.example/callback#'],
    ['".." segment leaving the path', 'https://client.example/callback/../evil'],
    ['".." segment resolving back to the path', 'https://client.example/x/../callback'],
    ['"." segment', 'https://client.example/./callback'],
    ['percent-encoded ".." (%2e%2e)', 'https://client.example/callback/%2e%2e/evil'],
    ['percent-encoded ".." resolving back (%2E%2E)', 'https://client.example/x/%2E%2E/callback'],
    ['registered host as userinfo of another host', 'https://client.example@evil.example/callback'],
    ['other host as userinfo of the registered host', 'https://evil.example@client.example/callback'],
    ['userinfo with password', 'https://user:pass@client.example/callback'],
    ['encoded slash (%2F)', 'https://client.example%2Fcallback'],
    ['encoded slash in the path', 'https://client.example/callback%2F..%2Fevil'],
    ['encoded letter (%63allback)', 'https://client.example/%63allback'],
    ['encoded host letter', 'https://%63lient.example/callback'],
    ['http instead of https', 'http://client.example/callback'],
    ['other scheme', 'ftp://client.example/callback'],
    ['javascript scheme', 'javascript://client.example/callback'],
    ['different port', 'https://client.example:8443/callback'],
    ['default port spelled out (:443)', 'https://client.example:443/callback'],
    ['IDN look-alike (Cyrillic "е")', 'https://client.\u0435xample/callback'],
    ['punycode look-alike', 'https://xn--client-9xa.example/callback'],
    ['full-width look-alike', 'https://\uff43lient.example/callback'],
    ['backslash for slash', 'https://client.example\\callback'],
    ['backslash before an evil host', 'https://evil.example\\@client.example/callback'],
    ['trailing space', 'https://client.example/callback '],
    ['leading space', ' https://client.example/callback'],
    ['trailing newline', 'https://client.example/callback\n'],
    ['tab inside', 'https://client.example/\tcallback'],
    ['null byte', 'https://client.example/callback\u0000'],
    ['encoded null byte', 'https://client.example/callback%00'],
    ['longer path (prefix match)', 'https://client.example/callback/evil'],
    ['longer last segment (prefix match)', 'https://client.example/callbackx'],
    ['shorter path (suffix match)', 'https://client.example/'],
    ['subdomain of the registered host', 'https://evil.client.example/callback'],
    ['registered host as a subdomain of another', 'https://client.example.evil.example/callback'],
    ['trailing dot on the host', 'https://client.example./callback'],
    ['no scheme', '//client.example/callback'],
    ['empty string', ''],
    ['query of the registered URI with another value', 'https://client.example/cb?x=2'],
    ['query of the registered URI plus another parameter', 'https://client.example/cb?x=1&y=2'],
    ['query of the registered URI dropped', 'https://client.example/cb'],
    ['query of the registered URI encoded differently', 'https://client.example/cb?x=%31'],
    ['query of the registered URI with a fragment', 'https://client.example/cb?x=1#f'],
  ];

  for (const [name, requested] of bypassAttempts) {
    test(`refuses ${name}: ${JSON.stringify(requested)}`, () => {
      assert.equal(matchRedirectUri(confidential, requested), undefined);
      assert.equal(matchRedirectUri(publicClient, requested), undefined);
    });
  }

  describe('loopback port exception (RFC 8252 §7.3)', () => {
    const ipv4 = 'http://127.0.0.1/callback';
    const ipv6 = 'http://[::1]/callback';
    const nativeApp = client('public', [ipv4, ipv6]);
    const webServer = client('confidential', [ipv4, ipv6, 'http://127.0.0.1:5000/callback']);

    const publicCases: Array<[name: string, requested: string, matches: boolean]> = [
      ['IPv4 without a port', ipv4, true],
      ['IPv4 with an ephemeral port', 'http://127.0.0.1:51004/callback', true],
      ['IPv4 with port 80', 'http://127.0.0.1:80/callback', true],
      ['IPv4 with the highest port', 'http://127.0.0.1:65535/callback', true],
      ['IPv6 without a port', ipv6, true],
      ['IPv6 with an ephemeral port', 'http://[::1]:51004/callback', true],
      ['IPv4 with a different path', 'http://127.0.0.1:51004/other', false],
      ['IPv4 with a longer path', 'http://127.0.0.1:51004/callback/evil', false],
      ['IPv4 with a trailing slash', 'http://127.0.0.1:51004/callback/', false],
      ['IPv4 with an added query', 'http://127.0.0.1:51004/callback?x=1', false],
      ['IPv4 with a fragment', 'http://127.0.0.1:51004/callback#f', false],
      ['IPv4 with a ".." segment', 'http://127.0.0.1:51004/x/../callback', false],
      ['IPv4 with a port above 65535', 'http://127.0.0.1:65536/callback', false],
      ['IPv4 with a zero-padded port', 'http://127.0.0.1:08080/callback', false],
      ['IPv4 with an empty port', 'http://127.0.0.1:/callback', false],
      ['IPv4 with a non-numeric port', 'http://127.0.0.1:80a/callback', false],
      ['IPv4 with userinfo', 'http://evil@127.0.0.1:51004/callback', false],
      ['IPv4 followed by userinfo of another host', 'http://127.0.0.1:51004@evil.example/callback', false],
      ['IPv4 with a backslash', 'http://127.0.0.1:51004\\@evil.example/callback', false],
      ['another loopback address (127.0.0.2)', 'http://127.0.0.2:51004/callback', false],
      ['IPv4 spelled in hex', 'http://0x7f000001:51004/callback', false],
      ['IPv6 spelled out in full', 'http://[0:0:0:0:0:0:0:1]:51004/callback', false],
      ['localhost instead of the IP', 'http://localhost:51004/callback', false],
      ['https instead of http', 'https://127.0.0.1:51004/callback', false],
      ['upper-case scheme', 'HTTP://127.0.0.1:51004/callback', false],
      ['another host', 'http://evil.example:51004/callback', false],
      ['IPv6 with a different path', 'http://[::1]:51004/other', false],
    ];
    for (const [name, requested, matches] of publicCases) {
      test(`public client: ${matches ? 'accepts' : 'refuses'} ${name}: ${requested}`, () => {
        assert.equal(matchRedirectUri(nativeApp, requested), matches ? requested : undefined);
      });
    }

    const confidentialCases: Array<[name: string, requested: string, matches: boolean]> = [
      ['IPv4 exactly as registered', ipv4, true],
      ['IPv4 with the registered port', 'http://127.0.0.1:5000/callback', true],
      ['IPv4 with another port', 'http://127.0.0.1:51004/callback', false],
      ['IPv4 with a port where none was registered', 'http://127.0.0.1:80/callback', false],
      ['IPv6 exactly as registered', ipv6, true],
      ['IPv6 with a port', 'http://[::1]:51004/callback', false],
    ];
    for (const [name, requested, matches] of confidentialCases) {
      test(`confidential client: ${matches ? 'accepts' : 'refuses'} ${name}: ${requested}`, () => {
        assert.equal(matchRedirectUri(webServer, requested), matches ? requested : undefined);
      });
    }

    test('localhost gets no port exception, even for a public client', () => {
      const app = client('public', ['http://localhost/callback', 'http://localhost:3000/callback']);
      assert.equal(matchRedirectUri(app, 'http://localhost/callback'), 'http://localhost/callback');
      assert.equal(matchRedirectUri(app, 'http://localhost:3000/callback'), 'http://localhost:3000/callback');
      assert.equal(matchRedirectUri(app, 'http://localhost:3001/callback'), undefined);
      assert.equal(matchRedirectUri(app, 'http://localhost:51004/callback'), undefined);
    });

    test('a loopback request does not match a non-loopback registration of a public client', () => {
      const app = client('public', ['https://client.example/callback']);
      assert.equal(matchRedirectUri(app, 'http://127.0.0.1:51004/callback'), undefined);
    });
  });
});

describe('redirect URI validation at registration', () => {
  const rejected: Array<[name: string, uri: string, type: ClientType, problem: RegExp]> = [
    ['http on a public host', 'http://client.example/callback', 'confidential', /uses http.*loopback/],
    ['http on a public host, public client', 'http://client.example/callback', 'public', /uses http.*loopback/],
    ['http on a host that starts with localhost', 'http://localhost.evil.example/callback', 'public', /uses http/],
    // RFC 8252 §7.3 and §8.3: loopback http is for native apps, on an IP literal (issue 13).
    ['http on 127.0.0.1 for a web client', 'http://127.0.0.1:8080/callback', 'confidential', /only native \(public\) clients may use/],
    ['http on [::1] for a web client', 'http://[::1]/callback', 'confidential', /only native \(public\) clients may use/],
    ['http on localhost', 'http://localhost:3000/callback', 'public', /must use an IP literal \(127\.0\.0\.1 or \[::1\]\), RFC 8252 §8\.3/],
    ['http on localhost for a web client', 'http://localhost:3000/callback', 'confidential', /must use an IP literal/],
    ['a fragment', 'https://client.example/callback#section', 'confidential', /fragment/],
    ['an empty fragment', 'https://client.example/callback#', 'confidential', /fragment/],
    ['userinfo', 'https://user@client.example/callback', 'confidential', /userinfo/],
    ['userinfo with a password', 'https://user:secret@client.example/callback', 'confidential', /userinfo/],
    ['userinfo naming the expected host', 'https://client.example@evil.example/callback', 'confidential', /userinfo/],
    ['a ".." segment', 'https://client.example/a/../callback', 'confidential', /dot segments/],
    ['a "." segment', 'https://client.example/./callback', 'confidential', /dot segments/],
    ['a trailing ".." segment', 'https://client.example/callback/..', 'confidential', /dot segments/],
    ['a percent-encoded ".." segment', 'https://client.example/a/%2e%2e/callback', 'confidential', /dot segments/],
    ['a relative path', '/callback', 'confidential', /not an absolute URI/],
    ['a scheme-relative URI', '//client.example/callback', 'confidential', /not an absolute URI/],
    ['a bare word', 'callback', 'public', /not an absolute URI/],
    ['the empty string', '', 'confidential', /not an absolute URI/],
    ['a javascript: URI', 'javascript:alert(1)', 'confidential', /must use https/],
    ['a javascript: URI, public client', 'javascript:alert(1)', 'public', /must use https/],
    ['a data: URI', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', 'confidential', /must use https/],
    ['a data: URI, public client', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', 'public', /must use https/],
    ['a private-use scheme for a confidential client', 'com.example.app:/cb', 'confidential', /must use https/],
    ['a private-use scheme without a dot, public client', 'myapp:/cb', 'public', /private-use scheme/],
    ['a backslash', 'https://client.example\\callback', 'confidential', /percent-encoded/],
    ['a space', 'https://client.example/call back', 'confidential', /percent-encoded/],
    ['a null byte', 'https://client.example/callback\u0000', 'confidential', /percent-encoded/],
    ['a non-ASCII host', 'https://client.\u0435xample/callback', 'confidential', /percent-encoded/],
    ['an absurdly long URI', `https://client.example/${'a'.repeat(2000)}`, 'confidential', /longer than 2000/],
  ];
  for (const [name, uri, type, problem] of rejected) {
    test(`refuses ${name} (${type})`, () => {
      assertOAuthError(() => validateRedirectUriForRegistration(uri, type), 'invalid_redirect_uri', problem);
    });
  }

  test('the message quotes the URI it refuses', () => {
    assertOAuthError(
      () => validateRedirectUriForRegistration('http://client.example/callback', 'confidential'),
      'invalid_redirect_uri',
      /"http:\/\/client\.example\/callback"/,
    );
  });

  const accepted: Array<[name: string, uri: string, type: ClientType]> = [
    ['https', 'https://client.example/callback', 'confidential'],
    ['https with a query', 'https://client.example/cb?x=1', 'confidential'],
    ['https with a port', 'https://client.example:8443/callback', 'confidential'],
    ['https, public client', 'https://client.example/callback', 'public'],
    ['http on 127.0.0.1', 'http://127.0.0.1/callback', 'public'],
    ['http on 127.0.0.1 with a port', 'http://127.0.0.1:8080/callback', 'public'],
    ['http on [::1]', 'http://[::1]/callback', 'public'],
    ['a reverse-domain private-use scheme, public client', 'com.example.app:/cb', 'public'],
    ['a path segment that merely starts with a dot', 'https://client.example/.well-known/cb', 'confidential'],
  ];
  for (const [name, uri, type] of accepted) {
    test(`accepts ${name} (${type}) and returns it unchanged`, () => {
      assert.equal(validateRedirectUriForRegistration(uri, type), uri);
    });
  }

  test('allowInsecureHttp lets a web client use loopback http on an IP literal, and nothing more', () => {
    const options = { allowInsecureHttp: true };
    assert.equal(validateRedirectUriForRegistration('http://127.0.0.1:3000/callback', 'confidential', options), 'http://127.0.0.1:3000/callback');
    assertOAuthError(() => validateRedirectUriForRegistration('http://localhost:3000/callback', 'confidential', options), 'invalid_redirect_uri', /IP literal/);
    assertOAuthError(() => validateRedirectUriForRegistration('http://client.example/callback', 'confidential', options), 'invalid_redirect_uri', /uses http/);
  });
});

describe('scope parsing (RFC 6749 §3.3)', () => {
  test('splits on spaces, keeping first-seen order', () => {
    assert.deepEqual(parseScope('profile email calendar.read'), ['profile', 'email', 'calendar.read']);
  });

  test('drops duplicates', () => {
    assert.deepEqual(parseScope('email profile email profile'), ['email', 'profile']);
  });

  test('tolerates runs of spaces and leading or trailing spaces', () => {
    assert.deepEqual(parseScope('  profile   email  '), ['profile', 'email']);
  });

  test('an empty or all-space value is invalid_scope: a scope names at least one token', () => {
    for (const value of ['', '   ']) {
      assert.throws(() => parseScope(value), (error: unknown) => {
        assert.ok(error instanceof OAuthError);
        assert.equal(error.code, 'invalid_scope');
        assert.match(error.description, /at least one scope/);
        return true;
      });
    }
  });

  test('accepts every printable character the grammar allows', () => {
    const token = '!#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~';
    assert.deepEqual(parseScope(token), [token]);
  });

  const refused: Array<[name: string, value: string]> = [
    ['a double quote', 'profile "email"'],
    ['a backslash', 'profile\\email'],
    ['a non-ASCII letter', 'profile caf\u00e9'],
    ['an emoji', 'profile \u{1F600}'],
    ['a tab between tokens', 'profile\temail'],
    ['a newline between tokens', 'profile\nemail'],
    ['a non-breaking space between tokens', 'profile\u00a0email'],
    ['a leading tab', '\tprofile'],
    ['a trailing newline', 'profile\n'],
    ['a trailing non-breaking space', 'profile\u00a0'],
    ['a leading byte-order mark', '\ufeffprofile'],
    ['a null byte', 'profile\u0000'],
    ['DEL', 'profile\u007f'],
  ];
  for (const [name, value] of refused) {
    test(`refuses ${name} with invalid_scope`, () => {
      assertOAuthError(() => parseScope(value), 'invalid_scope', /"scope" must be scope tokens/);
    });
  }

  test('the message names the parameter it was given', () => {
    assertOAuthError(() => parseScope('a"b', 'requested_scope'), 'invalid_scope', /"requested_scope"/);
  });
});

describe('PKCE (RFC 7636)', () => {
  // RFC 7636 Appendix B.
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  test('S256 of the Appendix B verifier is the Appendix B challenge', () => {
    assert.equal(s256Challenge(verifier), challenge);
    assert.equal(verifierMatchesChallenge(verifier, challenge), true);
  });

  test('a different verifier does not match the challenge', () => {
    assert.equal(verifierMatchesChallenge(`${verifier.slice(0, -1)}l`, challenge), false);
    assert.equal(verifierMatchesChallenge('a'.repeat(43), challenge), false);
  });

  test('the verifier itself does not match as a challenge (no plain fallback)', () => {
    assert.equal(verifierMatchesChallenge(verifier, verifier), false);
  });

  test('a stored challenge of another length does not match and does not throw', () => {
    assert.equal(verifierMatchesChallenge(verifier, challenge.slice(0, -1)), false);
    assert.equal(verifierMatchesChallenge(verifier, ''), false);
  });

  test('an S256 challenge is accepted', () => {
    assert.equal(checkCodeChallenge(challenge, 'S256'), challenge);
  });

  test('no challenge and no method means no PKCE', () => {
    assert.equal(checkCodeChallenge(undefined, undefined), undefined);
  });

  test('"plain" is refused', () => {
    assertOAuthError(() => checkCodeChallenge(verifier, 'plain'), 'invalid_request', /"code_challenge_method" must be S256.*plain/);
  });

  test('a missing method is refused, because it means plain', () => {
    assertOAuthError(() => checkCodeChallenge(challenge, undefined), 'invalid_request', /"code_challenge_method" is required/);
  });

  test('a method in another case is refused', () => {
    assertOAuthError(() => checkCodeChallenge(challenge, 's256'), 'invalid_request', /"code_challenge_method" must be S256/);
  });

  test('a method without a challenge is refused', () => {
    assertOAuthError(() => checkCodeChallenge(undefined, 'S256'), 'invalid_request', /without "code_challenge"/);
  });

  const badChallenges: Array<[name: string, value: string]> = [
    ['42 characters', challenge.slice(0, 42)],
    ['44 characters', `${challenge}A`],
    ['128 characters (a plain verifier)', 'a'.repeat(128)],
    ['base64 padding', `${challenge.slice(0, 42)}=`],
    ['standard base64 characters', `${challenge.slice(0, 41)}+/`],
    ['a "."', `${challenge.slice(0, 42)}.`],
  ];
  for (const [name, value] of badChallenges) {
    test(`a challenge of ${name} is refused`, () => {
      assertOAuthError(() => checkCodeChallenge(value, 'S256'), 'invalid_request', /"code_challenge" must be 43 characters/);
    });
  }

  const verifierCases: Array<[name: string, value: string, valid: boolean]> = [
    ['42 characters', 'a'.repeat(42), false],
    ['43 characters', 'a'.repeat(43), true],
    ['128 characters', 'a'.repeat(128), true],
    ['129 characters', 'a'.repeat(129), false],
    ['every unreserved character', `${'A'.repeat(30)}Zaz09-._~`.padEnd(43, 'x'), true],
    ['the Appendix B verifier', verifier, true],
    ['a "+"', `${'a'.repeat(42)}+`, false],
    ['a "/"', `${'a'.repeat(42)}/`, false],
    ['a "="', `${'a'.repeat(42)}=`, false],
    ['a space', `${'a'.repeat(42)} `, false],
    ['a "%"', `${'a'.repeat(42)}%`, false],
    ['a non-ASCII letter', `${'a'.repeat(42)}\u00e9`, false],
    ['a newline at the end', `${'a'.repeat(43)}\n`, false],
    ['the empty string', '', false],
  ];
  for (const [name, value, valid] of verifierCases) {
    test(`a verifier of ${name} is ${valid ? 'accepted' : 'refused'}`, () => {
      if (valid) assert.doesNotThrow(() => checkCodeVerifierFormat(value));
      else assertOAuthError(() => checkCodeVerifierFormat(value), 'invalid_request', /"code_verifier" must be 43–128 characters/);
    });
  }
});

describe('strict form parsing (application/x-www-form-urlencoded)', () => {
  test('parses names and values, decoding percent-escapes', () => {
    const params = parseFormEncoded('grant_type=authorization_code&redirect_uri=https%3A%2F%2Fclient.example%2Fcb');
    assert.deepEqual(params.get('grant_type'), ['authorization_code']);
    assert.deepEqual(params.get('redirect_uri'), ['https://client.example/cb']);
  });

  test('decodes "+" as a space and "%2B" as a plus', () => {
    const params = parseFormEncoded('scope=profile+email&a%2Bb=c%2Bd');
    assert.deepEqual(params.get('scope'), ['profile email']);
    assert.deepEqual(params.get('a+b'), ['c+d']);
  });

  test('decodes UTF-8 in a Buffer and in percent-escapes', () => {
    assert.deepEqual(parseFormEncoded(Buffer.from('name=caf\u00e9')).get('name'), ['caf\u00e9']);
    assert.deepEqual(parseFormEncoded('name=caf%C3%A9').get('name'), ['caf\u00e9']);
  });

  test('keeps every value of a repeated parameter, in order', () => {
    const params = parseFormEncoded('scope=a&state=s&scope=b');
    assert.deepEqual(params.get('scope'), ['a', 'b']);
    assert.deepEqual(params.get('state'), ['s']);
  });

  test('optionalParam refuses a repeated parameter, naming it (RFC 6749 §3.1)', () => {
    const params = parseFormEncoded('scope=a&scope=b');
    assertOAuthError(() => optionalParam(params, 'scope', 100), 'invalid_request', /"scope" must not be repeated/);
  });

  test('a repeat counts even when one of the values is empty', () => {
    const params = parseFormEncoded('redirect_uri=&redirect_uri=https%3A%2F%2Fevil.example');
    assertOAuthError(() => optionalParam(params, 'redirect_uri', 100), 'invalid_request', /"redirect_uri" must not be repeated/);
  });

  test('an empty value is treated as absent (RFC 6749 §3.1)', () => {
    const params = parseFormEncoded('state=&nonce');
    assert.equal(optionalParam(params, 'state', 100), undefined);
    assert.equal(optionalParam(params, 'nonce', 100), undefined);
    assert.equal(optionalParam(params, 'missing', 100), undefined);
    assertOAuthError(() => requiredParam(params, 'state', 100), 'invalid_request', /"state" is required/);
  });

  test('requiredParam returns a present value', () => {
    assert.equal(requiredParam(parseFormEncoded('code=abc'), 'code', 100), 'abc');
  });

  test('a value at the length limit is accepted and one character more is refused, naming the parameter', () => {
    const atLimit = parseFormEncoded(`state=${'x'.repeat(100)}`);
    assert.equal(optionalParam(atLimit, 'state', 100), 'x'.repeat(100));
    const over = parseFormEncoded(`state=${'x'.repeat(101)}`);
    assertOAuthError(() => optionalParam(over, 'state', 100), 'invalid_request', /"state" is longer than 100 characters/);
  });

  test('the length limit applies to the decoded value', () => {
    const params = parseFormEncoded(`state=${'%41'.repeat(100)}`);
    assert.equal(optionalParam(params, 'state', 100), 'A'.repeat(100));
  });

  test('empty pairs are skipped', () => {
    const params = parseFormEncoded('&&a=1&&');
    assert.deepEqual([...params.keys()], ['a']);
    assert.equal(parseFormEncoded('').size, 0);
  });

  const malformed: Array<[name: string, input: string | Buffer]> = [
    ['a lone "%"', 'state=%'],
    ['a truncated escape', 'state=%4'],
    ['a non-hex escape', 'state=%zz'],
    ['a malformed escape in a name', 'st%ate=1'],
    ['an escape of a byte that is not UTF-8 (%ff)', 'state=%ff'],
    ['an escaped overlong encoding (%C0%AF)', 'state=%C0%AF'],
    ['an escaped truncated sequence (%C3)', 'state=%C3'],
    ['an escaped lone surrogate (%ED%A0%80)', 'state=%ED%A0%80'],
    ['a raw 0xff byte in a Buffer', Buffer.from([0x61, 0x3d, 0xff])],
    ['a raw truncated sequence in a Buffer', Buffer.from([0x61, 0x3d, 0x62, 0xc3])],
  ];
  for (const [name, input] of malformed) {
    test(`refuses ${name} with invalid_request`, () => {
      assertOAuthError(() => parseFormEncoded(input), 'invalid_request', /percent-encoding|not valid UTF-8|not UTF-8/);
    });
  }

  test('queryParams reads the query of a raw request URL, strictly', () => {
    assert.deepEqual(queryParams('/authorize?client_id=c&scope=a+b').get('scope'), ['a b']);
    assert.equal(queryParams('/authorize').size, 0);
    assert.equal(queryParams(undefined).size, 0);
    assertOAuthError(() => queryParams('/authorize?state=%ff'), 'invalid_request', /percent-encoding/);
  });
});

describe('configuration loading', () => {
  /** Writes a config file in a fresh folder that is removed when the test ends. */
  function configFile(t: TestContext, contents: unknown): string {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.json');
    writeFileSync(file, typeof contents === 'string' ? contents : JSON.stringify(contents));
    return file;
  }

  function assertConfigError(work: () => unknown, message: RegExp): void {
    assert.throws(work, (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.match(error.message, message);
      return true;
    });
  }

  test('the defaults: port 4000 on 127.0.0.1, issuer http://127.0.0.1:4000', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.port, 4000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.issuer, 'http://127.0.0.1:4000');
    assert.equal(config.databaseUrl, 'sqlite:.gatehouse/gatehouse.db');
  });

  test('the environment overrides the file, which overrides the defaults', (t) => {
    const file = configFile(t, { port: 5000, host: '::1', logLevel: 'warn' });
    const loaded = loadConfig({ env: { PORT: '6000' }, file });
    assert.equal(loaded.port, 6000, 'PORT from the environment wins over the file');
    assert.equal(loaded.host, '::1', 'host from the file wins over the default');
    assert.equal(loaded.logLevel, 'warn');
    assert.equal(loaded.accessTokenTtlSeconds, 3600, 'untouched options keep their default');
    assert.equal(loaded.issuer, 'http://[::1]:6000', 'the derived issuer uses the final host and port');
  });

  test('an empty environment variable is treated as unset', () => {
    assert.equal(loadConfig({ env: { PORT: '', GATEHOUSE_ISSUER: '' } }).port, 4000);
  });

  test('the issuer defaults to http://HOST:PORT', () => {
    assert.equal(loadConfig({ env: { HOST: 'localhost', PORT: '8080' } }).issuer, 'http://localhost:8080');
  });

  test('a wildcard bind address gives a loopback issuer', () => {
    assert.equal(loadConfig({ env: { HOST: '0.0.0.0', PORT: '8080' } }).issuer, 'http://127.0.0.1:8080');
  });

  test('GATEHOUSE_ISSUER sets the issuer, without its trailing slash', () => {
    assert.equal(loadConfig({ env: { GATEHOUSE_ISSUER: 'https://id.example/' } }).issuer, 'https://id.example');
    assert.equal(loadConfig({ env: { GATEHOUSE_ISSUER: 'https://id.example/tenant/' } }).issuer, 'https://id.example/tenant');
  });

  test('PORT=abc is an error naming PORT', () => {
    assertConfigError(() => loadConfig({ env: { PORT: 'abc' } }), /\bPORT\b.*whole number.*"abc"/);
  });

  test('a negative or fractional PORT is an error naming PORT', () => {
    assertConfigError(() => loadConfig({ env: { PORT: '-1' } }), /\bPORT\b/);
    assertConfigError(() => loadConfig({ env: { PORT: '80.5' } }), /\bPORT\b/);
  });

  test('a PORT above 65535 is an error naming the port', () => {
    assertConfigError(() => loadConfig({ env: { PORT: '65536' } }), /"port" must be a whole number from 0 to 65535/);
  });

  test('an unknown key in the config file is an error naming the key', (t) => {
    const file = configFile(t, { port: 5000, prot: 5001 });
    assertConfigError(() => loadConfig({ file }), /unknown option "prot"/);
  });

  test('a config file value of the wrong type is an error naming the option', (t) => {
    const file = configFile(t, { port: '5000' });
    assertConfigError(() => loadConfig({ file }), /"port" must be a whole number/);
  });

  test('signingThreads: 0 (one per core) by default, a count from the file, and a negative or fractional count refused', (t) => {
    assert.equal(loadConfig({ env: {} }).signingThreads, 0);
    assert.equal(loadConfig({ file: configFile(t, { signingThreads: 2 }) }).signingThreads, 2);
    assertConfigError(() => loadConfig({ file: configFile(t, { signingThreads: -1 }) }), /"signingThreads" must be a whole number from 0 to 64/);
    assertConfigError(() => loadConfig({ file: configFile(t, { signingThreads: 1.5 }) }), /"signingThreads" must be a whole number/);
  });

  test('refreshTokenFamilyMaxAgeSeconds: 90 days by default, a value from the file, and zero or a fraction refused', (t) => {
    assert.equal(loadConfig({ env: {} }).refreshTokenFamilyMaxAgeSeconds, 7_776_000);
    assert.equal(loadConfig({ file: configFile(t, { refreshTokenFamilyMaxAgeSeconds: 86_400 }) }).refreshTokenFamilyMaxAgeSeconds, 86_400);
    assertConfigError(() => loadConfig({ file: configFile(t, { refreshTokenFamilyMaxAgeSeconds: 0 }) }), /"refreshTokenFamilyMaxAgeSeconds" must be a whole number/);
    assertConfigError(() => loadConfig({ file: configFile(t, { refreshTokenFamilyMaxAgeSeconds: 1.5 }) }), /"refreshTokenFamilyMaxAgeSeconds" must be a whole number/);
  });

  test('a config file that is not a JSON object is an error naming the file', (t) => {
    assertConfigError(() => loadConfig({ file: configFile(t, [1, 2]) }), /must hold a JSON object/);
    assertConfigError(() => loadConfig({ file: configFile(t, '{"port": ') }), /cannot read config file .*config\.json/);
  });

  test('a missing config file is an error naming it', () => {
    assertConfigError(() => loadConfig({ file: '/nonexistent/gatehouse.json' }), /\/nonexistent\/gatehouse\.json/);
  });

  const refusedIssuers: Array<[name: string, issuer: string, message: RegExp]> = [
    ['http on a public host', 'http://id.example', /must be an https URL/],
    ['http on a host that starts with localhost', 'http://localhost.evil.example', /must be an https URL/],
    ['another scheme', 'ftp://id.example', /must be an https URL/],
    ['a query', 'https://id.example?tenant=1', /query or fragment/],
    ['a fragment', 'https://id.example#top', /query or fragment/],
    ['a relative URL', 'id.example', /absolute URL/],
  ];
  for (const [name, issuer, message] of refusedIssuers) {
    test(`an issuer with ${name} is refused`, () => {
      assertConfigError(() => loadConfig({ env: { GATEHOUSE_ISSUER: issuer } }), message);
    });
  }

  test('an http issuer on a loopback host is accepted', () => {
    assert.equal(loadConfig({ env: { GATEHOUSE_ISSUER: 'http://127.0.0.1:4000' } }).issuer, 'http://127.0.0.1:4000');
    assert.equal(loadConfig({ env: { GATEHOUSE_ISSUER: 'http://[::1]:4000/' } }).issuer, 'http://[::1]:4000');
  });

  test('a non-loopback HOST without an explicit issuer is refused (it would be plain http)', () => {
    assertConfigError(() => loadConfig({ env: { HOST: 'id.example' } }), /"issuer" must be an https URL/);
  });
});

describe('password hashing (argon2id)', () => {
  test('hashes to an argon2id PHC string that verifies the right password only', async () => {
    const hash = await hashPassword('correct horse battery staple');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await verifyPassword('correct horse battery staple', hash), true);
    assert.equal(await verifyPassword('correct horse battery stapler', hash), false);
    assert.equal(await verifyPassword('', hash), false);
  });

  test('two hashes of one password differ (random salt)', async () => {
    const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    assert.notEqual(a, b);
  });

  test('handles non-ASCII passwords', async () => {
    const hash = await hashPassword('p\u00e4ssw\u00f6rd \u{1F511}');
    assert.equal(await verifyPassword('p\u00e4ssw\u00f6rd \u{1F511}', hash), true);
    assert.equal(await verifyPassword('passwort \u{1F511}', hash), false);
  });

  const malformedHashes: Array<[name: string, hash: string]> = [
    ['the empty string', ''],
    ['plain text', 'not a hash'],
    ['a truncated argon2id string', '$argon2id$v=19$m=19456,t=2,p=1$'],
    ['a bcrypt hash', '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'],
    ['absurd parameters', '$argon2id$v=19$m=1,t=0,p=0$c2FsdHNhbHQ$aGFzaA'],
    ['invalid base64', '$argon2id$v=19$m=19456,t=2,p=1$!!!!$????'],
  ];
  for (const [name, hash] of malformedHashes) {
    test(`verifying against ${name} resolves to false instead of throwing`, async () => {
      assert.equal(await verifyPassword('password', hash), false);
    });
  }
});

describe('opaque secrets and tokens', () => {
  const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

  test('a token is a time prefix (milliseconds, hex) and 256 random bits; its stored form keeps the prefix before the SHA-256 of the whole token', () => {
    const before = Date.now();
    const token = generateToken();
    assert.match(token, /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/);
    const issuedAt = parseInt(token.slice(0, 11), 16);
    assert.ok(issuedAt >= before && issuedAt <= Date.now(), 'the prefix is the time of issue');
    assert.equal(hashSecret(token), token.slice(0, 11) + sha256(token));
    assert.ok(!hashSecret(token).includes(token.slice(11)), 'the random part is not stored');
  });

  test('tokens issued later sort after earlier ones in their stored form, so new rows append to the index', async () => {
    const first = hashSecret(generateToken());
    await new Promise((resolve) => setTimeout(resolve, 2));
    const second = hashSecret(generateToken());
    assert.ok(first < second, `${first} < ${second}`);
  });

  test('a client secret (or a token of the old format) is stored as the plain SHA-256, and compared in constant time against it', () => {
    const secret = generateSecret();
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(hashSecret(secret), sha256(secret));
    assert.ok(secretMatchesHash(secret, hashSecret(secret)));
    assert.ok(!secretMatchesHash(`${secret}x`, hashSecret(secret)));
    // Something shaped like a token but with a forged prefix is keyed by that prefix: it finds nothing unless its hash matches.
    const token = generateToken();
    assert.notEqual(hashSecret(`00000000000${token.slice(11)}`), hashSecret(token));
  });

  test('a JWT whose jti is time-ordered is stored under the jti\'s time prefix; any other JWT, or garbage with dots, under its plain hash', () => {
    const jwt = (payload: object) => `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;
    const ordered = jwt({ jti: generateTimeOrderedIdentifier(), sub: 'x' });
    const jti = JSON.parse(Buffer.from(ordered.split('.')[1]!, 'base64url').toString()).jti as string;
    assert.equal(hashSecret(ordered), jti.slice(0, 11) + sha256(ordered));
    const uuid = jwt({ jti: '3f2a1b4c-1111-4222-8333-444455556666' });
    assert.equal(hashSecret(uuid), sha256(uuid));
    for (const other of ['a.b.c', 'a..', '.', 'x.%%%.y', jwt({ jti: 42 }), jwt({}), `x.${'A'.repeat(5000)}.y`]) assert.equal(hashSecret(other), sha256(other), other);
  });

  test('secrets do not repeat (the random pool hands out every byte once)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(generateSecret()).add(generateToken().slice(11));
    assert.equal(seen.size, 2000);
  });
});
