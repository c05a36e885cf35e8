import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import lightMyRequest from 'light-my-request';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type DestinationStream } from 'pino';
import type { Clock } from '../shared/clock.ts';
import type { Storage } from '../storage/storage.ts';
import { adminRoutes } from './admin/routes.ts';
import { authorizeRoutes } from './authorize/routes.ts';
import type { GatehouseConfig } from './config/defaults.ts';
import { createServerContext } from './context.ts';
import type { KeyEncryption } from './keys/key-encryption.ts';
import { oidcRoutes } from './oidc/routes.ts';
import { ServerMetrics } from './operations/metrics.ts';
import { operationsRoutes } from './operations/routes.ts';
import { clientErrorHandler, frameworkErrorHandler, registerErrorHandler } from './http/error-handler.ts';
import { registerFormBodyParser } from './http/form-body.ts';
import { csrfCookieName, serveWebRoutes } from './http/fastify-routes.ts';
import type { WebRoute } from './http/route-table.ts';
import { machineEndpoints, type MachineEndpoints } from './http/machine-endpoints.ts';
import { pathOf } from './http/params.ts';
import { loginRoutes } from './login/routes.ts';
import { MemoryFailureCounters, RedisFailureCounters } from './login/failure-counters.ts';
import { pageContextFor } from './pages/page-context.ts';
import { assetRoutes, imageSources } from './pages/routes.ts';
import { accountRoutes } from './accounts/routes.ts';
import { languageRoutes } from './i18n/routes.ts';
import { tokenRoutes } from './tokens/routes.ts';
import { userinfoRoutes } from './oidc/userinfo-routes.ts';

export interface BuildServerInput {
  config: GatehouseConfig;
  storage: Storage;
  clock: Clock;
  /** Seals signing private keys at rest (see keys/key-encryption.ts). */
  keyEncryption: KeyEncryption;
  /** Logging: off by default (tests); `main.ts` passes the configured level and stdout. */
  logger?: false | { level: string; destination?: DestinationStream };
}

/**
 * The request as logged: Fastify's default shape, but the path without its query string, which
 * carries `id_token_hint` (an ID token, OpenID Connect Core §3.1.2.1), `login_hint`, and any
 * token a careless client puts in the URI (RFC 6750 §2.3).
 */
function requestForLog(request: FastifyRequest) {
  return { method: request.method, url: pathOf(request.url), host: request.host, remoteAddress: request.ip };
}

/**
 * The response as logged: its status only. Headers carry cookies and redirects with codes, and
 * since neither serializer lets a header through, no redaction pass is needed on the hot path.
 */
function responseForLog(reply: { statusCode: number }) {
  return { statusCode: reply.statusCode };
}

/** Builds the authorization server. It never listens: `main.ts` does, tests use `inject()`. */
export async function buildServer({ config, storage, clock, keyEncryption, logger = false }: BuildServerInput): Promise<FastifyInstance> {
  const ctx = createServerContext(config, storage, clock, keyEncryption);
  const metrics = new ServerMetrics(storage, clock);
  const stdout = logger === false || logger.destination !== undefined ? undefined : bufferedStdout();
  const pinoLogger =
    logger === false
      ? undefined
      : pino({ level: logger.level, serializers: { req: requestForLog, res: responseForLog } }, logger.destination ?? stdout!.stream);
  const loggerInstance: FastifyBaseLogger | undefined = pinoLogger;
  const logsDebug = pinoLogger?.isLevelEnabled('debug') ?? false;
  const logsInfo = pinoLogger?.isLevelEnabled('info') ?? false;
  const app: FastifyInstance = Fastify({
    loggerInstance,
    bodyLimit: config.bodyLimitBytes,
    // Request ids are generated here, never taken from a client-supplied header; every log line
    // of a request carries it, and the response names it for support requests.
    requestIdHeader: false,
    // One line per request at info (the onResponse hook below), not Fastify's two; the
    // "incoming request" line is debug.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    trustProxy: config.trustedProxies === '' ? false : config.trustedProxies.split(',').map((entry) => entry.trim()),
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  app.addHook('onRequest', (request, reply, done) => {
    // nosniff on every response, JSON included: a browser never runs a response as script or style.
    reply.headers({ 'x-request-id': request.id, 'x-content-type-options': 'nosniff' });
    if (logsDebug) request.log.debug({ req: request }, 'incoming request');
    done();
  });
  if (logsInfo || config.metricsEnabled) {
    app.addHook('onResponse', (request, reply, done) => {
      // Flat fields: pino writes strings and numbers straight out, nested objects go through a
      // slower stringify, and this line is written for every request.
      if (logsInfo) {
        request.log.info(
          { method: request.method, url: pathOf(request.url), statusCode: reply.statusCode, responseTime: reply.elapsedTime },
          'request completed',
        );
      }
      // Nobody can read the counters when /metrics is off, so they are not kept.
      if (config.metricsEnabled) recordRequest(metrics, request, reply);
      done();
    });
  }
  // Graceful shutdown: a response sent once closing has begun ends its connection, or a keep-alive
  // client would hold the stopping server open until the keep-alive timeout (72 s).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  serveFirst(
    app,
    machineEndpoints({
      ctx,
      log: pinoLogger,
      metrics: config.metricsEnabled ? metrics : undefined,
      bodyLimit: config.bodyLimitBytes,
      isClosing: () => closing,
    }),
  );
  await app.register(cookie);
  const redis = config.redisUrl === '' ? undefined : connectRedis(config.redisUrl);
  // The rate-limit plugin never closes the client it is given; an open one keeps a stopped server's
  // process alive (and ioredis reconnects forever to a Redis that is down).
  if (redis !== undefined) app.addHook('onClose', async () => redis.disconnect());
  if (stdout !== undefined) app.addHook('onClose', async () => stdout.stop());
  app.addHook('onClose', () => ctx.signingThreads.close());
  await app.register(rateLimit, {
    global: false,
    ...(redis === undefined ? {} : { redis, nameSpace: 'gatehouse-rate-limit-' }),
    // A rate-limit store that is down must not lock everyone out of logging in.
    skipOnError: true,
  });
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: csrfCookieName,
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: config.issuer.startsWith('https:') },
    getToken: (request) => (request.body instanceof Map ? (request.body.get('_csrf') as string[] | undefined)?.[0] : undefined),
  });
  registerFormBodyParser(app);
  registerErrorHandler(app, (code) => metrics.oauthErrors.inc({ error: code }), (request) => pageContextFor(request, config));
  // Every domain's endpoints as data (http/route-table.ts); the adapter serves each lane below.
  const webRoutes: WebRoute[] = [
    ...operationsRoutes(ctx, metrics),
    ...assetRoutes(ctx),
    ...languageRoutes(ctx),
    ...loginRoutes(ctx, {
      counters: redis === undefined ? new MemoryFailureCounters() : new RedisFailureCounters(redis),
      deviceCookieKey: keyEncryption.deriveKey('gatehouse device cookie v1'),
    }),
    ...accountRoutes(ctx),
  ];

  // The JSON endpoints of the protocol, without the page headers: the token endpoint,
  // introspection and userinfo are the hot paths, and a Content-Security-Policy means nothing to
  // the machines that call them. They carry Cache-Control: no-store themselves (RFC 6749 §5.1).
  tokenRoutes(app, ctx);
  userinfoRoutes(app, ctx);
  oidcRoutes(app, ctx);
  serveWebRoutes(app, webRoutes, 'json');
  // Everything a browser shows, with the page headers of DESIGN invariant 6.
  await app.register(async (pages) => {
    await pages.register(helmet, {
      // Pages load nothing from other origins; nothing may frame them (clickjacking, RFC 6749 §10.13).
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: imageSources(config.logoUrl),
          baseUri: ["'none'"],
          frameAncestors: ["'none'"],
          // No form-action: browsers apply it to the redirect after the consent POST, which goes to the client.
        },
      },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      // HSTS only makes sense when the server is reached over https.
      strictTransportSecurity: config.issuer.startsWith('https:'),
    });
    // Pages carry CSRF tokens and the user's name: no shared or browser cache may keep them.
    pages.addHook('onSend', async (_request, reply, payload) => {
      if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('cache-control', 'no-store');
      return payload;
    });
    serveWebRoutes(pages, webRoutes, 'page');
    authorizeRoutes(pages, ctx);
    adminRoutes(pages, ctx);
  });
  return app;
}

/**
 * Puts the machine endpoints (http/machine-endpoints.ts) in front of Fastify's routing, both on
 * the server's socket and in `inject()`, so that tests drive the same path as production traffic.
 * Fastify's `inject()` goes to its router directly; this one goes through the same dispatcher
 * as a request on the socket, once the app is ready.
 */
function serveFirst(app: FastifyInstance, endpoints: MachineEndpoints): void {
  const routing = app.routing.bind(app);
  const dispatch = (request: IncomingMessage, response: ServerResponse) => {
    if (!endpoints(request, response)) routing(request, response);
  };
  // Node adds createServer's handler as the server's 'request' listener; Fastify's handler is
  // `app.routing`. If a Fastify version ever does otherwise, fail at start rather than serve twice.
  const [listener, ...others] = app.server.listeners('request');
  if (listener !== app.routing || others.length > 0) throw new Error('Fastify no longer serves requests through app.routing');
  app.server.removeListener('request', app.routing);
  app.server.on('request', dispatch);
  const inject = (options?: lightMyRequest.InjectOptions | string, callback?: lightMyRequest.CallbackFunc) =>
    lightMyRequest(
      (request, response) =>
        app.ready((error) => {
          if (error) response.emit('error', error);
          else dispatch(request, response);
        }),
      options as lightMyRequest.InjectOptions,
      callback as lightMyRequest.CallbackFunc,
    );
  Object.assign(app, { inject });
}

/** Most a log line waits in the buffer before it is written (`bufferedStdout`). */
const logFlushIntervalMs = 250;

/**
 * Standard output for the logs, written in blocks: lines are buffered up to 4 KiB (about 30
 * access lines) and at most `logFlushIntervalMs`, instead of one write to the file descriptor
 * per line, which under load costs more than making the line. pino flushes what is left when the
 * process exits.
 */
function bufferedStdout(): { stream: DestinationStream; stop(): void } {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const flush = () => {
    try {
      stream.flush();
    } catch {
      // stdout is gone (closed pipe): there is nowhere left to write, and no reason to crash.
    }
  };
  const timer = setInterval(flush, logFlushIntervalMs);
  timer.unref();
  return {
    stream,
    stop: () => {
      clearInterval(timer);
      flush();
    },
  };
}

function recordRequest(metrics: ServerMetrics, request: FastifyRequest, reply: FastifyReply): void {
  const route = request.routeOptions.url ?? 'unmatched';
  metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
  metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  if (route === '/token' && reply.statusCode === 200 && request.body instanceof Map) {
    const grantType = (request.body.get('grant_type') as string[] | undefined)?.[0];
    if (grantType !== undefined) metrics.tokensIssued.inc({ grant_type: grantType });
  }
}

/** Shared rate-limit counters; fails fast instead of queueing when Redis is away. */
function connectRedis(url: string): Redis {
  const redis = new Redis(url, { connectTimeout: 2000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  redis.on('error', () => {});
  return redis;
}
