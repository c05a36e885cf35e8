import type { CookieChange } from '../http/route-table.ts';
import type { ServerContext } from '../context.ts';

export const sessionCookieName = 'gatehouse_session';

/**
 * HttpOnly keeps scripts away from the session; SameSite=Lax keeps it off cross-site POSTs while
 * still sending it on the top-level redirect that brings the user back to /authorize; Secure
 * whenever the public URL is https.
 */
export function sessionCookie(value: string, expiresAt: number, ctx: ServerContext): CookieChange {
  return {
    name: sessionCookieName,
    value,
    options: { path: '/', httpOnly: true, sameSite: 'lax', secure: ctx.config.issuer.startsWith('https:'), expires: new Date(expiresAt) },
  };
}

export const clearedSessionCookie: CookieChange = { name: sessionCookieName, value: undefined, options: { path: '/' } };

export function readSessionCookie(request: { cookies: Record<string, string | undefined> }): string | undefined {
  return request.cookies[sessionCookieName];
}
