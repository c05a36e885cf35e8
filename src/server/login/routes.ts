import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { formParams } from '../http/form-body.ts';
import { safeLocalPath } from '../http/local-path.ts';
import { optionalParam, queryParams } from '../http/params.ts';
import { loginPage } from '../pages/login-page.ts';
import { homePage } from '../pages/home-page.ts';
import { authenticatePassword } from './authenticate-password.ts';
import { clearSessionCookie, readSessionCookie, rotateCsrfSecret, setSessionCookie } from './session-cookie.ts';
import { endSession, findActiveSession, startSession } from './sessions.ts';
import { recordAuditEvent } from '../audit/audit-trail.ts';
import { pageContextFor } from '../pages/page-context.ts';

/**
 * Where a login may send the browser next: only back into an authorization request, to a page of
 * the admin console, to the account page, or home. The path is checked as it goes into
 * `Location` (DESIGN invariant 9), so it is never `//host`, another origin or a dot segment.
 */
function safeReturnTo(value: string | undefined): string {
  const path = safeLocalPath(value);
  return path.startsWith('/authorize?') || path === '/account' || /^\/admin(?:[/?]|$)/.test(path) ? path : '/';
}

export function loginRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const page = { config: { errorFormat: 'page' as const } };
  const csrf = { ...page, preHandler: app.csrfProtection };
  // Online password guessing is slowed per client address and per account (RFC 6819 §4.4.3.6):
  // the first stops one address trying many accounts, the second many addresses trying one.
  // `createRateLimit` only counts: two `app.rateLimit()` handlers on one route share a per-request
  // "already limited" mark, so the second (per account) would never run.
  const window = ctx.config.loginAttemptWindowSeconds * 1000;
  const perIp = app.createRateLimit({
    max: ctx.config.loginAttemptsPerIp,
    timeWindow: window,
    keyGenerator: (request) => `login-ip:${request.ip}`,
  });
  const perAccount = app.createRateLimit({
    max: ctx.config.loginAttemptsPerAccount,
    timeWindow: window,
    keyGenerator: (request) => {
      const username = request.body instanceof Map ? (request.body.get('username') as string[] | undefined)?.[0] : undefined;
      return `login-account:${(username ?? '').toLowerCase().slice(0, 200)}`;
    },
  });
  const limitAttempts = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    for (const limit of [perIp, perAccount]) {
      const result = await limit(request);
      if (result.isAllowed || !result.isExceeded) continue;
      reply.header('retry-after', result.ttlInSeconds);
      const minutes = Math.max(1, Math.ceil(result.ttlInSeconds / 60));
      throw new OAuthError('temporarily_unavailable', `Too many sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, {
        status: 429,
      });
    }
  };

  app.get('/', page, async (request, reply) => {
    const active = await findActiveSession(readSessionCookie(request), ctx);
    return reply.type('text/html; charset=utf-8').send(
      homePage({ username: active?.account.username, csrfToken: reply.generateCsrf(), issuer: ctx.config.issuer }, pageContextFor(request, ctx.config)),
    );
  });

  app.get('/login', page, async (request, reply) => {
    const params = queryParams(request.raw.url);
    const returnTo = safeReturnTo(optionalParam(params, 'return_to', ctx.config.maxParameterLength));
    // OpenID Connect `login_hint` pre-fills the username (Core §3.1.2.1).
    const username = optionalParam(params, 'login_hint', 200);
    return reply.type('text/html; charset=utf-8').send(loginPage({ csrfToken: reply.generateCsrf(), returnTo, username }, pageContextFor(request, ctx.config)));
  });

  app.post('/login', { ...page, preHandler: [app.csrfProtection, limitAttempts] }, async (request, reply) => {
    const params = formParams(request);
    const returnTo = safeReturnTo(optionalParam(params, 'return_to', ctx.config.maxParameterLength));
    const username = optionalParam(params, 'username', 200);
    const password = optionalParam(params, 'password', 1024);
    if (username === undefined || password === undefined) {
      throw new OAuthError('invalid_request', 'enter your username and password');
    }
    const account = await authenticatePassword(username, password, ctx);
    if (account === undefined) {
      await recordLoginFailure(username, request.ip, ctx);
      // The language switcher of this page must not re-send the form: it goes back to an empty one.
      const context = pageContextFor(request, ctx.config, `/login?${new URLSearchParams({ return_to: returnTo })}`);
      return reply.code(401).type('text/html; charset=utf-8').send(loginPage({ csrfToken: reply.generateCsrf(), returnTo, username, failed: true }, context));
    }
    await recordAuditEvent({ actor: `account:${account.id}`, action: 'login', subject: `account:${account.id}`, ip: request.ip }, ctx.storage, ctx.clock);
    // A fresh session id at every login defeats session fixation.
    await endSession(readSessionCookie(request), ctx);
    const { cookieValue, expiresAt } = await startSession(account, ctx);
    setSessionCookie(reply, cookieValue, expiresAt, ctx);
    rotateCsrfSecret(request, reply);
    return reply.redirect(returnTo, 303);
  });

  app.post('/logout', csrf, async (request, reply) => {
    await endSession(readSessionCookie(request), ctx);
    clearSessionCookie(reply);
    rotateCsrfSecret(request, reply);
    return reply.redirect('/', 303);
  });
}

/**
 * A failed login in the audit trail. The typed username is kept only when it names an account:
 * people type their password into the username field, and that must not land in a log.
 */
async function recordLoginFailure(username: string, ip: string, ctx: ServerContext): Promise<void> {
  const known = await ctx.storage.findAccountByUsername(username);
  await recordAuditEvent(
    known === undefined
      ? { actor: 'anonymous', action: 'login_failed', detail: { reason: 'unknown_username' }, ip }
      : { actor: `account:${known.id}`, action: 'login_failed', subject: `account:${known.id}`, detail: { username: known.username }, ip },
    ctx.storage,
    ctx.clock,
  );
}
