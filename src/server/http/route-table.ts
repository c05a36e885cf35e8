import type { Params } from './params.ts';

/**
 * Endpoints as data (STYLE 11). Each domain's `routes.ts` returns a table of `Route`s: a method,
 * a path, the lane that serves it and a plain handler from a `RouteRequest` to a `RouteReply`.
 * The adapters (http/fastify-routes.ts for pages, JSON and the admin API; http/machine-lane.ts for
 * the machine endpoints) turn the tables into HTTP, so no domain imports the web framework and a
 * reader finds every URL of a domain in one place.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Which adapter serves a route, and with what around it:
 * - `page`: Fastify, with the page headers of DESIGN invariant 6 (CSP, frame denial, no-referrer,
 *   `no-store` on HTML); its errors are pages in the user's language.
 * - `json`: Fastify, without page headers; errors in the RFC 6749 §5.2 JSON shape.
 * - `api`: the admin API: JSON bodies validated by the route's schema, bearer authentication
 *   before the body is read, `no-store`; errors as JSON.
 */
export type WebLane = 'page' | 'json' | 'api';

/** What a handler sees of a request: plain values, no framework objects. */
export interface RouteRequest {
  method: string;
  /** The path and query string as the client sent them. */
  url: string;
  /** Path parameters (`/admin/clients/:client_id`). */
  params: Record<string, string>;
  /** The query string's parameters, repeated ones kept (RFC 6749 §3.1 refuses repeats). */
  readonly query: Params;
  /**
   * The form body (`application/x-www-form-urlencoded`); an empty form when there is no body.
   * Reading it throws `invalid_request` when the body is of another type.
   */
  readonly form: Params;
  /** The body as parsed: a form's `Params`, the JSON of an `api` route (checked by its schema). */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  cookies: Record<string, string | undefined>;
  /** The client's address (`X-Forwarded-For` is believed only from `trustedProxies`). */
  ip: string;
  /** A CSRF token for a form of the page this request answers with. */
  csrfToken(): string;
  /** What the `api` lane's authentication step returned for this request. */
  principal?: unknown;
}

export interface CookieOptions {
  path: string;
  httpOnly?: boolean;
  sameSite?: 'lax' | 'strict';
  secure?: boolean;
  expires?: Date;
  /** Seconds. */
  maxAge?: number;
}

/** A cookie to set, or to clear (`value` undefined). */
export interface CookieChange {
  name: string;
  value: string | undefined;
  options: CookieOptions;
}

/** The answer of a handler: a status, headers, cookies, and at most one kind of body. */
export interface RouteReply {
  /** 200 by default; 303 for a `redirect` unless given. */
  status?: number;
  headers?: Record<string, string | number>;
  cookies?: CookieChange[];
  /** Gives the browser a new CSRF secret (at sign-in and sign-out, so old tokens stop working). */
  newCsrfSecret?: boolean;
  html?: string;
  json?: unknown;
  /** Another text type (a stylesheet, Prometheus metrics). */
  text?: { type: string; body: string };
  /** A local path or a checked URL for `Location`; the caller has checked it (invariant 9). */
  redirect?: string;
}

/** Per-route request limit (@fastify/rate-limit, shared through Redis when configured). */
export interface RouteRateLimit {
  max: number;
  windowSeconds: number;
  /** The counter's key; it must not hold a secret (hash one). */
  key(request: RouteRequest): string;
  /** What the refused caller reads (status 429, with Retry-After). */
  message: string;
}

/** JSON Schemas of an `api` route (TypeBox objects are JSON Schemas). */
export interface RouteSchema {
  params?: object;
  querystring?: object;
  body?: object;
  response?: Record<number, object>;
}

/** An endpoint served by Fastify. */
export interface WebRoute {
  lane: WebLane;
  method: HttpMethod;
  path: string;
  /** Checks the form's CSRF token before anything else (every state-changing form). */
  csrf?: boolean;
  rateLimit?: RouteRateLimit;
  schema?: RouteSchema;
  /** OpenAPI summary, for routes of the `api` lane. */
  summary?: string;
  handle(request: RouteRequest): Promise<RouteReply> | RouteReply;
}

/** What a machine endpoint gets: its form parameters and how the client authenticated. */
export interface MachineRequest {
  params: Params;
  authorization: string | undefined;
  ip: string;
}

/**
 * An endpoint served by the `node:http` lane in front of Fastify: a form POST answered with JSON
 * (the token endpoint, introspection, revocation). These are what machines call at high rates.
 */
export interface MachineRoute {
  lane: 'machine';
  method: 'POST';
  path: string;
  /** RFC 6749 §5.1: token responses add `Pragma: no-cache` for HTTP/1.0 caches. */
  pragma?: boolean;
  /** The JSON body of a 200 answer, or undefined for an empty one. */
  handle(request: MachineRequest): Promise<object | undefined>;
}

export type Route = WebRoute | MachineRoute;
export type RouteTable = readonly Route[];

/** A page of HTML (`text/html; charset=utf-8`). */
export function htmlReply(html: string, status = 200): RouteReply {
  return { status, html };
}

/** A redirect; 303 after a POST so that a reload does not send the form again (invariant 6). */
export function redirectReply(location: string, status: 302 | 303 = 303): RouteReply {
  return { status, redirect: location };
}
