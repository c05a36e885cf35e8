import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import type { ServerMetrics } from '../operations/metrics.ts';
import { introspectionEndpoint, tokenEndpoint } from '../tokens/endpoints.ts';
import { asOAuthError, bodyTooLarge, contentLengthMismatch, notAForm, type ErrorLog } from './error-handler.ts';
import { parseFormEncoded, pathOf, type Params } from './params.ts';

/**
 * The token endpoint and introspection, served straight from `node:http`.
 *
 * These two are what machines call at high rates: every client_credentials token and every
 * introspection by a resource server. They are JSON-in-form-out endpoints with nothing a web
 * framework adds value to (no cookies, no pages, no CSRF, no rate limits), and Fastify's request
 * pipeline cost about a fifth of their CPU (bench/README.md). So `app.ts` puts this dispatcher in
 * front of Fastify, for the socket and for `inject()` alike: every test of these endpoints runs
 * the code that serves production traffic.
 *
 * What a request gets here is what every other Gatehouse response gets: a request id in
 * `X-Request-Id` and in its log line, `nosniff`, errors in the RFC 6749 §5.2 JSON shape through
 * the same mapping as the error handler (http/error-handler.ts), the body limit, and metrics
 * when they are on.
 */

type Endpoint = (params: Params, authorization: string | undefined, ctx: ServerContext) => Promise<object>;

interface Route {
  endpoint: Endpoint;
  /** RFC 6749 §5.1: token responses add `Pragma: no-cache` for HTTP/1.0 caches. */
  pragma: boolean;
}

const routes = new Map<string, Route>([
  ['/token', { endpoint: tokenEndpoint, pragma: true }],
  ['/introspect', { endpoint: introspectionEndpoint, pragma: false }],
]);

/** The paths this lane serves (POST only), for whoever must know every URL of the server (the fuzz test). */
export const machineEndpointPaths: readonly string[] = [...routes.keys()];

export interface MachineEndpointsInput {
  ctx: ServerContext;
  /** The server's logger, or undefined when logging is off. */
  log: Logger | undefined;
  /** Counters to feed, or undefined when /metrics is off. */
  metrics: ServerMetrics | undefined;
  bodyLimit: number;
  /** True once the server has begun to close: answers then end their connection. */
  isClosing(): boolean;
}

/** Serves the request and returns true when it is one of the machine endpoints; false otherwise. */
export type MachineEndpoints = (request: IncomingMessage, response: ServerResponse) => boolean;

export function machineEndpoints({ ctx, log, metrics, bodyLimit, isClosing }: MachineEndpointsInput): MachineEndpoints {
  const logsInfo = log?.isLevelEnabled('info') ?? false;
  const logsDebug = log?.isLevelEnabled('debug') ?? false;
  return (request, response) => {
    if (request.method !== 'POST') return false;
    const path = pathOf(request.url ?? '');
    const route = routes.get(path);
    // While closing, Fastify answers (503, return503OnClosing), as for every other route.
    if (route === undefined || isClosing()) return false;
    const exchange: Exchange = { request, response, path, id: randomUUID(), started: performance.now(), grantType: undefined };
    if (logsDebug) log!.debug({ request_id: exchange.id, req: { method: 'POST', url: path } }, 'incoming request');
    readForm(request, bodyLimit).then(
      (params) => {
        if (path === '/token') exchange.grantType = params.get('grant_type')?.[0];
        return route.endpoint(params, request.headers.authorization, ctx);
      },
    ).then(
      (body) => answer(exchange, 200, JSON.stringify(body), route.pragma ? withPragma : noExtra),
      (error: unknown) => fail(exchange, error),
    ).catch((error: unknown) => {
      // Writing the answer itself failed: nothing sensible can be sent any more, and a rejection
      // left unhandled would end the process.
      errorLogFor(exchange.id).error({ err: error }, 'could not answer');
      response.destroy();
    });
    return true;
  };

  function fail(exchange: Exchange, error: unknown): void {
    if (error === requestAborted) return;
    const requestLog = errorLogFor(exchange.id);
    const oauthError = asOAuthError(error, requestLog);
    metrics?.oauthErrors.inc({ error: oauthError.code });
    answer(exchange, oauthError.status, JSON.stringify(oauthError.toJSON()), {
      pragma: false,
      wwwAuthenticate: oauthError.wwwAuthenticate,
      // A body refused before it was read is never read: the connection cannot carry another request.
      close: error instanceof BodyRefused && !exchange.request.complete,
    });
  }

  function answer(exchange: Exchange, status: number, body: string, extra: Extra): void {
    const { response } = exchange;
    if (response.destroyed || response.headersSent) return;
    // One object literal: node:http takes it as it is, where an array or setHeader() goes
    // through its header list one call per header.
    const headers: Record<string, string> = {
      'cache-control': 'no-store',
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'x-request-id': exchange.id,
      'x-content-type-options': 'nosniff',
    };
    if (extra.pragma) headers.pragma = 'no-cache';
    if (extra.wwwAuthenticate !== undefined) headers['www-authenticate'] = extra.wwwAuthenticate;
    if (extra.close || isClosing()) headers.connection = 'close';
    response.writeHead(status, headers);
    response.end(body);
    const elapsed = performance.now() - exchange.started;
    if (logsInfo) {
      // The same flat line as every other request's (app.ts).
      log!.info({ request_id: exchange.id, method: 'POST', url: exchange.path, statusCode: status, responseTime: elapsed }, 'request completed');
    }
    if (metrics !== undefined) {
      metrics.requests.inc({ method: 'POST', route: exchange.path, status: String(status) });
      metrics.latency.observe({ method: 'POST', route: exchange.path }, elapsed / 1000);
      if (status === 200 && exchange.grantType !== undefined) metrics.tokensIssued.inc({ grant_type: exchange.grantType });
    }
  }

  function errorLogFor(id: string): ErrorLog {
    if (log === undefined) return silentLog;
    const child = log.child({ request_id: id });
    return { warn: (details, message) => child.warn(details, message), error: (details, message) => child.error(details, message) };
  }
}

/** Headers beyond those of every answer. */
interface Extra {
  pragma: boolean;
  wwwAuthenticate?: string;
  close: boolean;
}

const noExtra: Extra = { pragma: false, close: false };
const withPragma: Extra = { pragma: true, close: false };

interface Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  path: string;
  id: string;
  started: number;
  grantType: string | undefined;
}

const silentLog: ErrorLog = { warn: () => {}, error: () => {} };

/** A body refused for its size or type: an `invalid_request`, as Fastify's parser errors are. */
class BodyRefused extends OAuthError {
  constructor(description: string) {
    super('invalid_request', description);
  }
}

/** The client went away before its body arrived: there is nobody left to answer. */
const requestAborted = Symbol('request aborted');

/**
 * The form parameters of the request. RFC 6749 §3.2 and RFC 7662 §2.1 take
 * `application/x-www-form-urlencoded`; a body of any other type is refused, not guessed at, and
 * no body at all is an empty form. The body is read up to `bodyLimit` bytes, and a
 * `Content-Length` that announces more is refused before reading.
 */
function readForm(request: IncomingMessage, bodyLimit: number): Promise<Params> {
  const type = request.headers['content-type'];
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > bodyLimit) return Promise.reject(new BodyRefused(bodyTooLarge));
  if (type !== undefined && !isForm(type)) return Promise.reject(new BodyRefused(notAForm));
  // The listeners are inline and never removed (the request ends with them): under tsx, every
  // named closure made per request costs an Object.defineProperty for its name.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    request.on('data', (chunk: Buffer) => {
      if (settled) return;
      length += chunk.length;
      if (length > bodyLimit) {
        settled = true;
        reject(new BodyRefused(bodyTooLarge));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (settled) return;
      settled = true;
      if (declared !== undefined && Number(declared) !== length) return reject(new BodyRefused(contentLengthMismatch));
      if (type === undefined) {
        return length === 0 ? resolve(new Map()) : reject(new BodyRefused(notAForm));
      }
      try {
        resolve(parseFormEncoded(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)));
      } catch (error) {
        reject(error);
      }
    });
    request.on('close', () => {
      if (settled) return;
      settled = true;
      reject(requestAborted);
    });
  });
}

/** The media type, without its parameters (RFC 9110 §8.3.1), compared case-insensitively. */
function isForm(contentType: string): boolean {
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === 'application/x-www-form-urlencoded';
}
