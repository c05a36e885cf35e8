/**
 * The one error type of Gatehouse. Every protocol failure is an `OAuthError` keyed by its RFC
 * error code; the HTTP status and the `WWW-Authenticate` challenge are derived from the code by
 * the table below, so no endpoint picks a status by hand.
 */

/** Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, OpenID Connect Core, RFC 8707, RFC 7009 and RFC 7591. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'server_error'
  | 'temporarily_unavailable'
  // OpenID Connect Core §3.1.2.6
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  // RFC 8707 §2
  | 'invalid_target'
  // RFC 7009 §2.2.1
  | 'unsupported_token_type'
  // RFC 7591 §3.2.2, for client registration through the CLI and the admin API.
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  // Not found / conflict for management operations (CLI, admin API).
  | 'not_found'
  | 'conflict';

const statusByCode: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  // RFC 6749 §5.2: 401 when the client tried to authenticate; we always answer 401.
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  // RFC 6750 §3.1
  invalid_token: 401,
  insufficient_scope: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  login_required: 400,
  consent_required: 400,
  interaction_required: 400,
  request_not_supported: 400,
  request_uri_not_supported: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  not_found: 404,
  conflict: 409,
};

export interface OAuthErrorOptions {
  /** Overrides the status of the table, e.g. 400 for an `invalid_request` at a resource server. */
  status?: number;
  /** A `WWW-Authenticate` challenge to send (RFC 6749 §5.2, RFC 6750 §3). */
  wwwAuthenticate?: string;
  /**
   * The description without the request values it quotes, for where they must not be echoed: an
   * error redirected to the client (RFC 6749 §4.1.2.1), where an attacker who crafted the request
   * would choose the text the client's error page shows. Default: the description itself, for a
   * description that quotes no request value.
   */
  descriptionWithoutInput?: string;
  /** When a refused caller may try again (RFC 9110 §10.2.3 `Retry-After`, with 429 or 503). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly description: string;
  readonly status: number;
  readonly wwwAuthenticate: string | undefined;
  readonly descriptionWithoutInput: string;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: OAuthErrorCode, description: string, options: OAuthErrorOptions = {}) {
    super(`${code}: ${description}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OAuthError';
    this.code = code;
    this.description = description;
    this.status = options.status ?? statusByCode[code];
    this.wwwAuthenticate = options.wwwAuthenticate;
    this.descriptionWithoutInput = options.descriptionWithoutInput ?? description;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The JSON body of RFC 6749 §5.2, its description within the RFC's characters. */
  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: errorDescriptionText(this.description) };
  }
}

/**
 * RFC 6749 §4.1.2.1 and §5.2: `error_description` holds only %x20-21 / %x23-5B / %x5D-7E —
 * printable ASCII without `"` and `\`. No line break, quote or other character can reach a
 * client's page or header through it. The few non-ASCII characters descriptions use are spelled
 * in ASCII (`§` as "section"); control characters become spaces and anything else `?`.
 */
export function errorDescriptionText(text: string): string {
  return text
    .replaceAll('"', "'")
    .replaceAll('\\', '/')
    .replaceAll('§', 'section ')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/[\u2018\u2019\u201c\u201d]/g, "'")
    .replaceAll('\u2026', '...')
    .replace(/[\x00-\x1f\x7f]/g, ' ')
    .replace(/[^\x20-\x7e]/gu, '?');
}

export function isOAuthError(value: unknown): value is OAuthError {
  return value instanceof OAuthError;
}
