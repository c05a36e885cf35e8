import type { Locale } from '../i18n/locales.ts';

/**
 * Every option of the authorization server, with its default, unit, reason and the RFC behind
 * it. This file is the single source of truth: `docs/configuration.md` is generated from it
 * (`npm run docs:config`) and a test fails when the two disagree.
 */

export interface ScopeDefinition {
  /** What the consent page tells the user the client may do with this scope (English). */
  description: string;
  /** The same in Korean; `descriptions.ko` says it too. */
  description_ko?: string;
  /** The description per page language, e.g. `{"en": "Read your calendar", "ko": "캘린더 보기"}`. */
  descriptions?: Partial<Record<Locale, string>>;
}

/** How access tokens for one resource server are issued (RFC 8707 resource indicators). */
export interface ResourceDefinition {
  /** `jwt` issues RFC 9068 JWT access tokens the resource server can verify locally. */
  accessTokenFormat: 'opaque' | 'jwt';
}

export interface GatehouseConfig {
  port: number;
  host: string;
  issuer: string;
  databaseUrl: string;
  authorizationCodeTtlSeconds: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  refreshTokenFamilyMaxAgeSeconds: number;
  sessionTtlSeconds: number;
  idTokenTtlSeconds: number;
  scopes: Record<string, ScopeDefinition>;
  resources: Record<string, ResourceDefinition>;
  accessTokenSigningAlg: 'ES256' | 'RS256';
  signingThreads: number;
  production: boolean;
  allowInsecureHttpRedirectUris: boolean;
  keyEncryptionKey: string;
  keyEncryptionKeyFile: string;
  bodyLimitBytes: number;
  maxParameterLength: number;
  logLevel: string;
  migrateOnStart: boolean;
  metricsEnabled: boolean;
  trustedProxies: string;
  loginAttemptsPerIp: number;
  loginAttemptsPerAccount: number;
  loginAttemptWindowSeconds: number;
  loginDelayAfterFailures: number;
  loginDelayMaxSeconds: number;
  loginDelayResetSeconds: number;
  redisUrl: string;
  defaultLocale: Locale;
  productName: string;
  logoUrl: string;
  primaryColor: string;
}

export interface OptionDoc<K extends keyof GatehouseConfig> {
  default: GatehouseConfig[K];
  /** Environment variable that sets it, when there is one. */
  env?: string;
  unit?: string;
  doc: string;
}

type OptionDocs = { [K in keyof GatehouseConfig]: OptionDoc<K> };

export const optionDocs: OptionDocs = {
  port: {
    default: 4000,
    env: 'PORT',
    unit: 'TCP port',
    doc: 'Port the HTTP server listens on.',
  },
  host: {
    default: '127.0.0.1',
    env: 'HOST',
    unit: 'address',
    doc: 'Address the HTTP server binds to. Loopback by default so a fresh install is not exposed to the network; use 0.0.0.0 behind a proxy.',
  },
  issuer: {
    default: '',
    env: 'GATEHOUSE_ISSUER',
    unit: 'URL',
    doc: 'Public base URL of the server, sent as `iss` in every authorization response (RFC 9207) and used to build page links. Empty means `http://HOST:PORT`. Must be https in production; http is accepted only for loopback hosts. No trailing slash, no query, no fragment (RFC 8414 §2).',
  },
  databaseUrl: {
    default: 'sqlite:.gatehouse/gatehouse.db',
    env: 'DATABASE_URL',
    unit: 'URL',
    doc: '`sqlite:PATH` (relative paths are relative to the working directory; a missing folder is created with mode 0700, and the file, its `-wal` and `-shm` are mode 0600 whatever the umask: a wider mode found on open is narrowed and logged) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE[?schema=NAME]`. The embedded SQLite database runs in WAL mode, so every issued token survives a crash of the process; PostgreSQL lets several Gatehouse instances share one truth.',
  },
  authorizationCodeTtlSeconds: {
    default: 60,
    unit: 'seconds',
    doc: 'Lifetime of an authorization code. RFC 6749 §4.1.2 recommends at most 10 minutes; a code only has to survive one redirect and one back-channel call.',
  },
  accessTokenTtlSeconds: {
    default: 3600,
    unit: 'seconds',
    doc: 'Default lifetime of an access token; a client may set its own at registration. Short-lived bearer tokens limit the damage of a leak (RFC 6819 §5.1.5.3).',
  },
  refreshTokenTtlSeconds: {
    default: 30 * 24 * 3600,
    unit: 'seconds',
    doc: 'Default lifetime of a refresh token (30 days); a client may set its own. Refresh tokens rotate on every use, and a reused one revokes its whole family (RFC 9700 §4.14.2).',
  },
  refreshTokenFamilyMaxAgeSeconds: {
    default: 90 * 24 * 3600,
    unit: 'seconds',
    doc: 'Absolute lifetime of a refresh-token family (90 days), counted from the code exchange that started it: rotation slides each token\'s own lifetime forward, but no token of the family lives past this, and then the user must sign in again. RFC 9700 §4.14.2 and OAuth 2.1 (draft-ietf-oauth-v2-1, refresh token protection) leave a refresh token\'s expiry to the authorization server; a cap keeps a stolen, actively rotated family from living for ever. Consumed codes are kept this long too, so that a late replay still revokes the family.',
  },
  sessionTtlSeconds: {
    default: 24 * 3600,
    unit: 'seconds',
    doc: 'How long a browser login session lasts before the user must log in again.',
  },
  idTokenTtlSeconds: {
    default: 3600,
    unit: 'seconds',
    doc: 'Lifetime of an ID token. It is consumed once, right after the code exchange (OpenID Connect Core §3.1.3.7), so it need not outlive the access token.',
  },
  scopes: {
    default: {},
    unit: 'map of scope → { description, description_ko?, descriptions? }',
    doc: 'Scopes in addition to the built-in `profile`, `email` and `offline_access`, each with the sentence the consent and account pages show, e.g. `{"calendar.read": {"description": "Read your calendar events", "description_ko": "캘린더 일정 보기"}}`; `descriptions: {"en": …, "ko": …}` says the same per language. A language without its own sentence shows `description`. Scope names follow RFC 6749 §3.3.',
  },
  resources: {
    default: {},
    unit: 'map of resource URI → { accessTokenFormat }',
    doc: 'Resource servers (RFC 8707), e.g. `{"https://api.example.com/calendar": {"accessTokenFormat": "jwt"}}`. A token requested for a resource with `jwt` is an RFC 9068 JWT the API can verify with /jwks alone; otherwise tokens are opaque and checked by introspection. A client may only ask for resources it was registered for.',
  },
  accessTokenSigningAlg: {
    default: 'ES256',
    unit: 'JWS algorithm',
    doc: 'Algorithm of JWT access tokens: `ES256` (small and fast to sign) or `RS256` (for verifiers that know nothing else). ID tokens always use RS256, the algorithm every OpenID Connect client must support (Core §15.1).',
  },
  signingThreads: {
    default: 0,
    unit: 'threads (0: one per core, at most 4)',
    doc: 'Worker threads that compute JWT signatures (client_credentials JWT access tokens and ID tokens), so that other cores do the ECDSA or RSA arithmetic while the event loop serves requests. 0 picks one per core, at most four. A thread starts on first use.',
  },
  production: {
    default: false,
    env: 'GATEHOUSE_PRODUCTION',
    unit: 'boolean',
    doc: 'Production mode: refuses to start without `keyEncryptionKey` instead of generating a development key. Set `GATEHOUSE_PRODUCTION=1` (or `NODE_ENV=production`).',
  },
  allowInsecureHttpRedirectUris: {
    default: false,
    env: 'GATEHOUSE_ALLOW_INSECURE_HTTP_REDIRECT_URIS',
    unit: 'boolean',
    doc: 'Development only, refused in production: lets a confidential (web) client register an http redirect URI on a loopback IP literal (`http://127.0.0.1:3000/callback`), as the demo does. Without it only public (native) clients may use loopback http (RFC 8252 §7.3); a web client needs https, because a code sent over plain http can be read on the way (RFC 6749 §3.1.2.1, RFC 9700 §2.1). `localhost` is refused either way (RFC 8252 §8.3).',
  },
  keyEncryptionKey: {
    default: '',
    env: 'GATEHOUSE_KEY_ENCRYPTION_KEY',
    unit: '32 bytes, base64url',
    doc: 'Key that encrypts signing private keys at rest (AES-256-GCM). Generate one with `openssl rand -base64 32`. Empty outside production means a development key is generated once and kept in `keyEncryptionKeyFile`.',
  },
  keyEncryptionKeyFile: {
    default: '.gatehouse/key-encryption.key',
    unit: 'path',
    doc: 'Where the development key-encryption key is kept (mode 0600, in a folder created 0700; a wider mode found is narrowed and logged) when `keyEncryptionKey` is empty and not in production. Never used in production.',
  },
  bodyLimitBytes: {
    default: 64 * 1024,
    unit: 'bytes',
    doc: 'Largest request body accepted; larger ones answer 400 `invalid_request` before being parsed.',
  },
  maxParameterLength: {
    default: 4096,
    unit: 'characters',
    doc: 'Longest value accepted for any single request parameter; longer ones answer `invalid_request`.',
  },
  logLevel: {
    default: 'info',
    env: 'LOG_LEVEL',
    unit: 'pino level',
    doc: 'Log level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. Logs are JSON lines with a request id; secrets, codes, tokens and passwords are never logged.',
  },
  migrateOnStart: {
    default: true,
    env: 'GATEHOUSE_MIGRATE_ON_START',
    unit: 'boolean',
    doc: 'Apply pending migrations when the server starts. Turn off when several instances start at once and `gatehouse migrate` runs as a separate deployment step; the server then refuses to start on a schema that does not match its code.',
  },
  metricsEnabled: {
    default: false,
    env: 'GATEHOUSE_METRICS',
    unit: 'boolean',
    doc: 'Serve Prometheus metrics at `/metrics` on the main port. Off by default because the port is public; turn it on when only your network can reach `/metrics` (or block the path at the proxy).',
  },
  trustedProxies: {
    default: '',
    env: 'GATEHOUSE_TRUSTED_PROXIES',
    unit: 'comma-separated addresses or CIDRs',
    doc: 'Reverse proxies whose `X-Forwarded-For` is believed for the client address (rate limits, logs). Empty: forwarded headers are ignored, so a client cannot forge its address.',
  },
  loginAttemptsPerIp: {
    default: 30,
    unit: 'failed sign-ins per window',
    doc: 'Failed sign-ins one client address may make per window, whatever the usernames, before its sign-ins get 429 with `Retry-After` until the window has passed. Slows password guessing across many accounts (RFC 6819 §4.4.3.6). Successful sign-ins are not counted.',
  },
  loginAttemptsPerAccount: {
    default: 10,
    unit: 'failed sign-ins per window',
    doc: 'Failed sign-ins for one account from one address (or, from a browser with that account\'s device cookie, with that cookie) per window, before that pair gets 429 with `Retry-After` until the window has passed. Keyed on the pair so that guesses from elsewhere cannot lock the owner out; a successful sign-in resets it. Also limits current-password checks on the account page, per session.',
  },
  loginAttemptWindowSeconds: {
    default: 15 * 60,
    unit: 'seconds',
    doc: 'How long a failed sign-in counts against its address and its (account, address) pair, from the latest failure.',
  },
  loginDelayAfterFailures: {
    default: 5,
    unit: 'failed sign-ins',
    doc: 'Failed sign-ins for one account, from any address without a device cookie of that account, before each further attempt must wait: 1 second after this many, doubling with every further failure up to `loginDelayMaxSeconds`. An attempt during the wait gets 429 with `Retry-After` and its password is not checked (like Keycloak\'s brute-force detection: a growing wait, never a lock). A browser that signed in to the account before (OWASP device cookie) does not wait; a successful sign-in resets the count.',
  },
  loginDelayMaxSeconds: {
    default: 15 * 60,
    unit: 'seconds',
    doc: 'The longest wait the per-account delay (`loginDelayAfterFailures`) imposes, as Keycloak\'s default maximum wait.',
  },
  loginDelayResetSeconds: {
    default: 12 * 3600,
    unit: 'seconds',
    doc: 'How long failed sign-ins count towards the per-account delay, from the latest failure (Keycloak\'s default failure reset time). Long, so that a patient guesser does not get the free attempts back every few minutes.',
  },
  redisUrl: {
    default: '',
    env: 'REDIS_URL',
    unit: 'URL',
    doc: 'Redis for shared rate-limit and failed sign-in counters, so N instances count together (`redis://127.0.0.1:6379`). Empty: each process counts alone, which suits one instance.',
  },
  defaultLocale: {
    default: 'en',
    env: 'GATEHOUSE_DEFAULT_LOCALE',
    unit: '`en` or `ko`',
    doc: 'Language of the pages (login, consent, errors, account) when nothing else decides it. A page picks the first language it supports from the client\'s OpenID Connect `ui_locales` (Core §3.1.2.1), then the language the user chose with the switcher (cookie `gatehouse_lang`), then the browser\'s `Accept-Language` (RFC 9110 §12.5.4), then this.',
  },
  productName: {
    default: 'Gatehouse',
    env: 'GATEHOUSE_PRODUCT_NAME',
    unit: 'text, 1–60 characters',
    doc: 'Name shown at the top of every page and in page titles: brand the pages without editing templates, so upgrades never break the branding.',
  },
  logoUrl: {
    default: '',
    env: 'GATEHOUSE_LOGO_URL',
    unit: 'path or https URL',
    doc: 'Logo shown next to the product name: a path on this server (`/…`) or an https URL. An https logo\'s origin, and only that origin, is added to the pages\' Content-Security-Policy `img-src`. Empty: no logo.',
  },
  primaryColor: {
    default: '#1d4ed8',
    env: 'GATEHOUSE_PRIMARY_COLOR',
    unit: 'hex color `#rrggbb` or `#rgb`',
    doc: 'Brand color of buttons, links and focus accents, served in /assets/theme.css (no inline styles, so the strict CSP stays). Button text is white or near-black, whichever contrasts more, and link text is darkened until it reaches WCAG AA (4.5:1) on white.',
  },
};

export function defaultConfig(): GatehouseConfig {
  const entries = Object.entries(optionDocs).map(([key, option]) => [key, structuredClone(option.default)]);
  return Object.fromEntries(entries) as GatehouseConfig;
}
