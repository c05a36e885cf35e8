/**
 * The OAuth calls the driver makes outside the measured windows: getting a token to introspect or
 * to present, signing in to a server whose login is an interaction (oidc-provider), and minting
 * authorization codes through the real /authorize endpoint with a session cookie and remembered
 * consent. All over HTTP, as a browserless client would.
 */
import { createHash, randomBytes } from 'node:crypto';
import { basicAuthorization, type ClientCredentialsPair, type MachineClient, type ReadyMessage, type WebClient } from '../servers/protocol.ts';

/** One PKCE pair (RFC 7636 §4.1–4.2) for every code of a run: the server's work is the same. */
export const pkce = (() => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
})();

export const formContentType = 'application/x-www-form-urlencoded';

export function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

export function clientCredentialsBody(client: MachineClient): string {
  return form({ grant_type: 'client_credentials', scope: client.scope, ...client.extraParams });
}

export async function postToken(ready: ReadyMessage, client: ClientCredentialsPair, body: string): Promise<Record<string, string>> {
  const response = await fetch(ready.url + ready.paths.token, {
    method: 'POST',
    headers: { 'content-type': formContentType, authorization: basicAuthorization(client) },
    body,
  });
  const json = (await response.json()) as Record<string, string>;
  if (response.status !== 200) throw new Error(`${ready.url}${ready.paths.token} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

export async function machineToken(ready: ReadyMessage, client: MachineClient): Promise<string> {
  return (await postToken(ready, client, clientCredentialsBody(client))).access_token!;
}

/** `count` distinct tokens of the client, asked for `connections` at a time. */
export async function machineTokens(ready: ReadyMessage, client: MachineClient, count: number, connections = 32): Promise<string[]> {
  const tokens: string[] = [];
  while (tokens.length < count) {
    const wave = Math.min(connections, count - tokens.length);
    tokens.push(...(await Promise.all(Array.from({ length: wave }, () => machineToken(ready, client)))));
  }
  return tokens;
}

export function authorizePath(ready: ReadyMessage, web: WebClient, scope: string): string {
  const query = form({
    response_type: 'code',
    client_id: web.clientId,
    redirect_uri: web.redirectUri,
    scope,
    state: randomBytes(9).toString('base64url'),
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  });
  return `${ready.paths.authorize}?${query}`;
}

/** The `code` of a redirect to the client, or undefined when the redirect is anything else. */
export function codeFromLocation(location: string | undefined, web: WebClient): string | undefined {
  if (location === undefined || !location.startsWith(web.redirectUri)) return undefined;
  return new URL(location).searchParams.get('code') ?? undefined;
}

export function codeExchangeBody(web: WebClient, code: string): string {
  return form({ grant_type: 'authorization_code', code, redirect_uri: web.redirectUri, code_verifier: pkce.verifier });
}

export function refreshBody(refreshToken: string): string {
  return form({ grant_type: 'refresh_token', refresh_token: refreshToken });
}

/** One code through /authorize with the logged-in session's cookie and remembered consent. */
export async function mintCode(ready: ReadyMessage, web: WebClient, cookie: string, scope: string): Promise<string> {
  const response = await fetch(ready.url + authorizePath(ready, web, scope), { headers: { cookie }, redirect: 'manual' });
  await response.arrayBuffer();
  const code = codeFromLocation(response.headers.get('location') ?? undefined, web);
  if (code === undefined) throw new Error(`${ready.url}${ready.paths.authorize} answered ${response.status} ${response.headers.get('location') ?? ''} instead of a code`);
  return code;
}

/** `count` codes, for the users of `cookies` in turn. */
export async function mintCodes(ready: ReadyMessage, web: WebClient, cookies: string[], scope: string, count: number): Promise<string[]> {
  const codes: string[] = [];
  const worker = async () => {
    while (codes.length < count) {
      const slot = codes.push('') - 1; // reserved before awaiting, so the workers stop at `count`
      codes[slot] = await mintCode(ready, web, cookies[slot % cookies.length]!, scope);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return codes;
}

/** Tokens of one completed code flow (a user's access token, and a refresh token when asked for). */
export async function userTokens(ready: ReadyMessage, web: WebClient, cookie: string, scope: string): Promise<Record<string, string>> {
  const code = await mintCode(ready, web, cookie, scope);
  return postToken(ready, web, codeExchangeBody(web, code));
}

/**
 * Signs in where login and consent are interactions (oidc-provider): follows the redirects with
 * a cookie jar until the client's redirect URI, and returns the cookies of the session.
 */
export async function signIn(ready: ReadyMessage, web: WebClient, scope: string): Promise<string> {
  const jar = new Map<string, string>();
  let location: string = ready.url + authorizePath(ready, web, scope);
  for (let hop = 0; hop < 12; hop++) {
    const response = await fetch(location, { headers: { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') }, redirect: 'manual' });
    await response.arrayBuffer();
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const equals = pair.indexOf('=');
      const name = pair.slice(0, equals).trim();
      const value = pair.slice(equals + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    const next = response.headers.get('location');
    if (next === null) throw new Error(`sign-in at ${ready.url} stopped at ${response.status} ${location}`);
    if (codeFromLocation(next, web) !== undefined) {
      return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    }
    location = new URL(next, location).toString();
  }
  throw new Error(`sign-in at ${ready.url} did not reach ${web.redirectUri}`);
}
