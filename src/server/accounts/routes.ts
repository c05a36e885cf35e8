import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { formParams } from '../http/form-body.ts';
import { optionalParam, queryParams } from '../http/params.ts';
import { readSessionCookie, setSessionCookie } from '../login/session-cookie.ts';
import { findActiveSession, type ActiveSession } from '../login/sessions.ts';
import { accountPage, type AccountNotice, type PasswordProblem } from './account-page.ts';
import { pageContextFor } from '../pages/page-context.ts';
import { hashSecret } from '../keys/opaque-secret.ts';
import { listAuthorizedApps } from './authorized-apps.ts';
import { changePassword } from './change-password.ts';
import { revokeAppAccess } from './revoke-app.ts';

/** Where a browser without a session goes: the login form, coming back here. */
const loginFirst = `/login?${new URLSearchParams({ return_to: '/account' })}`;

/**
 * The user's own page: the apps they authorized (with "Revoke access"), a change-password form
 * and sign out. Every POST is CSRF-protected and answers 303 (DESIGN invariant 6).
 */
export function accountRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const page = { config: { errorFormat: 'page' as const } };
  // A stolen session must not become a way to guess the password it cannot see: current-password
  // checks count like login attempts against the account (RFC 6819 §4.4.3.6).
  const passwordAttempts = app.createRateLimit({
    max: ctx.config.loginAttemptsPerAccount,
    timeWindow: ctx.config.loginAttemptWindowSeconds * 1000,
    // Per session (by its hash: the counter's key must not hold the session secret itself).
    keyGenerator: (request) => `account-password:${hashSecret(readSessionCookie(request) ?? request.ip)}`,
  });
  const limitPasswordAttempts = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const result = await passwordAttempts(request);
    if (result.isAllowed || !result.isExceeded) return;
    reply.header('retry-after', result.ttlInSeconds);
    throw new OAuthError('temporarily_unavailable', 'Too many password change attempts. Try again later.', { status: 429 });
  };

  app.get('/account', page, async (request, reply) => {
    const active = await findActiveSession(readSessionCookie(request), ctx);
    if (active === undefined) return reply.redirect(loginFirst, 303);
    const notice = optionalParam(queryParams(request.raw.url), 'notice', 32);
    return render(request, reply, active, { notice: notice === 'revoked' || notice === 'password_changed' ? notice : undefined });
  });

  app.post('/account/revoke', { ...page, preHandler: app.csrfProtection }, async (request, reply) => {
    const active = await findActiveSession(readSessionCookie(request), ctx);
    if (active === undefined) return reply.redirect(loginFirst, 303);
    const clientId = optionalParam(formParams(request), 'client_id', 256);
    if (clientId === undefined) throw new OAuthError('invalid_request', '"client_id" is required');
    await revokeAppAccess(active.account, clientId, request.ip, ctx);
    return reply.redirect('/account?notice=revoked', 303);
  });

  app.post('/account/password', { ...page, preHandler: [app.csrfProtection, limitPasswordAttempts] }, async (request, reply) => {
    const active = await findActiveSession(readSessionCookie(request), ctx);
    if (active === undefined) return reply.redirect(loginFirst, 303);
    const params = formParams(request);
    const result = await changePassword(
      {
        account: active.account,
        session: active.session,
        currentPassword: optionalParam(params, 'current_password', 1024) ?? '',
        newPassword: optionalParam(params, 'new_password', 2048) ?? '',
        confirmPassword: optionalParam(params, 'confirm_password', 2048) ?? '',
        ip: request.ip,
      },
      ctx,
    );
    if ('problem' in result) return render(request, reply.code(400), active, { passwordProblem: result.problem });
    setSessionCookie(reply, result.session.cookieValue, result.session.expiresAt, ctx);
    return reply.redirect('/account?notice=password_changed', 303);
  });

  async function render(
    request: FastifyRequest,
    reply: FastifyReply,
    active: ActiveSession,
    state: { notice?: AccountNotice | undefined; passwordProblem?: PasswordProblem },
  ) {
    // The switcher always returns to the plain page, never to a one-time notice.
    const context = pageContextFor(request, ctx.config, '/account');
    const apps = await listAuthorizedApps(active.account.id, context.locale, ctx);
    return reply
      .type('text/html; charset=utf-8')
      .send(accountPage({ csrfToken: reply.generateCsrf(), username: active.account.username, apps, ...state }, context));
  }
}
