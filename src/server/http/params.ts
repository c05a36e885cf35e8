import { OAuthError } from '../../shared/oauth-error.ts';

/** Request parameters as sent: every name with every value it was given, in order. */
export type Params = Map<string, string[]>;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses `application/x-www-form-urlencoded` text (a body or a query string) strictly: a
 * malformed percent-escape or bytes that are not UTF-8 are an `invalid_request`, where the usual
 * parsers silently substitute U+FFFD and let a corrupted value through.
 */
export function parseFormEncoded(input: string | Buffer): Params {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  const params: Params = new Map();
  if (text === '') return params;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decodeComponent(equals === -1 ? pair : pair.slice(0, equals));
    const value = equals === -1 ? '' : decodeComponent(pair.slice(equals + 1));
    const values = params.get(name);
    if (values === undefined) params.set(name, [value]);
    else values.push(value);
  }
  return params;
}

function decodeUtf8(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new OAuthError('invalid_request', 'the request is not valid UTF-8');
  }
}

function decodeComponent(component: string): string {
  // Most names and values (grant types, tokens, client ids) have nothing to decode.
  if (!component.includes('%') && !component.includes('+')) return component;
  try {
    return decodeURIComponent(component.replaceAll('+', ' '));
  } catch {
    throw new OAuthError('invalid_request', 'the request has a malformed percent-encoding or bytes that are not UTF-8');
  }
}

/**
 * Reads one parameter. RFC 6749 §3.1 and §3.2: parameters must not be included more than once.
 * An empty value counts as absent (RFC 6749 §3.1: "Parameters sent without a value MUST be
 * treated as if they were omitted").
 */
export function optionalParam(params: Params, name: string, maxLength: number): string | undefined {
  const values = params.get(name);
  if (values === undefined) return undefined;
  if (values.length > 1) throw new OAuthError('invalid_request', `"${name}" must not be repeated (RFC 6749 §3.1)`);
  const value = values[0]!;
  if (value.length > maxLength) {
    throw new OAuthError('invalid_request', `"${name}" is longer than ${maxLength} characters`);
  }
  return value === '' ? undefined : value;
}

export function requiredParam(params: Params, name: string, maxLength: number): string {
  const value = optionalParam(params, name, maxLength);
  if (value === undefined) throw new OAuthError('invalid_request', `"${name}" is required`);
  return value;
}

/**
 * Reads a parameter that may repeat (RFC 8707 `resource`): every non-empty value, each at most
 * `maxLength` characters; undefined when none was sent.
 */
export function repeatableParam(params: Params, name: string, maxLength: number): string[] | undefined {
  const values = params.get(name)?.filter((value) => value !== '');
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 20) throw new OAuthError('invalid_request', `"${name}" is repeated more than 20 times`);
  if (values.some((value) => value.length > maxLength)) {
    throw new OAuthError('invalid_request', `"${name}" is longer than ${maxLength} characters`);
  }
  return values;
}

/** The path of a raw request URL, without its query string. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** The query string of a raw request URL, parsed strictly. */
export function queryParams(rawUrl: string | undefined): Params {
  const url = rawUrl ?? '';
  const question = url.indexOf('?');
  return parseFormEncoded(question === -1 ? '' : url.slice(question + 1));
}

export function serializeParams(params: Params): string {
  const search = new URLSearchParams();
  for (const [name, values] of params) for (const value of values) search.append(name, value);
  return search.toString();
}
