import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.ts';

export const sessionCookieName = 'gatehouse_session';

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
