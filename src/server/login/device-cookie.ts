import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerContext } from '../context.ts';
import type { CookieChange } from '../http/route-table.ts';

/**
 * OWASP's "device cookies" against password guessing: a browser that has signed in to an account
 * gets a cookie naming that account and a random nonce, signed with a server key (HMAC-SHA256
 * with a key derived from the key-encryption key, so every instance accepts it). Presented with
 * a sign-in to the same account, it marks the attempt as coming from a known browser: failures
 * made with it count against that cookie alone, and failures made elsewhere do not slow it.
 * It proves nothing else: the password is still checked.
 * Format: `v1.<account id, base64url>.<nonce>.<HMAC, base64url>`.
 */
export const deviceCookieName = 'gatehouse_device';

/** How long a browser stays known without signing in again. */
const deviceCookieMaxAgeSeconds = 180 * 24 * 3600;

export interface DeviceCookie {
  accountId: string;
  nonce: string;
}

export function createDeviceCookie(accountId: string, key: Buffer): { value: string; nonce: string } {
  const nonce = randomBytes(16).toString('base64url');
  const body = `v1.${Buffer.from(accountId).toString('base64url')}.${nonce}`;
  return { value: `${body}.${mac(body, key)}`, nonce };
}

/** The cookie's account and nonce when its signature is right; anything else is no cookie. */
export function verifyDeviceCookie(value: string | undefined, key: Buffer): DeviceCookie | undefined {
  if (value === undefined || value.length > 400) return undefined;
  const parts = value.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return undefined;
  const [, account, nonce, signature] = parts as [string, string, string, string];
  const expected = Buffer.from(mac(`v1.${account}.${nonce}`, key));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { accountId: Buffer.from(account, 'base64url').toString(), nonce };
}

function mac(body: string, key: Buffer): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

/**
 * HttpOnly and SameSite=Lax like the session cookie, Secure on an https issuer, and sent only to
 * /login, the one place that reads it.
 */
export function deviceCookie(value: string, ctx: ServerContext): CookieChange {
  return {
    name: deviceCookieName,
    value,
    options: { path: '/login', httpOnly: true, sameSite: 'lax', secure: ctx.config.issuer.startsWith('https:'), maxAge: deviceCookieMaxAgeSeconds },
  };
}

export function readDeviceCookie(request: { cookies: Record<string, string | undefined> }): string | undefined {
  return request.cookies[deviceCookieName];
}
