import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

/**
 * A browser reduced to what OAuth flows need, for tests that drive a real server over sockets:
 * cookies kept from `Set-Cookie` headers, redirects never followed on their own, forms read from
 * their hidden inputs and posted back.
 */

/** A browser's cookie store for one site, fed from `Set-Cookie` headers (paths ignored). */
export class BrowserCookies {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired = attributes.some((attribute) => {
        const [key = '', val = ''] = attribute.split('=');
        if (key.toLowerCase() === 'max-age') return Number(val) <= 0;
        if (key.toLowerCase() === 'expires') return Date.parse(val) <= Date.now();
        return false;
      });
      if (value === '' || expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export function unescapeHtml(text: string): string {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** The hidden inputs of an HTML page, as name → value (self-closing tags too, for other servers' pages). */
export function hiddenFields(page: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)) {
    fields.set(unescapeHtml(match[1]!), unescapeHtml(match[2]!));
  }
  return fields;
}

/** A browser tab on one origin: never follows redirects on its own, keeps cookies. */
export class Browser {
  readonly cookies = new BrowserCookies();
  constructor(readonly origin: string) {}

  async get(url: string | URL): Promise<Response> {
    const response = await fetch(new URL(url, this.origin), { redirect: 'manual', headers: { cookie: this.cookies.header() } });
    this.cookies.store(response);
    return response;
  }

  async post(url: string | URL, fields: Map<string, string>): Promise<Response> {
    const response = await fetch(new URL(url, this.origin), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.cookies.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([...fields]),
    });
    this.cookies.store(response);
    return response;
  }
}

export function location(response: Response): string {
  const value = response.headers.get('location');
  assert.ok(value !== null, `expected a Location header on ${response.status} ${response.url}`);
  return value;
}

/** An authorization request with PKCE (S256), a state and a nonce; its code comes back on the redirect. */
export interface PkceAuthorization {
  url: URL;
  verifier: string;
}

export function pkceAuthorizationRequest(issuer: string, clientId: string, redirectUri: string, scope: string): PkceAuthorization {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL('/authorize', issuer);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state: randomBytes(8).toString('base64url'),
    nonce: randomBytes(8).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return { url, verifier };
}

export interface SignInOptions {
  username: string;
  password: string;
  /** The answer on the consent page. */
  decision?: 'allow' | 'deny';
  /** Runs once the login has been accepted, before the consent page is opened. */
  afterLogin?: () => void;
}

/**
 * The user's part of a code flow: open the authorization URL, log in on the form (CSRF token and
 * return address checked), answer the consent page, and land on the redirect URI. Returns the
 * callback URL the client receives.
 */
export async function signInAndDecide(browser: Browser, authorizationUrl: URL, options: SignInOptions): Promise<URL> {
  const first = await browser.get(authorizationUrl);
  assert.equal(first.status, 302);
  const loginUrl = new URL(location(first), browser.origin);
  assert.equal(loginUrl.pathname, '/login');

  const loginPage = await browser.get(loginUrl);
  assert.equal(loginPage.status, 200);
  const loginFields = hiddenFields(await loginPage.text());
  assert.ok(loginFields.get('_csrf'), 'the login form carries a CSRF token');
  assert.ok(loginFields.get('return_to')?.startsWith('/authorize?'), 'the login form returns to the authorization request');
  const loggedIn = await browser.post(
    '/login',
    new Map([['_csrf', loginFields.get('_csrf')!], ['return_to', loginFields.get('return_to')!], ['username', options.username], ['password', options.password]]),
  );
  assert.equal(loggedIn.status, 303);
  options.afterLogin?.();
  const returnTo = location(loggedIn);
  assert.equal(returnTo, loginFields.get('return_to'));

  const consentPage = await browser.get(returnTo);
  assert.equal(consentPage.status, 200);
  const consentFields = hiddenFields(await consentPage.text());
  assert.ok(consentFields.get('_csrf'), 'the consent form carries a CSRF token');
  consentFields.set('decision', options.decision ?? 'allow');
  const decided = await browser.post('/authorize/decision', consentFields);
  assert.equal(decided.status, 303);
  return new URL(location(decided));
}
