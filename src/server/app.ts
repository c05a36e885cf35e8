import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Clock } from '../shared/clock.ts';
import type { Storage } from '../storage/storage.ts';
import { authorizeRoutes } from './authorize/routes.ts';
import type { GatehouseConfig } from './config/defaults.ts';
import { createServerContext } from './context.ts';
import type { KeyEncryption } from './keys/key-encryption.ts';
import { oidcRoutes } from './oidc/routes.ts';
import { clientErrorHandler, frameworkErrorHandler, registerErrorHandler } from './http/error-handler.ts';
import { registerFormBodyParser } from './http/form-body.ts';
import { loginRoutes } from './login/routes.ts';
import { stylesheet } from './pages/stylesheet.ts';
import { tokenRoutes } from './tokens/routes.ts';
import { userinfoRoutes } from './userinfo/routes.ts';

export interface BuildServerInput {
  config: GatehouseConfig;
  storage: Storage;
  clock: Clock;
  /** Seals signing private keys at rest (see keys/key-encryption.ts). */
  keyEncryption: KeyEncryption;
  /** Pino logger options; false (the default) logs nothing, as tests want. */
  logger?: boolean | { level: string };
}

/** Builds the authorization server. It never listens: `main.ts` does, tests use `inject()`. */
export async function buildServer({ config, storage, clock, keyEncryption, logger = false }: BuildServerInput): Promise<FastifyInstance> {
  const ctx = createServerContext(config, storage, clock, keyEncryption);
  const app = Fastify({
    logger: logger === false ? false : { ...(logger === true ? {} : logger), redact: ['req.headers.authorization', 'req.headers.cookie'] },
    bodyLimit: config.bodyLimitBytes,
    // Request ids are generated here, never taken from a client-supplied header.
    requestIdHeader: false,
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  await app.register(cookie);
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'gatehouse_csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: config.issuer.startsWith('https:') },
    getToken: (request) => (request.body instanceof Map ? (request.body.get('_csrf') as string[] | undefined)?.[0] : undefined),
  });
  await app.register(helmet, {
    // Pages load nothing from other origins; nothing may frame them (clickjacking, RFC 6749 §10.13).
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
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
  app.addHook('onSend', async (_request, reply, payload) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('cache-control', 'no-store');
    return payload;
  });
  registerFormBodyParser(app);
  registerErrorHandler(app);

  app.get('/assets/gatehouse.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(stylesheet),
  );
  loginRoutes(app, ctx);
  authorizeRoutes(app, ctx);
  tokenRoutes(app, ctx);
  userinfoRoutes(app, ctx);
  oidcRoutes(app, ctx);
  return app;
}
