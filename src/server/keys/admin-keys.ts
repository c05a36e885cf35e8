import type { SigningKeyRecord } from '../../storage/storage.ts';
import { recordAuditEvent } from '../operations/audit-trail.ts';
import type { ServerContext } from '../context.ts';
import { rotateSigningKeys } from './rotate-keys.ts';
import type { AdminActor } from '../admin/admin-actor.ts';

/** Every stored signing key, newest first (a first look creates the keys of a fresh install). */
export async function listSigningKeys(ctx: ServerContext): Promise<SigningKeyRecord[]> {
  await ctx.keys.ensureActiveKeys();
  return (await ctx.keys.list()).reverse();
}

/**
 * Starts signing with new keys; the previous ones stay published until every token they signed
 * has expired (see keys/rotate-keys.ts). The key store writes outside any transaction of ours, so
 * the audit record follows the rotation.
 */
export async function rotateKeys(by: AdminActor, ctx: ServerContext): Promise<SigningKeyRecord[]> {
  const created = await rotateSigningKeys(ctx);
  await recordAuditEvent(
    { actor: by.id, action: 'keys_rotated', subject: null, detail: { new_kids: created.map((key) => key.kid) }, ip: by.ip },
    ctx.storage,
    ctx.clock,
  );
  return created;
}
