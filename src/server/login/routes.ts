import type { AccountRecord } from '../../storage/storage.ts';
import { usernameKey } from '../../storage/username-key.ts';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { safeLocalPath } from '../http/local-path.ts';
import { optionalParam } from '../http/params.ts';
import { htmlReply, redirectReply, type RouteReply, type RouteRequest, type WebRoute } from '../http/route-table.ts';
import { loginPage } from './login-page.ts';
import { homePage } from './home-page.ts';
import { authenticatePassword } from '../accounts/authenticate-password.ts';
import { createDeviceCookie, deviceCookie, readDeviceCookie, verifyDeviceCookie } from './device-cookie.ts';
import type { LoginFailureCounters } from './failure-counters.ts';
import { admitLoginAttempt, loginAbandoned, loginSucceeded, type LoginAttempt } from './login-throttle.ts';
import { clearedSessionCookie, readSessionCookie, sessionCookie } from './session-cookie.ts';
import { endSession, findActiveSession, startSession } from './sessions.ts';
import { recordAuditEvent } from '../operations/audit-trail.ts';
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

/** What the login form needs besides the context: where failures are counted, the device-cookie key. */
export interface LoginSecurity {
  counters: LoginFailureCounters;
  /** HMAC key of the device cookies (device-cookie.ts). */
  deviceCookieKey: Buffer;
}

/**
 * The home page, the login form and sign-out. Every POST is CSRF-protected and answers 303
 * (DESIGN invariant 6); sign-in and sign-out give the browser a new CSRF secret.
 */
export function loginRoutes(ctx: ServerContext, security: LoginSecurity): WebRoute[] {
  const throttle = { counters: security.counters, config: ctx.config, clock: ctx.clock };

  /** The attempt as the throttle sees it; a device cookie counts only for the account it names. */
  async function attemptOf(request: RouteRequest, username: string): Promise<LoginAttempt> {
    const attempt: LoginAttempt = { usernameKey: usernameKey(username).slice(0, 200), ip: request.ip };
    const device = verifyDeviceCookie(readDeviceCookie(request), security.deviceCookieKey);
    if (device === undefined) return attempt;
    const account = await ctx.storage.findAccountByUsername(username);
    return account?.id === device.accountId ? { ...attempt, deviceNonce: device.nonce } : attempt;
  }

  async function home(request: RouteRequest): Promise<RouteReply> {
    const active = await findActiveSession(readSessionCookie(request), ctx);
    return htmlReply(homePage({ username: active?.account.username, csrfToken: request.csrfToken(), issuer: ctx.config.issuer }, pageContextFor(request, ctx.config)));
  }

  function showLoginForm(request: RouteRequest): RouteReply {
    const returnTo = safeReturnTo(optionalParam(request.query, 'return_to', ctx.config.maxParameterLength));
    // OpenID Connect `login_hint` pre-fills the username (Core §3.1.2.1).
    const username = optionalParam(request.query, 'login_hint', 200);
    return htmlReply(loginPage({ csrfToken: request.csrfToken(), returnTo, username }, pageContextFor(request, ctx.config)));
  }

  async function signIn(request: RouteRequest): Promise<RouteReply> {
    const params = request.form;
    const returnTo = safeReturnTo(optionalParam(params, 'return_to', ctx.config.maxParameterLength));
    const username = optionalParam(params, 'username', 200);
    const password = optionalParam(params, 'password', 1024);
    if (username === undefined || password === undefined) {
      throw new OAuthError('invalid_request', 'enter your username and password');
    }
    const attempt = await attemptOf(request, username);
    const refusal = await admitLoginAttempt(attempt, throttle);
    if (refusal !== undefined) {
      throw new OAuthError('temporarily_unavailable', `Too many sign-in attempts. Try again in ${waitInWords(refusal.retryAfterSeconds)}.`, {
        status: 429,
        retryAfterSeconds: refusal.retryAfterSeconds,
      });
    }
    let account: AccountRecord | undefined;
    try {
      account = await authenticatePassword(username, password, ctx);
    } catch (error) {
      await loginAbandoned(attempt, throttle);
      throw error;
    }
    if (account === undefined) {
      await recordLoginFailure(username, request.ip, ctx);
      // The language switcher of this page must not re-send the form: it goes back to an empty one.
      const context = pageContextFor(request, ctx.config, `/login?${new URLSearchParams({ return_to: returnTo })}`);
      return htmlReply(loginPage({ csrfToken: request.csrfToken(), returnTo, username, failed: true }, context), 401);
    }
    await loginSucceeded(attempt, throttle);
    await recordAuditEvent({ actor: `account:${account.id}`, action: 'login', subject: `account:${account.id}`, ip: request.ip }, ctx.storage, ctx.clock);
    // A fresh session id at every login defeats session fixation.
    await endSession(readSessionCookie(request), ctx);
    const { cookieValue, expiresAt } = await startSession(account, ctx);
    return {
      ...redirectReply(returnTo),
      // This browser is now known for this account (a new nonce each time, OWASP device cookies).
      cookies: [sessionCookie(cookieValue, expiresAt, ctx), deviceCookie(createDeviceCookie(account.id, security.deviceCookieKey).value, ctx)],
      newCsrfSecret: true,
    };
  }

  async function signOut(request: RouteRequest): Promise<RouteReply> {
    await endSession(readSessionCookie(request), ctx);
    return { ...redirectReply('/'), cookies: [clearedSessionCookie], newCsrfSecret: true };
  }

  return [
    { lane: 'page', method: 'GET', path: '/', handle: home },
    { lane: 'page', method: 'GET', path: '/login', handle: showLoginForm },
    { lane: 'page', method: 'POST', path: '/login', csrf: true, handle: signIn },
    { lane: 'page', method: 'POST', path: '/logout', csrf: true, handle: signOut },
  ];
}

/** "32 seconds", "2 minutes": how long a refused sign-in must wait. */
function waitInWords(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
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
