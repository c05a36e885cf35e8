import { OAuthError } from '../../shared/oauth-error.ts';
import { parseScope } from '../../shared/scope.ts';
import type { AccessTokenFormat, ClientType, ConsentPolicy, TokenEndpointAuthMethod } from '../../storage/storage.ts';
import type { NewAccount } from '../accounts/create-account.ts';
import { consentPolicies, tokenEndpointAuthMethods, type ClientChanges, type ClientRegistration } from '../clients/register-client.ts';

/*
 * The admin API's request bodies, checked at the boundary: a JSON object with only the fields the
 * operation knows, each of the right type, every message naming the field. What the values mean
 * (a redirect URI's form, a known scope) is checked by the domain functions they go to.
 */

type JsonObject = Record<string, unknown>;

function invalid(description: string): OAuthError {
  return new OAuthError('invalid_request', description);
}

function jsonObject(body: unknown, fields: readonly string[]): JsonObject {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('the request body must be a JSON object');
  }
  const unknown = Object.keys(body).find((name) => !fields.includes(name));
  if (unknown !== undefined) throw invalid(`unknown field "${unknown}"; the fields are ${fields.join(', ')}`);
  return body as JsonObject;
}

function optionalString(body: JsonObject, field: string, maxLength: number): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`"${field}" must be a string`);
  if (value.length > maxLength) throw invalid(`"${field}" is longer than ${maxLength} characters`);
  return value;
}

function requiredString(body: JsonObject, field: string, maxLength: number): string {
  const value = optionalString(body, field, maxLength);
  if (value === undefined || value === '') throw invalid(`"${field}" is required`);
  return value;
}

function nullableString(body: JsonObject, field: string, maxLength: number): string | null | undefined {
  return body[field] === null ? null : optionalString(body, field, maxLength);
}

function optionalStringArray(body: JsonObject, field: string, maxItems: number, maxLength: number): string[] | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw invalid(`"${field}" must be an array of strings`);
  if (value.length > maxItems) throw invalid(`"${field}" has more than ${maxItems} entries`);
  if (value.some((item: string) => item.length > maxLength)) throw invalid(`an entry of "${field}" is longer than ${maxLength} characters`);
  return value as string[];
}

function optionalBoolean(body: JsonObject, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid(`"${field}" must be true or false`);
  return value;
}

/** A lifetime in seconds; null means the server's default. */
function optionalLifetime(body: JsonObject, field: string): number | null | undefined {
  const value = body[field];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalid(`"${field}" must be a whole number of seconds (at least 1), or null for the server's default`);
  }
  return value;
}

function optionalScope(body: JsonObject, field: string): string[] | undefined {
  const value = optionalString(body, field, 2000);
  if (value === undefined) return undefined;
  // RFC 7591 §2: `scope` is a space-separated string; an empty one registers no scope.
  return value.trim() === '' ? [] : parseScope(value, field);
}

function optionalChoice<T extends string>(body: JsonObject, field: string, choices: readonly T[]): T | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw invalid(`"${field}" must be one of ${choices.map((choice) => `"${choice}"`).join(', ')}`);
  }
  return value as T;
}

const clientFields = [
  'client_name',
  'redirect_uris',
  'grant_types',
  'scope',
  'access_token_ttl',
  'refresh_token_ttl',
  'access_token_format',
  'resources',
  'token_endpoint_auth_method',
  'consent_policy',
  'can_introspect',
  'served_resources',
] as const;

function readClientFields(body: JsonObject): ClientChanges {
  const changes: ClientChanges = {
    name: optionalString(body, 'client_name', 200),
    redirectUris: optionalStringArray(body, 'redirect_uris', 50, 2000),
    grantTypes: optionalStringArray(body, 'grant_types', 10, 64),
    scopes: optionalScope(body, 'scope'),
    accessTokenTtlSeconds: optionalLifetime(body, 'access_token_ttl'),
    refreshTokenTtlSeconds: optionalLifetime(body, 'refresh_token_ttl'),
    accessTokenFormat: optionalChoice<AccessTokenFormat>(body, 'access_token_format', ['opaque', 'jwt']),
    resources: optionalStringArray(body, 'resources', 20, 2000),
    tokenEndpointAuthMethod: optionalChoice<TokenEndpointAuthMethod>(body, 'token_endpoint_auth_method', tokenEndpointAuthMethods),
    consentPolicy: optionalChoice<ConsentPolicy>(body, 'consent_policy', consentPolicies),
    canIntrospect: optionalBoolean(body, 'can_introspect'),
    servedResources: optionalStringArray(body, 'served_resources', 20, 2000),
  };
  // Absent fields stay absent (undefined), so an update leaves them as they are.
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as ClientChanges;
}

/** POST /admin/api/clients */
export function readClientRegistration(input: unknown): ClientRegistration {
  const body = jsonObject(input, [...clientFields, 'client_type']);
  const fields = readClientFields(body);
  return {
    ...fields,
    name: requiredString(body, 'client_name', 200),
    redirectUris: fields.redirectUris ?? [],
    type: optionalChoice<ClientType>(body, 'client_type', ['confidential', 'public']),
  };
}

/** PATCH /admin/api/clients/{client_id}: the fields present replace the registered ones. */
export function readClientChanges(input: unknown): ClientChanges {
  if (input !== null && typeof input === 'object' && 'client_type' in input) {
    throw invalid('"client_type" cannot be changed: register a new client instead');
  }
  return readClientFields(jsonObject(input, clientFields));
}

/** POST /admin/api/users */
export function readNewAccount(input: unknown): NewAccount {
  const body = jsonObject(input, ['username', 'password', 'name', 'email', 'admin']);
  return {
    username: requiredString(body, 'username', 64),
    password: requiredString(body, 'password', 1024),
    name: nullableString(body, 'name', 200) ?? null,
    email: nullableString(body, 'email', 320) ?? null,
    isAdmin: optionalBoolean(body, 'admin') ?? false,
  };
}

/** PATCH /admin/api/users/{sub} */
export function readAccountChanges(input: unknown): { isAdmin?: boolean } {
  const body = jsonObject(input, ['admin']);
  const isAdmin = optionalBoolean(body, 'admin');
  return isAdmin === undefined ? {} : { isAdmin };
}

/** POST /admin/api/users/{sub}/reset-password */
export function readPasswordReset(input: unknown): string {
  return requiredString(jsonObject(input, ['password']), 'password', 1024);
}

/** `?limit=` of GET /admin/api/events. */
export function readEventLimit(value: string | undefined): number {
  if (value === undefined) return 100;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000) throw invalid('"limit" must be a whole number from 1 to 1000');
  return Number(value);
}
