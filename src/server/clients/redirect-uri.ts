import { OAuthError } from '../../shared/oauth-error.ts';
import type { ClientRecord, ClientType } from '../../storage/storage.ts';

/**
 * Checks a redirect URI at registration time:
 * - absolute, without a fragment (RFC 6749 §3.1.2);
 * - https; http only on a loopback IP literal, 127.0.0.1 or [::1], and only for public (native)
 *   clients (RFC 8252 §7.3, §8.3: `localhost` may resolve elsewhere). A web client on loopback
 *   http is a development setup, allowed only with `allowInsecureHttp`;
 * - for public (native) clients also a private-use scheme in reverse-domain form such as
 *   `com.example.app:/callback` (RFC 8252 §7.1);
 * - no userinfo, and no dot segments or backslashes that parsers disagree about.
 * The value is stored exactly as given, because authorization requests must match it exactly.
 */
export function validateRedirectUriForRegistration(
  uri: string,
  clientType: ClientType,
  options: { allowInsecureHttp?: boolean } = {},
): string {
  const fail = (why: string): never => {
    throw new OAuthError('invalid_redirect_uri', `redirect URI "${uri}" ${why}`);
  };
  if (uri.length > 2000) fail('is longer than 2000 characters');
  if (/[\s\\<>"{}|^`]/.test(uri) || /[^\x21-\x7e]/.test(uri)) fail('contains characters that must be percent-encoded');
  if (uri.includes('#')) fail('must not contain a fragment (RFC 6749 §3.1.2)');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return fail('is not an absolute URI');
  }
  if (url.username !== '' || url.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?]*@/i.test(uri)) {
    fail('must not contain userinfo');
  }
  if (/(^|\/)\.\.?(\/|$|\?)/.test(uri.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '')) || /%2e/i.test(uri)) {
    fail('must not contain dot segments');
  }
  // A URI that parsers would rewrite (`https:host/cb`, `http://127.1/`, an upper-case host) is
  // ambiguous about where it points; only the form every parser agrees on is accepted.
  if (url.href !== uri) fail(`is not in normalized form; register "${url.href}" instead`);
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https') return uri;
  if (scheme === 'http') {
    if (url.hostname === 'localhost') {
      return fail('uses localhost: loopback redirect URIs must use an IP literal (127.0.0.1 or [::1]), RFC 8252 §8.3');
    }
    if (!loopbackIpHosts.has(url.hostname)) return fail('uses http, which is allowed only for loopback hosts (the IP literals 127.0.0.1 and [::1]) of native apps; use https');
    if (clientType === 'public' || options.allowInsecureHttp === true) return uri;
    return fail(
      'uses http on loopback, which only native (public) clients may use (RFC 8252 §7.3); a web client needs https ' +
        '(for local development only, the server option allowInsecureHttpRedirectUris allows it)',
    );
  }
  if (clientType === 'public' && scheme.includes('.')) return uri;
  return fail(
    clientType === 'public'
      ? 'must use https, http on a loopback IP literal, or a reverse-domain private-use scheme (RFC 8252 §7.1)'
      : 'must use https',
  );
}

const loopbackIpHosts = new Set(['127.0.0.1', '[::1]']);

/**
 * Finds the registered redirect URI an authorization request names. Matching is by exact string
 * comparison (RFC 9700 §2.1), with one exception: for public clients a loopback IP redirect URI
 * matches on any port (RFC 8252 §7.3), because native apps listen on an ephemeral port. The
 * exception compares the strings with the port removed, never a parsed and normalized form.
 */
export function matchRedirectUri(client: ClientRecord, requested: string): string | undefined {
  if (client.redirectUris.includes(requested)) return requested;
  if (client.type !== 'public') return undefined;
  const requestedWithoutPort = loopbackWithoutPort(requested);
  if (requestedWithoutPort === undefined) return undefined;
  return client.redirectUris.some((registered) => loopbackWithoutPort(registered) === requestedWithoutPort)
    ? requested
    : undefined;
}

const loopbackIpUri = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?([/?].*)?$/;

function loopbackWithoutPort(uri: string): string | undefined {
  const match = loopbackIpUri.exec(uri);
  if (match === null) return undefined;
  const port = match[2];
  if (port !== undefined && (Number(port) > 65535 || port.startsWith('0'))) return undefined;
  return `http://${match[1]}${match[3] ?? ''}`;
}
