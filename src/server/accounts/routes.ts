import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { optionalParam } from '../http/params.ts';
import { htmlReply, redirectReply, type RouteReply, type RouteRequest, type WebRoute } from '../http/route-table.ts';
import { readSessionCookie, sessionCookie } from '../login/session-cookie.ts';
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
export function accountRoutes(ctx: ServerContext): WebRoute[] {
  async function showAccount(request: RouteRequest): Promise<RouteReply> {
    const active = await findActiveSession(readSessionCookie(request), ctx);
    if (active === undefined) return redirectReply(loginFirst);
    const notice = optionalParam(request.query, 'notice', 32);
    return render(request, active, { notice: notice === 'revoked' || notice === 'password_changed' ? notice : undefined });
  }

  async function revokeApp(request: RouteRequest): Promise<RouteReply> {
    const active = await findActiveSession(readSessionCookie(request), ctx);
    if (active === undefined) return redirectReply(loginFirst);
    const clientId = optionalParam(request.form, 'client_id', 256);
    if (clientId === undefined) throw new OAuthError('invalid_request', '"client_id" is required');
    await revokeAppAccess(active.account, clientId, request.ip, ctx);
    return redirectReply('/account?notice=revoked');
  }

  async function newPassword(request: RouteRequest): Promise<RouteReply> {
    const active = await findActiveSession(readSessionCookie(request), ctx);
    if (active === undefined) return redirectReply(loginFirst);
    const params = request.form;
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
    if ('problem' in result) return render(request, active, { passwordProblem: result.problem }, 400);
    return { ...redirectReply('/account?notice=password_changed'), cookies: [sessionCookie(result.session.cookieValue, result.session.expiresAt, ctx)] };
  }

  async function render(
    request: RouteRequest,
    active: ActiveSession,
    state: { notice?: AccountNotice | undefined; passwordProblem?: PasswordProblem },
    status = 200,
  ): Promise<RouteReply> {
    // The switcher always returns to the plain page, never to a one-time notice.
    const context = pageContextFor(request, ctx.config, '/account');
    const apps = await listAuthorizedApps(active.account.id, context.locale, ctx);
    return htmlReply(accountPage({ csrfToken: request.csrfToken(), username: active.account.username, apps, ...state }, context), status);
  }

  return [
    { lane: 'page', method: 'GET', path: '/account', handle: showAccount },
    { lane: 'page', method: 'POST', path: '/account/revoke', csrf: true, handle: revokeApp },
    {
      lane: 'page',
      method: 'POST',
      path: '/account/password',
      csrf: true,
      // A stolen session must not become a way to guess the password it cannot see: current-password
      // checks count like login attempts against the account (RFC 6819 §4.4.3.6), per session (by its
      // hash: the counter's key must not hold the session secret itself).
      rateLimit: {
        max: ctx.config.loginAttemptsPerAccount,
        windowSeconds: ctx.config.loginAttemptWindowSeconds,
        key: (request) => `account-password:${hashSecret(readSessionCookie(request) ?? request.ip)}`,
        message: 'Too many password change attempts. Try again later.',
      },
      handle: newPassword,
    },
  ];
}
