import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { formParams } from '../http/form-body.ts';
import { optionalParam, queryParams } from '../http/params.ts';
import { loginPage } from '../pages/login-page.ts';
import { homePage } from '../pages/home-page.ts';
import { authenticatePassword } from './authenticate-password.ts';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from './session-cookie.ts';
import { endSession, findActiveSession, startSession } from './sessions.ts';

/** Where a login may send the browser next: only back into an authorization request, or home. */
function safeReturnTo(value: string | undefined): string {
  // Printable ASCII only (as /authorize builds it): anything else cannot go into a Location header.
  if (value !== undefined && /^\/authorize\?[\x21-\x7e]*$/.test(value) && !value.includes('\\')) return value;
  return '/';
}

export function loginRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const page = { config: { errorFormat: 'page' as const } };
  const csrf = { ...page, preHandler: app.csrfProtection };
  // Online password guessing is slowed per client address and per account (RFC 6819 §4.4.3.6):
  // the first stops one address trying many accounts, the second many addresses trying one.
  const tooMany = (_request: unknown, context: { after: string }) =>
    new OAuthError('temporarily_unavailable', `Too many sign-in attempts. Try again in ${context.after}.`, { status: 429 });
  const window = ctx.config.loginAttemptWindowSeconds * 1000;
  const perIp = app.rateLimit({
    max: ctx.config.loginAttemptsPerIp,
    timeWindow: window,
    keyGenerator: (request) => `login-ip:${request.ip}`,
    errorResponseBuilder: tooMany,
  });
  const perAccount = app.rateLimit({
    max: ctx.config.loginAttemptsPerAccount,
    timeWindow: window,
    keyGenerator: (request) => {
      const username = request.body instanceof Map ? (request.body.get('username') as string[] | undefined)?.[0] : undefined;
      return `login-account:${(username ?? '').toLowerCase().slice(0, 200)}`;
    },
    errorResponseBuilder: tooMany,
  });

  app.get('/', page, async (request, reply) => {
    const active = await findActiveSession(readSessionCookie(request), ctx);
    return reply.type('text/html; charset=utf-8').send(
      homePage({ username: active?.account.username, csrfToken: reply.generateCsrf(), issuer: ctx.config.issuer }),
    );
  });

  app.get('/login', page, async (request, reply) => {
    const params = queryParams(request.raw.url);
    const returnTo = safeReturnTo(optionalParam(params, 'return_to', ctx.config.maxParameterLength));
    // OpenID Connect `login_hint` pre-fills the username (Core §3.1.2.1).
    const username = optionalParam(params, 'login_hint', 200);
    return reply.type('text/html; charset=utf-8').send(loginPage({ csrfToken: reply.generateCsrf(), returnTo, username }));
  });

  app.post('/login', { ...page, preHandler: [app.csrfProtection, perIp, perAccount] }, async (request, reply) => {
    const params = formParams(request);
    const returnTo = safeReturnTo(optionalParam(params, 'return_to', ctx.config.maxParameterLength));
    const username = optionalParam(params, 'username', 200);
    const password = optionalParam(params, 'password', 1024);
    if (username === undefined || password === undefined) {
      throw new OAuthError('invalid_request', 'enter your username and password');
    }
    const account = await authenticatePassword(username, password, ctx);
    if (account === undefined) {
      return reply
        .code(401)
        .type('text/html; charset=utf-8')
        .send(loginPage({ csrfToken: reply.generateCsrf(), returnTo, username, error: 'Wrong username or password.' }));
    }
    // A fresh session id at every login defeats session fixation.
    await endSession(readSessionCookie(request), ctx);
    const { cookieValue, expiresAt } = await startSession(account, ctx);
    setSessionCookie(reply, cookieValue, expiresAt, ctx);
    return reply.redirect(returnTo, 303);
  });

  app.post('/logout', csrf, async (request, reply) => {
    await endSession(readSessionCookie(request), ctx);
    clearSessionCookie(reply);
    return reply.redirect('/', 303);
  });
}
