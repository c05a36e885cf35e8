import type { AccountRecord, SessionRecord } from '../../storage/storage.ts';
import { hashPassword, verifyPassword } from '../accounts/password.ts';
import { recordAuditEvent } from '../audit/audit-trail.ts';
import type { ServerContext } from '../context.ts';
import type { PasswordProblem } from '../pages/account-page.ts';

export interface PasswordChange {
  account: AccountRecord;
  /** The session the change is made from: it stays, every other one of the account ends. */
  session: SessionRecord;
  currentPassword: string;
  newPassword: string;
  confirmPassword: string;
  ip: string;
}

/**
 * Changes a password the user proved they know, and ends the account's other sessions (whoever
 * knew the old password is signed out; OWASP ASVS 3.3.3). Returns what was wrong, if anything.
 */
export async function changePassword(change: PasswordChange, ctx: ServerContext): Promise<PasswordProblem | undefined> {
  const { account, newPassword } = change;
  // The same bounds as at account creation (accounts/create-account.ts).
  if (newPassword.length < 8 || newPassword.length > 1024) return 'length';
  if (newPassword !== change.confirmPassword) return 'mismatch';
  if (!(await verifyPassword(change.currentPassword, account.passwordHash))) {
    await recordAuditEvent(
      { actor: `account:${account.id}`, action: 'password_change_failed', subject: `account:${account.id}`, ip: change.ip },
      ctx.storage,
      ctx.clock,
    );
    return 'wrong_password';
  }
  const passwordHash = await hashPassword(newPassword);
  await ctx.storage.transaction(async (tx) => {
    await tx.updateAccountPassword(account.id, passwordHash);
    await tx.deleteSessionsOfAccount(account.id, change.session.idHash);
    await recordAuditEvent(
      { actor: `account:${account.id}`, action: 'password_changed', subject: `account:${account.id}`, detail: { other_sessions_ended: true }, ip: change.ip },
      tx,
      ctx.clock,
    );
  });
  return undefined;
}
