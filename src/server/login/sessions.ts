import { secondsFromNow } from '../../shared/clock.ts';
import type { AccountRecord, SessionRecord, Storage } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { generateToken, hashSecret } from '../keys/opaque-secret.ts';

export interface ActiveSession {
  session: SessionRecord;
  account: AccountRecord;
}

export interface NewSession {
  cookieValue: string;
  expiresAt: number;
}

/**
 * Starts a browser session; the returned value goes into the cookie, only its hash is stored.
 * `storage` is a transaction's when the session must appear together with another change.
 */
export async function startSession(account: AccountRecord, ctx: ServerContext, storage: Storage = ctx.storage): Promise<NewSession> {
  const cookieValue = generateToken();
  const now = ctx.clock.now();
  const expiresAt = secondsFromNow(ctx.clock, ctx.config.sessionTtlSeconds);
  await storage.insertSession({ idHash: hashSecret(cookieValue), accountId: account.id, authTime: now, expiresAt, createdAt: now });
  return { cookieValue, expiresAt };
}

/** The session a cookie names, if it exists, has not expired and its account still exists. */
export async function findActiveSession(cookieValue: string | undefined, ctx: ServerContext): Promise<ActiveSession | undefined> {
  if (cookieValue === undefined || cookieValue.length > 100) return undefined;
  const session = await ctx.storage.findSession(hashSecret(cookieValue));
  if (session === undefined || session.expiresAt <= ctx.clock.now()) return undefined;
  const account = await ctx.storage.findAccount(session.accountId);
  if (account === undefined || account.disabledAt !== null) return undefined;
  return { session, account };
}

export async function endSession(cookieValue: string | undefined, ctx: ServerContext): Promise<void> {
  if (cookieValue !== undefined && cookieValue.length <= 100) await ctx.storage.deleteSession(hashSecret(cookieValue));
}
