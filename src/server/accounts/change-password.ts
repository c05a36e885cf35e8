import type { AccountRecord, SessionRecord } from '../../storage/storage.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { recordAuditEvent } from '../operations/audit-trail.ts';
import type { ServerContext } from '../context.ts';
import { startSession, type NewSession } from '../login/sessions.ts';
import type { PasswordProblem } from './account-page.ts';

export interface PasswordChange {
  account: AccountRecord;
  /** The session the change is made from: it is replaced by a new one, every other one ends. */
  session: SessionRecord;
  currentPassword: string;
  newPassword: string;
  confirmPassword: string;
  ip: string;
}

/** What a change came to: what was wrong with it, or the browser's new session. */
export type PasswordChangeResult = { problem: PasswordProblem } | { session: NewSession };

/**
 * Changes a password the user proved they know, and ends every session of the account (whoever
 * knew the old password is signed out; OWASP ASVS 3.3.3). The browser that made the change gets a
 * new session id in the same transaction: an id that leaked before the change must not outlive it
 * (OWASP Session Management: renew the session id on a credential change).
 */
export async function changePassword(change: PasswordChange, ctx: ServerContext): Promise<PasswordChangeResult> {
  const { account, newPassword } = change;
  // The same bounds as at account creation (accounts/create-account.ts).
  if (newPassword.length < 8 || newPassword.length > 1024) return { problem: 'length' };
  if (newPassword !== change.confirmPassword) return { problem: 'mismatch' };
  if (!(await verifyPassword(change.currentPassword, account.passwordHash))) {
    await recordAuditEvent(
      { actor: `account:${account.id}`, action: 'password_change_failed', subject: `account:${account.id}`, ip: change.ip },
      ctx.storage,
      ctx.clock,
    );
    return { problem: 'wrong_password' };
  }
  const passwordHash = await hashPassword(newPassword);
  return ctx.storage.transaction(async (tx) => {
    await tx.updateAccountPassword(account.id, passwordHash);
    await tx.deleteSessionsOfAccount(account.id);
    const session = await startSession(account, ctx, tx);
    await recordAuditEvent(
      { actor: `account:${account.id}`, action: 'password_changed', subject: `account:${account.id}`, detail: { other_sessions_ended: true }, ip: change.ip },
      tx,
      ctx.clock,
    );
    return { session };
  });
}
