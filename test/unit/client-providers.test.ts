/**
 * The provider presets of the client library against responses written in each provider's
 * documented format: GitHub ("Authorizing OAuth apps", REST `GET /user`), Google ("Using OAuth
 * 2.0 to Access Google APIs", OpenID Connect userinfo), Kakao ("Kakao Login REST API": token,
 * `GET /v2/user/me`) and Naver ("네이버 로그인 API 명세": token, `GET /v1/nid/me`). The real
 * providers cannot be reached from here, so `completeSignIn` gets a `fetch` that serves those
 * recorded answers and records what the client sent.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  beginSignIn,
  completeSignIn,
  genericProvider,
  githubProvider,
  googleProvider,
  kakaoProvider,
  naverProvider,
  parseTokenResponse,
  TokenEndpointError,
  type Provider,
  type SignInTransaction,
} from '../../src/client/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { OAuthError, type OAuthErrorCode } from '../../src/shared/oauth-error.ts';

const redirectUri = 'https://mine.example/callback';
const credentials = { clientId: 'mine-client-id', clientSecret: 'mine-client-secret' };
const start = Date.UTC(2026, 10, 27, 12);

// ---------------------------------------------------------------------------------------------
// Recorded responses, in each provider's documented shape.

/** GitHub OAuth app token response with `Accept: application/json`: no expiry, no refresh token, comma-separated scopes. */
const githubTokenResponse = { access_token: 'gho_16C7e42F292c6912E7710c838347Ae178B4a', scope: 'read:user,user:email', token_type: 'bearer' };
/** The same answer GitHub gives when the client forgets `Accept: application/json`. */
const githubTokenResponseForm = 'access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer';
/** GitHub's error answer: HTTP 200 with an `error` field. */
const githubTokenError = {
  error: 'bad_verification_code',
  error_description: 'The code passed is incorrect or expired.',
  error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code',
};
/** `GET https://api.github.com/user` (abridged from the REST reference). */
const githubUser = {
  login: 'octocat',
  id: 1,
  node_id: 'MDQ6VXNlcjE=',
  avatar_url: 'https://github.com/images/error/octocat_happy.gif',
  gravatar_id: '',
  url: 'https://api.github.com/users/octocat',
  html_url: 'https://github.com/octocat',
  type: 'User',
  site_admin: false,
  name: 'monalisa octocat',
  company: 'GitHub',
  blog: 'https://github.com/blog',
  location: 'San Francisco',
  email: 'octocat@github.com',
  hireable: false,
  bio: 'There once was...',
  twitter_username: 'monatheoctocat',
  public_repos: 2,
  public_gists: 1,
  followers: 20,
  following: 0,
  created_at: '2008-01-14T04:33:35Z',
  updated_at: '2008-01-14T04:33:35Z',
};

/** Google's token endpoint answer for `access_type=offline` with `openid email profile`. */
const googleTokenResponse = {
  access_token: 'ya29.a0AfH6SMBx-example',
  expires_in: 3599,
  refresh_token: '1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI',
  scope: 'https://www.googleapis.com/auth/userinfo.email openid https://www.googleapis.com/auth/userinfo.profile',
  token_type: 'Bearer',
  id_token: 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL2FjY291bnRzLmdvb2dsZS5jb20ifQ.c2lnbmF0dXJl',
};
/** Google's refresh answer: a new access token, the refresh token is not rotated. */
const googleRefreshResponse = {
  access_token: 'ya29.a0AfH6SMC-refreshed',
  expires_in: 3599,
  scope: 'openid https://www.googleapis.com/auth/userinfo.email',
  token_type: 'Bearer',
};
/** `GET https://openidconnect.googleapis.com/v1/userinfo`. */
const googleUserinfo = {
  sub: '110169484474386276334',
  name: 'Jane Doe',
  given_name: 'Jane',
  family_name: 'Doe',
  picture: 'https://lh3.googleusercontent.com/a/ACg8ocK-example=s96-c',
  email: 'janedoe@gmail.com',
  email_verified: true,
  locale: 'en',
};

/** Kakao's token answer for the default scopes (no OpenID Connect). */
const kakaoTokenResponse = {
  token_type: 'bearer',
  access_token: 'kakao-access-token-R8d1Vy5nWlTqVg',
  expires_in: 21599,
  refresh_token: 'kakao-refresh-token-Zx1qP0m',
  refresh_token_expires_in: 5183999,
  scope: 'profile_image profile_nickname',
};
/** `GET https://kapi.kakao.com/v2/user/me` for an app with only the nickname and image consented. */
const kakaoUserDefaultScopes = {
  id: 3141592653,
  connected_at: '2022-04-11T01:45:28Z',
  properties: { nickname: '홍길동', profile_image: 'http://k.kakaocdn.net/dn/dpk9l1/btqmGhA2lKL/img_640x640.jpg' },
  kakao_account: {
    profile_nickname_needs_agreement: false,
    profile_image_needs_agreement: false,
    profile: {
      nickname: '홍길동',
      thumbnail_image_url: 'http://k.kakaocdn.net/dn/dpk9l1/btqmGhA2lKL/img_110x110.jpg',
      profile_image_url: 'http://k.kakaocdn.net/dn/dpk9l1/btqmGhA2lKL/img_640x640.jpg',
      is_default_image: false,
      is_default_nickname: false,
    },
  },
};
/** The same user for a business app that was also granted `account_email`. */
const kakaoUserWithEmail = {
  ...kakaoUserDefaultScopes,
  kakao_account: {
    ...kakaoUserDefaultScopes.kakao_account,
    email_needs_agreement: false,
    is_email_valid: true,
    is_email_verified: true,
    email: 'sample@sample.com',
  },
};

/** Naver's token answer: `expires_in` is a string. */
const naverTokenResponse = {
  access_token: 'AAAAQosjWDJieBiQZc3to9YQp6HDLvrmyKC+6+iZ3gq7qrkqf50ljZC+Lgoqrg',
  refresh_token: 'c8ceMEJisO4Se7uGisHoX0f5JEii7JnipglQipkOn5Zp3tyP7dHQoP0zNKHUq2gY',
  token_type: 'bearer',
  expires_in: '3600',
};
/** Naver's error answer (HTTP 200). */
const naverTokenError = { error: 'invalid_request', error_description: 'no valid data in session' };
/** `GET https://openapi.naver.com/v1/nid/me`. */
const naverMe = {
  resultcode: '00',
  message: 'success',
  response: {
    email: 'openapi@naver.com',
    nickname: 'OpenAPI',
    profile_image: 'https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif',
    age: '40-49',
    gender: 'F',
    id: '32742776',
    name: '오픈 API',
    birthday: '10-01',
    birthyear: '1900',
    mobile: '010-0000-0000',
  },
};

// ---------------------------------------------------------------------------------------------
// Helpers.

function assertOAuthError(code: OAuthErrorCode, message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof OAuthError, `expected an OAuthError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.description, message);
    return true;
  };
}

interface RecordedRequest {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

/** A `fetch` that answers from a table of URL → response and records every request it is given. */
function recordedFetch(routes: Record<string, () => Response>): { fetch: typeof fetch; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const fake = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    const body = init.body === undefined || init.body === null ? '' : String(init.body);
    requests.push({ url, method: init.method ?? 'GET', headers: new Headers(init.headers), body });
    const route = routes[url];
    if (route === undefined) throw new TypeError(`fetch failed: no recorded response for ${url}`);
    return route();
  };
  return { fetch: fake as typeof fetch, requests };
}

const json = (body: unknown, status = 200) => () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function callback(transaction: SignInTransaction, params: Record<string, string>): URL {
  const url = new URL(transaction.redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url;
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** What every authorization URL must carry, whichever the provider. */
function assertCommonAuthorizationParams(provider: Provider, url: URL, transaction: SignInTransaction): void {
  assert.equal(`${url.origin}${url.pathname}`, provider.authorizationEndpoint);
  assert.equal(url.searchParams.get('response_type'), 'code');
  assert.equal(url.searchParams.get('client_id'), credentials.clientId);
  assert.equal(url.searchParams.get('redirect_uri'), redirectUri);
  assert.equal(url.searchParams.get('state'), transaction.state);
  assert.match(transaction.state, /^[A-Za-z0-9_-]{43}$/, 'state carries 256 random bits');
  assert.equal(url.searchParams.has('client_secret'), false, 'the secret never travels through the browser');
  if (provider.pkce) {
    // RFC 7636 §4.1–4.2: a 43–128 character verifier, its S256 challenge in the URL.
    assert.match(transaction.codeVerifier, /^[A-Za-z0-9._~-]{43,128}$/);
    assert.equal(url.searchParams.get('code_challenge'), s256(transaction.codeVerifier));
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  } else {
    assert.equal(url.searchParams.has('code_challenge'), false);
    assert.equal(url.searchParams.has('code_challenge_method'), false);
  }
}

// ---------------------------------------------------------------------------------------------

describe('GitHub preset', () => {
  const github = githubProvider(credentials);

  test('parses the token response: comma-separated scopes, no expiry, no refresh token', () => {
    const clock = new ManualClock(start);
    const tokens = parseTokenResponse(githubTokenResponse, 200, ['read:user', 'user:email'], clock);
    assert.deepEqual(tokens, { accessToken: githubTokenResponse.access_token, scopes: ['read:user', 'user:email'] });
    assert.equal(tokens.expiresAt, undefined, 'OAuth-app tokens do not expire');
    assert.equal(tokens.refreshToken, undefined);
  });

  test('an error answered with status 200 is still an error', () => {
    assert.throws(
      () => parseTokenResponse(githubTokenError, 200, ['read:user'], new ManualClock(start)),
      (error: unknown) => {
        assert.ok(error instanceof TokenEndpointError);
        // GitHub's own code for a dead code is normalized to RFC 6749's.
        assert.equal(error.code, 'invalid_grant');
        assert.equal(error.description, 'The code passed is incorrect or expired.');
        return true;
      },
    );
    assert.throws(
      () => parseTokenResponse({ error: 'bad_refresh_token', error_description: 'The refresh token passed is incorrect or expired.' }, 200, [], new ManualClock(start)),
      (error: unknown) => error instanceof TokenEndpointError && error.code === 'invalid_grant',
    );
  });

  test('normalizes GET /user, with and without a public email', () => {
    assert.deepEqual(github.profileFrom(githubUser, undefined), {
      subject: '1',
      name: 'monalisa octocat',
      username: 'octocat',
      email: 'octocat@github.com',
      emailVerified: true,
      picture: 'https://github.com/images/error/octocat_happy.gif',
      raw: githubUser,
    });
    const privateEmail = { ...githubUser, email: null, name: null };
    const profile = github.profileFrom(privateEmail, undefined);
    assert.equal(profile.email, undefined);
    assert.equal(profile.emailVerified, false);
    assert.equal(profile.name, undefined);
    assert.equal(profile.username, 'octocat');
  });

  test('the authorization URL asks for the default scopes with PKCE S256 and no nonce', () => {
    const { url, transaction } = beginSignIn(github, redirectUri);
    const parsed = new URL(url);
    assertCommonAuthorizationParams(github, parsed, transaction);
    assert.equal(parsed.searchParams.get('scope'), 'read:user user:email');
    assert.equal(parsed.searchParams.has('nonce'), false, 'a nonce belongs to OpenID Connect requests only');
  });

  test('completeSignIn trades the code with client_secret_post and Accept: application/json, then reads /user', async () => {
    const clock = new ManualClock(start);
    const { transaction } = beginSignIn(github, redirectUri, undefined, { clock });
    const served = recordedFetch({ [github.tokenEndpoint]: json(githubTokenResponse), [github.userinfoEndpoint!]: json(githubUser) });
    const result = await completeSignIn(github, callback(transaction, { code: 'e72e16c7e42f292c6912', state: transaction.state }), transaction, {
      clock,
      fetch: served.fetch,
    });
    assert.deepEqual(result.tokens, { accessToken: githubTokenResponse.access_token, scopes: ['read:user', 'user:email'] });
    assert.equal(result.profile.subject, '1');
    assert.equal(result.profile.username, 'octocat');
    assert.equal(result.profile.email, 'octocat@github.com');

    assert.equal(served.requests.length, 2);
    const [tokenRequest, userRequest] = served.requests;
    assert.equal(tokenRequest!.method, 'POST');
    assert.equal(tokenRequest!.headers.get('accept'), 'application/json');
    assert.equal(tokenRequest!.headers.get('authorization'), null);
    assert.deepEqual(Object.fromEntries(new URLSearchParams(tokenRequest!.body)), {
      grant_type: 'authorization_code',
      code: 'e72e16c7e42f292c6912',
      redirect_uri: redirectUri,
      code_verifier: transaction.codeVerifier,
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    });
    assert.equal(userRequest!.url, 'https://api.github.com/user');
    assert.equal(userRequest!.headers.get('authorization'), `Bearer ${githubTokenResponse.access_token}`);
    assert.equal(userRequest!.headers.get('accept'), 'application/vnd.github+json');
    assert.equal(userRequest!.headers.get('x-github-api-version'), '2022-11-28');
  });

  test('a form-encoded token answer (GitHub without Accept) is understood too', async () => {
    const { transaction } = beginSignIn(github, redirectUri);
    const served = recordedFetch({
      [github.tokenEndpoint]: () => new Response(githubTokenResponseForm, { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      [github.userinfoEndpoint!]: json(githubUser),
    });
    const result = await completeSignIn(github, callback(transaction, { code: 'c', state: transaction.state }), transaction, { fetch: served.fetch });
    assert.deepEqual(result.tokens.scopes, ['read:user', 'user:email']);
    assert.equal(result.tokens.accessToken, githubTokenResponse.access_token);
  });

  test('a token error answered with 200 stops the sign-in before any profile request', async () => {
    const { transaction } = beginSignIn(github, redirectUri);
    const served = recordedFetch({ [github.tokenEndpoint]: json(githubTokenError), [github.userinfoEndpoint!]: json(githubUser) });
    await assert.rejects(
      completeSignIn(github, callback(transaction, { code: 'stale', state: transaction.state }), transaction, { fetch: served.fetch }),
      assertOAuthError('invalid_grant', /incorrect or expired/),
    );
    assert.equal(served.requests.length, 1);
  });
});

describe('Google preset', () => {
  const google = googleProvider(credentials);

  test('parses the token response with URL scopes, a refresh token and an ID token', () => {
    const clock = new ManualClock(start);
    const tokens = parseTokenResponse(googleTokenResponse, 200, ['openid', 'profile', 'email'], clock);
    assert.deepEqual(tokens, {
      accessToken: googleTokenResponse.access_token,
      refreshToken: googleTokenResponse.refresh_token,
      idToken: googleTokenResponse.id_token,
      scopes: ['https://www.googleapis.com/auth/userinfo.email', 'openid', 'https://www.googleapis.com/auth/userinfo.profile'],
      expiresAt: start + 3599 * 1000,
    });
    // "Bearer" with a capital B is the same token type (RFC 6749 §5.1: case-insensitive).
    const refreshed = parseTokenResponse(googleRefreshResponse, 200, ['openid'], clock);
    assert.equal(refreshed.refreshToken, undefined, 'Google does not rotate refresh tokens');
    assert.equal(refreshed.expiresAt, start + 3599 * 1000);
  });

  test('an invalid_grant answer keeps its RFC 6749 §5.2 code', () => {
    assert.throws(
      () => parseTokenResponse({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }, 400, [], new ManualClock(start)),
      (error: unknown) => error instanceof TokenEndpointError && error.code === 'invalid_grant' && /expired or revoked/.test(error.description),
    );
  });

  test('normalizes the OpenID Connect userinfo, preferring it over the ID token claims', () => {
    const idTokenClaims = { iss: 'https://accounts.google.com', sub: googleUserinfo.sub, email: 'old@gmail.com', email_verified: true };
    const profile = google.profileFrom(googleUserinfo, idTokenClaims);
    assert.equal(profile.subject, '110169484474386276334');
    assert.equal(profile.name, 'Jane Doe');
    assert.equal(profile.email, 'janedoe@gmail.com');
    assert.equal(profile.emailVerified, true);
    assert.equal(profile.picture, googleUserinfo.picture);
    assert.equal(profile.username, undefined);
    assert.equal(google.profileFrom({ ...googleUserinfo, email_verified: false }, undefined).emailVerified, false);
  });

  test('the authorization URL asks for offline access with forced consent, a nonce and PKCE', () => {
    const { url, transaction } = beginSignIn(google, redirectUri);
    const parsed = new URL(url);
    assertCommonAuthorizationParams(google, parsed, transaction);
    assert.equal(parsed.searchParams.get('scope'), 'openid profile email');
    assert.equal(parsed.searchParams.get('access_type'), 'offline', 'without it Google issues no refresh token');
    assert.equal(parsed.searchParams.get('prompt'), 'consent', 'without it the refresh token comes only on the first consent');
    assert.equal(parsed.searchParams.get('nonce'), transaction.nonce);
    assert.match(transaction.nonce, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(transaction.nonce, transaction.state);
  });

  test('a callback naming another issuer is refused before the code is used (RFC 9207 §2.4)', async () => {
    const { transaction } = beginSignIn(google, redirectUri);
    const served = recordedFetch({});
    await assert.rejects(
      completeSignIn(google, callback(transaction, { code: 'c', state: transaction.state, iss: 'https://attacker.example' }), transaction, {
        fetch: served.fetch,
      }),
      assertOAuthError('invalid_request', /attacker\.example/),
    );
    assert.equal(served.requests.length, 0);
  });
});

describe('Kakao preset', () => {
  const kakao = kakaoProvider(credentials);

  test('parses the token response', () => {
    const tokens = parseTokenResponse(kakaoTokenResponse, 200, ['profile_nickname', 'profile_image'], new ManualClock(start));
    assert.deepEqual(tokens, {
      accessToken: kakaoTokenResponse.access_token,
      refreshToken: kakaoTokenResponse.refresh_token,
      scopes: ['profile_image', 'profile_nickname'],
      expiresAt: start + 21599 * 1000,
    });
  });

  test('reads the profile nested under kakao_account.profile; the email only when granted and verified', () => {
    assert.deepEqual(kakao.profileFrom(kakaoUserDefaultScopes, undefined), {
      subject: '3141592653',
      name: '홍길동',
      username: '홍길동',
      emailVerified: false,
      picture: 'http://k.kakaocdn.net/dn/dpk9l1/btqmGhA2lKL/img_640x640.jpg',
      raw: kakaoUserDefaultScopes,
    });
    const withEmail = kakao.profileFrom(kakaoUserWithEmail, undefined);
    assert.equal(withEmail.email, 'sample@sample.com');
    assert.equal(withEmail.emailVerified, true);
    const unverified = { ...kakaoUserWithEmail, kakao_account: { ...kakaoUserWithEmail.kakao_account, is_email_verified: false } };
    assert.equal(kakao.profileFrom(unverified, undefined).emailVerified, false);
    const invalid = { ...kakaoUserWithEmail, kakao_account: { ...kakaoUserWithEmail.kakao_account, is_email_valid: false } };
    assert.equal(kakao.profileFrom(invalid, undefined).emailVerified, false);
  });

  test('the default scopes need no business app: nickname and image, never account_email', () => {
    const { url, transaction } = beginSignIn(kakao, redirectUri);
    const parsed = new URL(url);
    assertCommonAuthorizationParams(kakao, parsed, transaction);
    const scopes = parsed.searchParams.get('scope')!.split(' ');
    assert.deepEqual(scopes, ['profile_nickname', 'profile_image']);
    assert.equal(scopes.includes('account_email'), false);
    assert.equal(parsed.searchParams.has('nonce'), false);
  });

  test('completeSignIn: secret and client_id in the body; without a secret, client_id alone', async () => {
    for (const provider of [kakao, kakaoProvider({ clientId: credentials.clientId })]) {
      const { transaction } = beginSignIn(provider, redirectUri);
      const served = recordedFetch({ [provider.tokenEndpoint]: json(kakaoTokenResponse), [provider.userinfoEndpoint!]: json(kakaoUserDefaultScopes) });
      const result = await completeSignIn(provider, callback(transaction, { code: 'kakao-code', state: transaction.state }), transaction, {
        fetch: served.fetch,
      });
      assert.equal(result.profile.subject, '3141592653');
      assert.equal(result.profile.name, '홍길동');
      const body = new URLSearchParams(served.requests[0]!.body);
      assert.equal(body.get('client_id'), credentials.clientId);
      assert.equal(body.get('client_secret'), provider.clientSecret ?? null);
      assert.equal(served.requests[0]!.headers.get('authorization'), null);
      assert.equal(served.requests[1]!.headers.get('authorization'), `Bearer ${kakaoTokenResponse.access_token}`);
    }
  });
});

describe('Naver preset', () => {
  const naver = naverProvider(credentials);

  test('parses expires_in given as the string "3600"', () => {
    const tokens = parseTokenResponse(naverTokenResponse, 200, [], new ManualClock(start));
    assert.deepEqual(tokens, {
      accessToken: naverTokenResponse.access_token,
      refreshToken: naverTokenResponse.refresh_token,
      scopes: [],
      expiresAt: start + 3600 * 1000,
    });
    assert.throws(
      () => parseTokenResponse({ ...naverTokenResponse, expires_in: 'soon' }, 200, [], new ManualClock(start)),
      assertOAuthError('server_error', /expires_in "soon"/),
    );
  });

  test('an error answered with status 200 is an error', () => {
    assert.throws(
      () => parseTokenResponse(naverTokenError, 200, [], new ManualClock(start)),
      (error: unknown) => error instanceof TokenEndpointError && error.code === 'invalid_request' && error.description === 'no valid data in session',
    );
  });

  test('reads the profile wrapped in { resultcode, message, response }', () => {
    assert.deepEqual(naver.profileFrom(naverMe, undefined), {
      subject: '32742776',
      name: '오픈 API',
      username: 'OpenAPI',
      email: 'openapi@naver.com',
      emailVerified: true,
      picture: 'https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif',
      raw: naverMe,
    });
  });

  test('the authorization URL has no scope (chosen in the app settings), no PKCE, no nonce', () => {
    const { url, transaction } = beginSignIn(naver, redirectUri);
    const parsed = new URL(url);
    assertCommonAuthorizationParams(naver, parsed, transaction);
    assert.equal(parsed.searchParams.has('scope'), false);
    assert.equal(parsed.searchParams.has('nonce'), false);
  });

  test('completeSignIn: string expires_in, profile from /v1/nid/me, no code_verifier sent', async () => {
    const clock = new ManualClock(start);
    const { transaction } = beginSignIn(naver, redirectUri, undefined, { clock });
    const served = recordedFetch({ [naver.tokenEndpoint]: json(naverTokenResponse), [naver.userinfoEndpoint!]: json(naverMe) });
    const result = await completeSignIn(naver, callback(transaction, { code: 'EIc5bFrl4RibFls1', state: transaction.state }), transaction, {
      clock,
      fetch: served.fetch,
    });
    assert.deepEqual(result.tokens, {
      accessToken: naverTokenResponse.access_token,
      refreshToken: naverTokenResponse.refresh_token,
      scopes: [],
      expiresAt: start + 3600 * 1000,
    });
    assert.deepEqual(
      { ...result.profile, raw: undefined },
      { subject: '32742776', name: '오픈 API', username: 'OpenAPI', email: 'openapi@naver.com', emailVerified: true, picture: naverMe.response.profile_image, raw: undefined },
    );
    const body = Object.fromEntries(new URLSearchParams(served.requests[0]!.body));
    assert.deepEqual(body, {
      grant_type: 'authorization_code',
      code: 'EIc5bFrl4RibFls1',
      redirect_uri: redirectUri,
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    });
    assert.equal(served.requests[1]!.url, 'https://openapi.naver.com/v1/nid/me');
    assert.equal(served.requests[1]!.headers.get('authorization'), `Bearer ${naverTokenResponse.access_token}`);
  });

  test('a /v1/nid/me answer without a user is refused, not turned into a shared "undefined" subject', async () => {
    const { transaction } = beginSignIn(naver, redirectUri);
    const served = recordedFetch({
      [naver.tokenEndpoint]: json(naverTokenResponse),
      [naver.userinfoEndpoint!]: json({ resultcode: '024', message: 'Authentication failed / 인증에 실패했습니다.' }),
    });
    await assert.rejects(
      completeSignIn(naver, callback(transaction, { code: 'c', state: transaction.state }), transaction, { fetch: served.fetch }),
      assertOAuthError('invalid_request', /Naver.*(subject|user)/),
    );
  });
});

describe('generic OAuth 2.0 preset', () => {
  const endpoints = {
    id: 'example',
    displayName: 'Example',
    authorizationEndpoint: 'https://login.example/oauth/authorize',
    tokenEndpoint: 'https://login.example/oauth/token',
    userinfoEndpoint: 'https://api.example/me',
  };

  test('explicit endpoints and scopes; client_secret_basic with form-urlencoded parts (RFC 6749 §2.3.1)', async () => {
    const provider = genericProvider({ ...endpoints, clientId: 'my app', clientSecret: 'p@ss:word', scopes: ['read', 'write'] });
    const { url, transaction } = beginSignIn(provider, redirectUri);
    const parsed = new URL(url);
    assert.equal(`${parsed.origin}${parsed.pathname}`, endpoints.authorizationEndpoint);
    assert.equal(parsed.searchParams.get('client_id'), 'my app');
    assert.equal(parsed.searchParams.get('scope'), 'read write');
    assert.equal(parsed.searchParams.get('code_challenge'), s256(transaction.codeVerifier));
    assert.equal(parsed.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(parsed.searchParams.get('state'), transaction.state);
    assert.equal(parsed.searchParams.has('nonce'), false);

    const served = recordedFetch({
      [endpoints.tokenEndpoint]: json({ access_token: 'generic-at', token_type: 'Bearer', expires_in: 600 }),
      [endpoints.userinfoEndpoint]: json({ sub: 'user-7', preferred_username: 'seven', email: 'seven@example.com', email_verified: true }),
    });
    const clock = new ManualClock(start);
    const result = await completeSignIn(provider, callback(transaction, { code: 'g', state: transaction.state }), transaction, {
      clock,
      fetch: served.fetch,
    });
    assert.deepEqual(result.tokens, { accessToken: 'generic-at', scopes: ['read', 'write'], expiresAt: start + 600_000 });
    assert.equal(result.profile.subject, 'user-7');
    assert.equal(result.profile.username, 'seven');
    assert.equal(result.profile.emailVerified, true);
    const tokenRequest = served.requests[0]!;
    assert.match(tokenRequest.headers.get('authorization') ?? '', /^Basic [A-Za-z0-9+/]+=*$/);
    // Each part is form-urlencoded before base64, so the ":" in the secret does not split the pair.
    const pair = Buffer.from(tokenRequest.headers.get('authorization')!.slice('Basic '.length), 'base64').toString();
    const [id, secret] = pair.split(':').map((part) => decodeURIComponent(part.replaceAll('+', ' ')));
    assert.deepEqual([id, secret], ['my app', 'p@ss:word']);
    assert.equal(new URLSearchParams(tokenRequest.body).has('client_secret'), false);
  });

  test('a public client sends only client_id; a custom profile mapping is used', async () => {
    const provider = genericProvider({
      ...endpoints,
      clientId: 'public-app',
      profileFrom: (user) => ({ subject: String(user.id), username: String(user.handle), emailVerified: false, raw: user }),
    });
    assert.equal(provider.tokenEndpointAuth, 'none');
    assert.deepEqual(provider.defaultScopes, []);
    const { url, transaction } = beginSignIn(provider, redirectUri);
    assert.equal(new URL(url).searchParams.has('scope'), false);
    const served = recordedFetch({
      [endpoints.tokenEndpoint]: json({ access_token: 'p-at', token_type: 'bearer' }),
      [endpoints.userinfoEndpoint]: json({ id: 99, handle: 'ninety-nine' }),
    });
    const result = await completeSignIn(provider, callback(transaction, { code: 'p', state: transaction.state }), transaction, { fetch: served.fetch });
    assert.equal(result.profile.subject, '99');
    assert.equal(result.profile.username, 'ninety-nine');
    const body = new URLSearchParams(served.requests[0]!.body);
    assert.equal(body.get('client_id'), 'public-app');
    assert.equal(body.has('client_secret'), false);
    assert.equal(served.requests[0]!.headers.get('authorization'), null);
  });

  test('userinfo without "sub" under the default mapping is refused instead of merging every user into "undefined"', async () => {
    const provider = genericProvider({ ...endpoints, clientId: 'c', clientSecret: 's' });
    const { transaction } = beginSignIn(provider, redirectUri);
    const served = recordedFetch({
      [endpoints.tokenEndpoint]: json({ access_token: 'at', token_type: 'bearer' }),
      // Facebook-style profile: `id`, not `sub`.
      [endpoints.userinfoEndpoint]: json({ id: '10158', name: 'Someone' }),
    });
    await assert.rejects(
      completeSignIn(provider, callback(transaction, { code: 'c', state: transaction.state }), transaction, { fetch: served.fetch }),
      assertOAuthError('invalid_request', /Example.*subject/),
    );
  });

  test('a non-bearer token type and a missing access_token are refused', () => {
    const clock = new ManualClock(start);
    assert.throws(() => parseTokenResponse({ access_token: 'x', token_type: 'mac' }, 200, [], clock), assertOAuthError('server_error', /token_type "mac"/));
    assert.throws(() => parseTokenResponse({ token_type: 'bearer' }, 200, [], clock), assertOAuthError('server_error', /no access_token/));
    assert.throws(() => parseTokenResponse({ access_token: 'x' }, 502, [], clock), assertOAuthError('server_error', /502/));
    assert.throws(() => parseTokenResponse({ access_token: 'x', expires_in: -5 }, 200, [], clock), assertOAuthError('server_error', /expires_in/));
  });
});

describe('callback checks, before any request to the provider', () => {
  const providers: Provider[] = [githubProvider(credentials), googleProvider(credentials), kakaoProvider(credentials), naverProvider(credentials)];

  test('a state this browser did not start with is refused (RFC 6749 §10.12)', async () => {
    for (const provider of providers) {
      const { transaction } = beginSignIn(provider, redirectUri);
      const other = beginSignIn(provider, redirectUri).transaction;
      const served = recordedFetch({});
      await assert.rejects(
        completeSignIn(provider, callback(transaction, { code: 'c', state: other.state }), transaction, { fetch: served.fetch }),
        assertOAuthError('invalid_request', /state/),
      );
      await assert.rejects(
        completeSignIn(provider, callback(transaction, { code: 'c' }), transaction, { fetch: served.fetch }),
        assertOAuthError('invalid_request', /state/),
      );
      assert.equal(served.requests.length, 0, `${provider.id}: nothing was sent`);
    }
  });

  test('an iss parameter that does not name the provider is refused (RFC 9207 §2.4), also for non-OpenID providers', async () => {
    for (const provider of providers) {
      const { transaction } = beginSignIn(provider, redirectUri);
      const served = recordedFetch({});
      await assert.rejects(
        completeSignIn(provider, callback(transaction, { code: 'c', state: transaction.state, iss: 'https://accounts.google.com.evil.example' }), transaction, {
          fetch: served.fetch,
        }),
        assertOAuthError('invalid_request', /issuer "https:\/\/accounts\.google\.com\.evil\.example"/),
      );
      assert.equal(served.requests.length, 0);
    }
  });

  test('a provider that promises iss is refused a callback without it', async () => {
    const promising: Provider = { ...googleProvider(credentials), authorizationResponseIssParameter: true };
    const { transaction } = beginSignIn(promising, redirectUri);
    await assert.rejects(
      completeSignIn(promising, callback(transaction, { code: 'c', state: transaction.state }), transaction, { fetch: recordedFetch({}).fetch }),
      assertOAuthError('invalid_request', /\(none\)/),
    );
  });

  test('an error callback (the user said no) becomes that error', async () => {
    for (const provider of providers) {
      const { transaction } = beginSignIn(provider, redirectUri);
      const served = recordedFetch({});
      await assert.rejects(
        completeSignIn(
          provider,
          callback(transaction, { error: 'access_denied', error_description: 'The user has denied your application access.', state: transaction.state }),
          transaction,
          { fetch: served.fetch },
        ),
        assertOAuthError('access_denied', /denied your application access/),
      );
      assert.equal(served.requests.length, 0);
    }
  });

  test('a transaction of another provider, an expired one, and a callback without code are refused', async () => {
    const clock = new ManualClock(start);
    const github = githubProvider(credentials);
    const naver = naverProvider(credentials);
    const { transaction } = beginSignIn(github, redirectUri, undefined, { clock, transactionTtlSeconds: 300 });
    const served = recordedFetch({});
    await assert.rejects(
      completeSignIn(naver, callback(transaction, { code: 'c', state: transaction.state }), transaction, { clock, fetch: served.fetch }),
      assertOAuthError('invalid_request', /another provider/),
    );
    await assert.rejects(
      completeSignIn(github, callback(transaction, { state: transaction.state }), transaction, { clock, fetch: served.fetch }),
      assertOAuthError('invalid_request', /no code/),
    );
    clock.advance(300);
    await assert.rejects(
      completeSignIn(github, callback(transaction, { code: 'c', state: transaction.state }), transaction, { clock, fetch: served.fetch }),
      assertOAuthError('invalid_request', /too long/),
    );
    assert.equal(served.requests.length, 0);
  });
});
