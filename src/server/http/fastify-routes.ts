import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { OAuthError } from '../../shared/oauth-error.ts';
import { formParams } from './form-body.ts';
import { queryParams, type Params } from './params.ts';
import type { RouteRateLimit, RouteReply, RouteRequest, WebLane, WebRoute } from './route-table.ts';

/**
 * The Fastify adapter of the route tables (http/route-table.ts): it registers each route of the
 * given lane on `app` (or on the scope `app` is, such as the pages' scope with its headers),
 * turns the Fastify request into a `RouteRequest` and the handler's `RouteReply` into the answer.
 */
export function serveWebRoutes(app: FastifyInstance, routes: readonly WebRoute[], lane: WebLane): void {
  for (const route of routes) {
    if (route.lane !== lane) continue;
    const preHandler: preHandlerHookHandler[] = [];
    if (route.csrf) preHandler.push(app.csrfProtection);
    if (route.rateLimit !== undefined) preHandler.push(rateLimitStep(app, route.rateLimit));
    app.route({
      method: route.method,
      url: route.path,
      config: { errorFormat: lane === 'page' ? 'page' : 'json' },
      ...(route.schema === undefined ? {} : { schema: route.schema }),
      ...(preHandler.length === 0 ? {} : { preHandler }),
      handler: async (request, reply) => send(request, reply, await route.handle(routeRequestOf(request, reply))),
    });
  }
}

const routeRequests = new WeakMap<FastifyRequest, RouteRequest>();

/** The request as handlers see it; made once per request (a rate-limit key may have made it). */
export function routeRequestOf(request: FastifyRequest, reply: FastifyReply): RouteRequest {
  const made = routeRequests.get(request);
  if (made !== undefined) return made;
  let query: Params | undefined;
  const routeRequest: RouteRequest = {
    method: request.method,
    url: request.url,
    params: (request.params ?? {}) as Record<string, string>,
    get query() {
      query ??= queryParams(request.raw.url);
      return query;
    },
    get form() {
      return formParams(request);
    },
    body: request.body,
    headers: request.headers,
    cookies: request.cookies ?? {},
    ip: request.ip,
    csrfToken: () => reply.generateCsrf(),
  };
  routeRequests.set(request, routeRequest);
  return routeRequest;
}

/** The cookie that holds the CSRF secret (@fastify/csrf-protection, registered in app.ts). */
export const csrfCookieName = 'gatehouse_csrf';

function send(request: FastifyRequest, reply: FastifyReply, answer: RouteReply): FastifyReply {
  if (answer.headers !== undefined) reply.headers(answer.headers);
  for (const cookie of answer.cookies ?? []) {
    if (cookie.value === undefined) reply.clearCookie(cookie.name, cookie.options);
    else reply.setCookie(cookie.name, cookie.value, cookie.options);
  }
  if (answer.newCsrfSecret) {
    // The plugin makes a new secret when the request shows none, and sets its cookie on this reply.
    delete request.cookies[csrfCookieName];
    reply.generateCsrf();
  }
  if (answer.redirect !== undefined) return reply.redirect(answer.redirect, answer.status ?? 303);
  reply.code(answer.status ?? 200);
  if (answer.html !== undefined) return reply.type('text/html; charset=utf-8').send(answer.html);
  if (answer.text !== undefined) return reply.type(answer.text.type).send(answer.text.body);
  if (answer.json !== undefined) return reply.send(answer.json);
  return reply.send();
}

/** A route's own request limit: 429 `temporarily_unavailable` with Retry-After once it is reached. */
function rateLimitStep(app: FastifyInstance, limit: RouteRateLimit): preHandlerHookHandler {
  const check = app.createRateLimit({
    max: limit.max,
    timeWindow: limit.windowSeconds * 1000,
    // The preHandler below made the request's RouteRequest before the check runs.
    keyGenerator: (request) => limit.key(routeRequests.get(request)!),
  });
  return async (request, reply) => {
    routeRequestOf(request, reply);
    const result = await check(request);
    if (result.isAllowed || !result.isExceeded) return;
    throw new OAuthError('temporarily_unavailable', limit.message, { status: 429, retryAfterSeconds: result.ttlInSeconds });
  };
}
