import type { AccountRecord } from '../../storage/storage.ts';
import { recordAuditEvent } from '../operations/audit-trail.ts';
import type { ServerContext } from '../context.ts';

/**
 * "Revoke access": forgets the user's consent for the app, deletes the codes it has not redeemed
 * yet and revokes every access and refresh token the app holds for the user, in one transaction,
 * so the app's next call fails (RFC 7009 §2.1: revoking a grant invalidates the tokens issued
 * under it). Codes and refresh tokens also carry the grant's id, so whatever escapes this (an
 * exchange racing it) finds its grant gone (DESIGN invariant 10).
 */
export async function revokeAppAccess(account: AccountRecord, clientId: string, ip: string, ctx: ServerContext): Promise<boolean> {
  const now = ctx.clock.now();
  return ctx.storage.transaction(async (tx) => {
    // In the order a code exchange locks rows on PostgreSQL (its code, then the grant it touches),
    // so the two never deadlock: an exchange under way finishes first, and the revocation of
    // tokens below, a statement of its own, sees what it issued. One that comes later finds its
    // code deleted, or its grant gone.
    await tx.deleteUnredeemedCodes(account.id, clientId);
    const hadGrant = await tx.deleteGrant(account.id, clientId);
    await tx.revokeTokensOf(account.id, clientId, now);
    if (hadGrant) {
      await recordAuditEvent(
        { actor: `account:${account.id}`, action: 'grant_revoked', subject: `client:${clientId}`, detail: { by: 'user' }, ip },
        tx,
        ctx.clock,
      );
    }
    return hadGrant;
  });
}
