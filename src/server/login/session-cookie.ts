import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.ts';

export const sessionCookieName = 'gatehouse_session';

/** The cookie that holds the CSRF secret (@fastify/csrf-protection, registered in app.ts). */
export const csrfCookieName = 'gatehouse_csrf';

/**
 * HttpOnly keeps scripts away from the session; SameSite=Lax keeps it off cross-site POSTs while
 * still sending it on the top-level redirect that brings the user back to /authorize; Secure
 * whenever the public URL is https.
 */
export function setSessionCookie(reply: FastifyReply, value: string, expiresAt: number, ctx: ServerContext): void {
  reply.setCookie(sessionCookieName, value, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.config.issuer.startsWith('https:'),
    expires: new Date(expiresAt),
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(sessionCookieName, { path: '/' });
}

export function readSessionCookie(request: FastifyRequest): string | undefined {
  return request.cookies[sessionCookieName];
}

/**
 * Replaces the browser's CSRF secret, at sign-in and sign-out: a token a page handed out before
 * the change (to an attacker who planted it, or on a shared computer) stops validating (OWASP
 * CSRF Prevention: renew the token when the session changes). The plugin makes a new secret when
 * the request shows none, and sets its cookie on this reply.
 */
export function rotateCsrfSecret(request: FastifyRequest, reply: FastifyReply): void {
  delete request.cookies[csrfCookieName];
  reply.generateCsrf();
}
