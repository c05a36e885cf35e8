import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError, isOAuthError } from '../../shared/oauth-error.ts';
import { isDatabaseUnavailable } from '../../storage/database-unavailable.ts';
import { errorPage } from '../pages/error-page.ts';
import type { PageContext } from '../pages/page-context.ts';

/** Route option: how errors of this route reach the user. JSON is the default. */
declare module 'fastify' {
  interface FastifyContextConfig {
    errorFormat?: 'json' | 'page';
  }
}

/**
 * The one place an error becomes a response (DESIGN invariant 5). Protocol errors keep their RFC
 * code; Fastify's own client errors (a body too large, a content type without a parser, a failed
 * CSRF check) become `invalid_request`; anything else is a `server_error` that is logged and
 * never described to the caller.
 */
export function registerErrorHandler(
  app: FastifyInstance,
  onError: (code: string) => void = () => {},
  /** The language and branding of an error page for this request. */
  pageContext?: (request: FastifyRequest) => PageContext,
): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const oauthError = toOAuthError(error, request);
    onError(oauthError.code);
    sendError(oauthError, request, reply, pageContext?.(request));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new OAuthError('invalid_request', `there is nothing at ${request.method} ${request.url.split('?')[0]}`, { status: 404 });
    sendError(error, request, reply, pageContext?.(request));
  });
}

/**
 * Fastify's `frameworkErrors` option: errors Fastify raises before routing (a path that is not a
 * valid URL, FST_ERR_BAD_URL) skip `setErrorHandler` and would otherwise reach the wire in
 * Fastify's own JSON shape.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendError(toOAuthError(error, request), request, reply);
}

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refuses (raw non-ASCII bytes in the
 * URL, a malformed header) never reaches Fastify, so the answer is written to the socket here, in
 * the same JSON shape as every other error.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: import('node:net').Socket): void {
  if (!socket.writable) return;
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify(
    new OAuthError('invalid_request', tooLarge ? 'the request headers are too large' : 'the request is not valid HTTP').toJSON(),
  );
  socket.end(
    `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function sendError(error: OAuthError, request: FastifyRequest, reply: FastifyReply, page?: PageContext): FastifyReply {
  if (error.wwwAuthenticate !== undefined) reply.header('www-authenticate', error.wwwAuthenticate);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', error.retryAfterSeconds);
  reply.code(error.status).header('cache-control', 'no-store');
  if (request.routeOptions.config?.errorFormat === 'page') {
    return reply.type('text/html; charset=utf-8').send(errorPage(error.code, error.description, page, error.status));
  }
  return reply.type('application/json; charset=utf-8').send(error.toJSON());
}

export function toOAuthError(error: FastifyError, request: FastifyRequest): OAuthError {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new OAuthError('invalid_request', bodyTooLarge);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new OAuthError('invalid_request', contentLengthMismatch);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new OAuthError('invalid_request', notAForm);
    case 'FST_CSRF_MISSING_SECRET':
    case 'FST_CSRF_INVALID_TOKEN':
      return new OAuthError('invalid_request', 'the form has expired or did not come from this site; go back, reload the page and try again', { status: 403 });
  }
  return asOAuthError(error, request.log);
}

/** Where `asOAuthError` reports what the caller is not told. */
export interface ErrorLog {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export const bodyTooLarge = 'the request body is too large';
export const contentLengthMismatch = 'the Content-Length header does not match the body';
export const notAForm = 'the request body must be application/x-www-form-urlencoded';

/**
 * Any error thrown while answering, as the protocol error the caller gets: an `OAuthError` as it
 * is, a database that cannot be reached as `temporarily_unavailable` (RFC 6749 §4.1.2.1), another
 * client error as `invalid_request`, and anything else as a `server_error` that is logged and
 * never described.
 */
export function asOAuthError(error: unknown, log: ErrorLog): OAuthError {
  if (isOAuthError(error)) {
    if (error.code === 'server_error') log.error({ err: error }, 'server error');
    return error;
  }
  if (isDatabaseUnavailable(error)) {
    log.warn({ err: error }, 'database unavailable');
    return new OAuthError('temporarily_unavailable', 'the service is briefly unavailable; try again in a few seconds');
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new OAuthError('invalid_request', (error as Error).message);
  log.error({ err: error }, 'unexpected error');
  return new OAuthError('server_error', 'the server met an unexpected condition; the error has been logged');
}
