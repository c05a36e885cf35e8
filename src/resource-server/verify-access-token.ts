import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { insufficientScopeError, invalidTokenError, parseBearerHeader } from '../shared/bearer.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { OAuthError } from '../shared/oauth-error.ts';
import { parseScope } from '../shared/scope.ts';

export interface IntrospectionOptions {
  /** The authorization server's RFC 7662 endpoint. */
  endpoint: string;
  /** This API's own confidential client at the authorization server. */
  clientId: string;
  clientSecret: string;
  /**
   * How long an answer is reused, in seconds (default 30). Bounded by the token's own `exp`. A
   * revocation can therefore take this long to be noticed; set 0 to ask every time.
   */
  cacheSeconds?: number;
  /**
   * How long to wait for the authorization server's answer, in seconds (default 5, as for the
   * JWKS). Past it the request fails with 503 `temporarily_unavailable` instead of hanging.
   */
  timeoutSeconds?: number;
}

export interface ResourceServerOptions {
  /** The authorization server's issuer; tokens from any other are refused. */
  issuer: string;
  /** This API's resource indicator (RFC 8707); the token's `aud` must contain it. */
  audience: string;
  /** Where the issuer publishes its keys; default `${issuer}/jwks`. */
  jwksUri?: string;
  /** For opaque tokens; without it only JWT access tokens (RFC 9068) are accepted. */
  introspection?: IntrospectionOptions;
  /** RFC 6750 §2.2: also accept `access_token` in a form body. Off by default. */
  allowBodyToken?: boolean;
  /** RFC 6750 §2.3: also accept `access_token` in the query. Off by default (it ends up in logs). */
  allowQueryToken?: boolean;
  /** Realm named in `WWW-Authenticate` challenges. */
  realm?: string;
  clock?: Clock;
  fetch?: typeof fetch;
}

/** A request as any framework can describe it. */
export interface BearerRequest {
  headers: Record<string, string | string[] | undefined>;
  query?: Record<string, unknown>;
  body?: unknown;
}

/** What the API learns from a valid token. */
export interface VerifiedAccessToken {
  /** The user, or the client itself for client-credentials tokens. */
  subject: string;
  clientId: string;
  scopes: string[];
  audience: string[];
  /** Seconds since the epoch. */
  expiresAt: number;
  /** `jwt` when verified locally, `introspection` when the authorization server was asked. */
  verifiedBy: 'jwt' | 'introspection';
  claims: Record<string, unknown>;
}

export interface AccessTokenVerifier {
  verifyAccessToken(request: BearerRequest): Promise<VerifiedAccessToken>;
  verifyToken(token: string): Promise<VerifiedAccessToken>;
}

/**
 * The resource-server side of the seed: checks the `Authorization: Bearer` token of a request.
 * JWT access tokens (RFC 9068) are verified locally against the issuer's JWKS, which is cached
 * and fetched again when a token names an unknown `kid` (after a key rotation). Opaque tokens
 * are sent to introspection (RFC 7662), whose answers are cached briefly.
 */
export function createAccessTokenVerifier(options: ResourceServerOptions): AccessTokenVerifier {
  const realm = options.realm ?? options.audience;
  const clock = options.clock ?? systemClock;
  const fetchImpl = options.fetch ?? fetch;
  // jose's own refetch on an unknown kid waits 30 s after *any* fetch, which would refuse the
  // tokens of a key rotated in just after the last fetch; `keys` below does that refetch itself.
  const remoteJwks = createRemoteJWKSet(new URL(options.jwksUri ?? `${options.issuer}/jwks`), {
    cacheMaxAge: 10 * 60_000,
    cooldownDuration: Number.POSITIVE_INFINITY,
  });
  let kidRefetch: { at: number; done: Promise<void> } | undefined;
  /**
   * The issuer's keys: cached, and fetched again when a token names an unknown `kid` (a key
   * rotation) — at most once per 30 s counted from the last such refetch, so forged kids cannot
   * turn every request into a fetch at the issuer. A fetch that fails is the issuer's trouble,
   * not the token's: 503, never `invalid_token`.
   */
  const keys: JWTVerifyGetKey = async (header, token) => {
    try {
      try {
        return await remoteJwks(header, token);
      } catch (error) {
        if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
        if (kidRefetch === undefined || Date.now() - kidRefetch.at >= 30_000) kidRefetch = { at: Date.now(), done: remoteJwks.reload() };
        await kidRefetch.done;
        return await remoteJwks(header, token);
      }
    } catch (error) {
      if (isKeyFetchFailure(error)) throw new OAuthError('temporarily_unavailable', 'the authorization server\'s keys cannot be fetched');
      throw error;
    }
  };
  const introspectionCache = new Map<string, { token: VerifiedAccessToken | undefined; until: number }>();
  const invalid = (description: string) => invalidTokenError(description, realm);

  async function verifyJwt(token: string): Promise<VerifiedAccessToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        typ: 'at+jwt',
        algorithms: ['ES256', 'RS256', 'EdDSA'],
        currentDate: new Date(clock.now()),
      }));
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw invalid('the access token has expired');
      throw invalid('the access token is not valid for this API');
    }
    return {
      subject: String(payload.sub),
      clientId: String(payload.client_id ?? ''),
      scopes: typeof payload.scope === 'string' && payload.scope !== '' ? parseScope(payload.scope) : [],
      audience: Array.isArray(payload.aud) ? payload.aud : [String(payload.aud)],
      expiresAt: Number(payload.exp),
      verifiedBy: 'jwt',
      claims: payload,
    };
  }

  async function introspect(token: string): Promise<VerifiedAccessToken> {
    const settings = options.introspection;
    if (settings === undefined) throw invalid('the access token is not a JWT and this API cannot introspect');
    const key = createHash('sha256').update(token).digest('base64url');
    const now = clock.now();
    const cached = introspectionCache.get(key);
    if (cached !== undefined && cached.until > now) {
      if (cached.token === undefined) throw invalid('the access token is not active');
      return cached.token;
    }
    const response = await fetchImpl(settings.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      signal: AbortSignal.timeout((settings.timeoutSeconds ?? 5) * 1000),
    }).catch(() => {
      throw new OAuthError('temporarily_unavailable', 'the authorization server cannot be reached for introspection');
    });
    if (!response.ok) throw new OAuthError('temporarily_unavailable', `introspection answered ${response.status}`);
    // RFC 7662 §2.2: a JSON object; anything else (a proxy's error page, a cut-off body) says nothing about the token.
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | null | undefined;
    if (body === null || typeof body !== 'object') throw new OAuthError('temporarily_unavailable', 'introspection did not answer a JSON object');
    const cacheUntil = now + (settings.cacheSeconds ?? 30) * 1000;
    const verified = body.active === true ? fromIntrospection(body) : undefined;
    const valid =
      verified !== undefined &&
      body.token_type !== 'refresh_token' &&
      (body.iss === undefined || body.iss === options.issuer) &&
      verified.audience.includes(options.audience) &&
      verified.expiresAt * 1000 > now;
    introspectionCache.set(key, { token: valid ? verified : undefined, until: valid ? Math.min(cacheUntil, verified.expiresAt * 1000) : cacheUntil });
    if (introspectionCache.size > 10_000) introspectionCache.delete(introspectionCache.keys().next().value!);
    if (!valid) throw invalid('the access token is not active or not meant for this API');
    return verified;
  }

  async function verifyToken(token: string): Promise<VerifiedAccessToken> {
    return token.split('.').length === 3 ? verifyJwt(token) : introspect(token);
  }

  return {
    verifyToken,
    async verifyAccessToken(request) {
      return verifyToken(extractToken(request, options, realm));
    },
  };
}

/** RFC 6750 §2: the header; the body and query only when enabled; never more than one. */
function extractToken(request: BearerRequest, options: ResourceServerOptions, realm: string): string {
  const header = request.headers.authorization;
  const headerValue = Array.isArray(header) ? header[0] : header;
  const fromBody = options.allowBodyToken && isFormEncoded(request) ? stringField(request.body, 'access_token') : undefined;
  const fromQuery = options.allowQueryToken ? stringField(request.query, 'access_token') : undefined;
  const present = [headerValue, fromBody, fromQuery].filter((value) => value !== undefined && value !== '');
  if (present.length > 1) {
    throw new OAuthError('invalid_request', 'the access token was sent in more than one way (RFC 6750 §2)', {
      wwwAuthenticate: `Bearer realm="${realm}", error="invalid_request"`,
    });
  }
  if (fromBody !== undefined && fromBody !== '') return fromBody;
  if (fromQuery !== undefined && fromQuery !== '') return fromQuery;
  return parseBearerHeader(headerValue, realm);
}

/** RFC 6750 §2.2: the body method is for `application/x-www-form-urlencoded` bodies only. */
function isFormEncoded(request: BearerRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && /^application\/x-www-form-urlencoded\s*(;|$)/i.test(type);
}

/** The JWKS could not be had: the network failed, timed out, or the answer was no key set. */
function isKeyFetchFailure(error: unknown): boolean {
  return (
    error instanceof TypeError || // fetch: connection refused, reset, DNS
    error instanceof joseErrors.JWKSTimeout ||
    error instanceof joseErrors.JWKSInvalid ||
    (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC') // not 200, or not JSON
  );
}

function stringField(source: unknown, name: string): string | undefined {
  if (source === null || typeof source !== 'object') return undefined;
  const value = (source as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

function fromIntrospection(body: Record<string, unknown>): VerifiedAccessToken {
  const aud = body.aud;
  return {
    subject: String(body.sub ?? ''),
    clientId: String(body.client_id ?? ''),
    scopes: typeof body.scope === 'string' && body.scope !== '' ? parseScope(body.scope) : [],
    audience: Array.isArray(aud) ? aud.map(String) : aud === undefined ? [] : [String(aud)],
    expiresAt: Number(body.exp ?? 0),
    verifiedBy: 'introspection',
    claims: body,
  };
}

/** RFC 6750 §3.1: every named scope must be granted, else `insufficient_scope` (403). */
export function requireScopes(token: VerifiedAccessToken, scopes: readonly string[], realm = 'api'): void {
  const missing = scopes.filter((scope) => !token.scopes.includes(scope));
  if (missing.length > 0) throw insufficientScopeError(scopes, realm);
}
