import { readFileSync } from 'node:fs';
import { defaultConfig, optionDocs, type GatehouseConfig, type ScopeDefinition } from './defaults.ts';
import { isValidScopeToken } from '../../shared/scope.ts';
import { isLocale, locales } from '../i18n/locales.ts';

/** Raised for a configuration that cannot be used; the message names the option. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadConfigInput {
  env?: NodeJS.ProcessEnv;
  /** Path of a JSON file whose keys are option names (see docs/configuration.md). */
  file?: string;
}

/** Defaults, then the JSON file, then the environment: the later source wins. */
export function loadConfig({ env = {}, file }: LoadConfigInput = {}): GatehouseConfig {
  const config = defaultConfig();
  if (file !== undefined) Object.assign(config, readConfigFile(file));
  Object.assign(config, readEnvironment(env));
  return finishConfig(config);
}

/** Validates a complete configuration and fills in what is derived (the issuer). */
export function finishConfig(config: GatehouseConfig): GatehouseConfig {
  checkInteger(config.port, 'port', 0, 65535);
  checkInteger(config.signingThreads, 'signingThreads', 0, 64);
  for (const key of [
    'authorizationCodeTtlSeconds',
    'accessTokenTtlSeconds',
    'refreshTokenTtlSeconds',
    'refreshTokenFamilyMaxAgeSeconds',
    'sessionTtlSeconds',
    'idTokenTtlSeconds',
    'bodyLimitBytes',
    'maxParameterLength',
    'loginAttemptsPerIp',
    'loginAttemptsPerAccount',
    'loginAttemptWindowSeconds',
    'loginDelayAfterFailures',
    'loginDelayMaxSeconds',
    'loginDelayResetSeconds',
  ] as const) {
    checkInteger(config[key], key, 1, Number.MAX_SAFE_INTEGER);
  }
  if (typeof config.host !== 'string' || config.host === '') throw new ConfigError('"host" must be a non-empty string');
  if (typeof config.databaseUrl !== 'string' || !/^(sqlite:|postgres(ql)?:\/\/)/.test(config.databaseUrl)) {
    throw new ConfigError(`"databaseUrl" must look like sqlite:PATH or postgres://USER@HOST/DATABASE (got "${String(config.databaseUrl)}")`);
  }
  checkScopes(config.scopes);
  checkResources(config.resources);
  if (config.accessTokenSigningAlg !== 'ES256' && config.accessTokenSigningAlg !== 'RS256') {
    throw new ConfigError(`"accessTokenSigningAlg" must be ES256 or RS256 (got "${String(config.accessTokenSigningAlg)}")`);
  }
  for (const key of ['production', 'allowInsecureHttpRedirectUris', 'migrateOnStart', 'metricsEnabled'] as const) {
    if (typeof config[key] !== 'boolean') throw new ConfigError(`"${key}" must be true or false`);
  }
  checkLook(config);
  if (config.redisUrl !== '' && !/^rediss?:\/\//.test(config.redisUrl)) throw new ConfigError('"redisUrl" must look like redis://HOST:PORT');
  if (config.keyEncryptionKey !== '' && !/^[A-Za-z0-9+/_-]{43}=?$/.test(config.keyEncryptionKey)) {
    throw new ConfigError('"keyEncryptionKey" must be 32 random bytes in base64 or base64url (43 characters)');
  }
  if (config.production && config.keyEncryptionKey === '') {
    throw new ConfigError(
      'production mode needs a key-encryption key for the signing keys: set GATEHOUSE_KEY_ENCRYPTION_KEY (e.g. `openssl rand -base64 32`)',
    );
  }
  if (config.production && config.allowInsecureHttpRedirectUris) {
    throw new ConfigError('"allowInsecureHttpRedirectUris" is for local development and is refused in production mode: web clients need https redirect URIs');
  }
  const issuer = config.issuer === '' ? `http://${hostForUrl(config.host)}:${config.port}` : config.issuer;
  return { ...config, issuer: checkIssuer(issuer) };
}

function readConfigFile(file: string): Partial<GatehouseConfig> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  for (const key of Object.keys(parsed)) {
    if (!(key in optionDocs)) throw new ConfigError(`config file ${file}: unknown option "${key}"`);
  }
  return parsed as Partial<GatehouseConfig>;
}

function readEnvironment(env: NodeJS.ProcessEnv): Partial<GatehouseConfig> {
  const result: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(optionDocs)) {
    const raw = option.env === undefined ? undefined : env[option.env];
    if (raw === undefined || raw === '') continue;
    result[key] =
      typeof option.default === 'number'
        ? parseNumber(raw, option.env!)
        : typeof option.default === 'boolean'
          ? parseBoolean(raw, option.env!)
          : raw;
  }
  if (env.NODE_ENV === 'production' && result.production === undefined) result.production = true;
  return result as Partial<GatehouseConfig>;
}

function parseBoolean(raw: string, name: string): boolean {
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be 1/true/yes or 0/false/no (got "${raw}")`);
}

function parseNumber(raw: string, name: string): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number (got "${raw}")`);
  return Number(raw);
}

function checkInteger(value: unknown, name: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`"${name}" must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
}

function checkScopes(scopes: unknown): asserts scopes is Record<string, ScopeDefinition> {
  if (scopes === null || typeof scopes !== 'object' || Array.isArray(scopes)) {
    throw new ConfigError('"scopes" must be an object of scope name → { "description": "…" }');
  }
  for (const [name, definition] of Object.entries(scopes)) {
    if (!isValidScopeToken(name)) throw new ConfigError(`"scopes": "${name}" is not a valid scope token (RFC 6749 §3.3)`);
    const { description, description_ko: descriptionKo, descriptions } = (definition ?? {}) as Partial<ScopeDefinition>;
    if (typeof description !== 'string' || description === '') {
      throw new ConfigError(`"scopes.${name}.description" must be a non-empty string`);
    }
    if (descriptionKo !== undefined && (typeof descriptionKo !== 'string' || descriptionKo === '')) {
      throw new ConfigError(`"scopes.${name}.description_ko" must be a non-empty string`);
    }
    if (descriptions !== undefined) {
      if (descriptions === null || typeof descriptions !== 'object' || Array.isArray(descriptions)) {
        throw new ConfigError(`"scopes.${name}.descriptions" must be an object of language → description, e.g. {"ko": "…"}`);
      }
      for (const [locale, text] of Object.entries(descriptions)) {
        if (!isLocale(locale)) throw new ConfigError(`"scopes.${name}.descriptions": "${locale}" is not a language of the pages (${locales.join(', ')})`);
        if (typeof text !== 'string' || text === '') throw new ConfigError(`"scopes.${name}.descriptions.${locale}" must be a non-empty string`);
      }
    }
  }
}

/** The branding and language options: validated here so a page never renders a bad value. */
function checkLook(config: GatehouseConfig): void {
  if (!isLocale(config.defaultLocale)) {
    throw new ConfigError(`"defaultLocale" must be one of ${locales.join(', ')} (got ${JSON.stringify(config.defaultLocale)})`);
  }
  if (typeof config.productName !== 'string' || config.productName.trim() === '' || config.productName.length > 60) {
    throw new ConfigError('"productName" must be 1–60 characters');
  }
  if (typeof config.primaryColor !== 'string' || !/^#(?:[0-9a-fA-F]{3}){1,2}$/.test(config.primaryColor)) {
    throw new ConfigError(`"primaryColor" must be a hex color like #1d4ed8 (got ${JSON.stringify(config.primaryColor)})`);
  }
  if (typeof config.logoUrl !== 'string') throw new ConfigError('"logoUrl" must be a string');
  if (config.logoUrl !== '' && !isSameOriginPath(config.logoUrl) && !isHttpsUrl(config.logoUrl)) {
    throw new ConfigError(`"logoUrl" must be a path on this server (/…) or an https URL (got "${config.logoUrl}")`);
  }
}

/** `/logo.svg`, but not `//host/…` (another origin) nor anything that cannot sit in an attribute. */
function isSameOriginPath(value: string): boolean {
  return /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && !value.includes('\\');
}

function isHttpsUrl(value: string): boolean {
  if (!URL.canParse(value) || !/^[\x21-\x7e]+$/.test(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' && url.username === '' && url.password === '';
}

function checkResources(resources: unknown): void {
  if (resources === null || typeof resources !== 'object' || Array.isArray(resources)) {
    throw new ConfigError('"resources" must be an object of resource URI → { "accessTokenFormat": "jwt" | "opaque" }');
  }
  for (const [uri, definition] of Object.entries(resources)) {
    // RFC 8707 §2: an absolute URI without a fragment.
    if (!URL.canParse(uri) || uri.includes('#')) throw new ConfigError(`"resources": "${uri}" must be an absolute URI without a fragment`);
    const format = (definition as { accessTokenFormat?: unknown } | null)?.accessTokenFormat;
    if (format !== 'jwt' && format !== 'opaque') throw new ConfigError(`"resources.${uri}.accessTokenFormat" must be "jwt" or "opaque"`);
  }
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** RFC 8414 §2: the issuer is an https URL with no query or fragment; http only on loopback. */
function checkIssuer(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(`"issuer" must be an absolute URL (got "${issuer}")`);
  }
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) {
    throw new ConfigError('"issuer" must not have a query or fragment (RFC 8414 §2)');
  }
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(
      `"issuer" must be an https URL; http is accepted only for loopback hosts (got "${issuer}": set GATEHOUSE_ISSUER to the public https URL)`,
    );
  }
  return issuer.endsWith('/') ? issuer.slice(0, -1) : issuer;
}
