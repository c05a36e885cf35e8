import { OAuthError } from '../../shared/oauth-error.ts';
import type { AccountRecord, ClientRecord, GrantRecord } from '../../storage/storage.ts';
import { createAccount, type NewAccount } from './create-account.ts';
import { hashPassword } from './password.ts';
import { recordAuditEvent } from '../operations/audit-trail.ts';
import type { ServerContext } from '../context.ts';
import type { AdminActor } from '../admin/admin-actor.ts';

/*
 * What an administrator does to user accounts. Every action is recorded in the audit trail in the
 * transaction that does it. An administrator cannot disable, demote or delete their own account
 * from the console: that would lock the last administrator out.
 */

export async function findAccountOrFail(sub: string, ctx: Pick<ServerContext, 'storage'>): Promise<AccountRecord> {
  const account = await ctx.storage.findAccount(sub);
  if (account === undefined) throw new OAuthError('not_found', `no user with ID "${sub}"`);
  return account;
}

function refuseSelf(sub: string, by: AdminActor, what: string): void {
  if (by.accountId === sub) throw new OAuthError('conflict', `you cannot ${what} your own account; ask another administrator`);
}

export async function createUser(input: NewAccount, by: AdminActor, ctx: ServerContext): Promise<AccountRecord> {
  // Not in one transaction with the audit record: hashing the password would hold the database
  // (a single connection on SQLite) for the whole of the hash.
  const account = await createAccount(input, ctx);
  await recordAuditEvent(
    { actor: by.id, action: 'user_created', subject: `account:${account.id}`, detail: { username: account.username, admin: account.isAdmin }, ip: by.ip },
    ctx.storage,
    ctx.clock,
  );
  return account;
}

/**
 * Disables the account: it cannot log in, its browser sessions end, the codes it has given and
 * not yet seen redeemed are deleted, and every access and refresh token it holds with any client
 * is revoked, at once. (Every use of a code or token also checks the account, for a request
 * that raced this one; a JWT access token verified locally by an API stays valid until it expires.)
 */
export function disableUser(sub: string, by: AdminActor, ctx: ServerContext): Promise<AccountRecord> {
  refuseSelf(sub, by, 'disable');
  return ctx.storage.transaction(async (storage) => {
    const account = await findAccountOrFail(sub, { storage });
    if (account.disabledAt !== null) return account;
    const now = ctx.clock.now();
    await storage.setAccountDisabled(sub, now);
    await storage.deleteSessionsOfAccount(sub);
    await storage.deleteUnredeemedCodes(sub, undefined);
    await storage.revokeTokensOf(sub, undefined, now);
    await recordAuditEvent({ actor: by.id, action: 'user_disabled', subject: `account:${sub}`, detail: { username: account.username }, ip: by.ip }, storage, ctx.clock);
    return { ...account, disabledAt: now };
  });
}

export function enableUser(sub: string, by: AdminActor, ctx: ServerContext): Promise<AccountRecord> {
  return ctx.storage.transaction(async (storage) => {
    const account = await findAccountOrFail(sub, { storage });
    if (account.disabledAt === null) return account;
    await storage.setAccountDisabled(sub, null);
    await recordAuditEvent({ actor: by.id, action: 'user_enabled', subject: `account:${sub}`, detail: { username: account.username }, ip: by.ip }, storage, ctx.clock);
    return { ...account, disabledAt: null };
  });
}

/**
 * Sets a new password and ends the user's browser sessions (whoever knew the old password is
 * signed out). Tokens already given to apps keep working: the user allowed those apps.
 */
export async function resetPassword(sub: string, password: string, by: AdminActor, ctx: ServerContext): Promise<AccountRecord> {
  if (password.length < 8 || password.length > 1024) throw new OAuthError('invalid_request', '"password" must be 8–1024 characters');
  await findAccountOrFail(sub, ctx);
  const passwordHash = await hashPassword(password);
  return ctx.storage.transaction(async (storage) => {
    const account = await findAccountOrFail(sub, { storage });
    await storage.updateAccountPassword(sub, passwordHash);
    // An administrator resetting their own password stays signed in here.
    await storage.deleteSessionsOfAccount(sub, by.accountId === sub ? (by.sessionIdHash ?? undefined) : undefined);
    await recordAuditEvent(
      { actor: by.id, action: 'user_password_reset', subject: `account:${sub}`, detail: { username: account.username }, ip: by.ip },
      storage,
      ctx.clock,
    );
    return account;
  });
}

/** Grants or takes away the right to use the admin console. */
export function setAdmin(sub: string, isAdmin: boolean, by: AdminActor, ctx: ServerContext): Promise<AccountRecord> {
  if (!isAdmin) refuseSelf(sub, by, 'take the administrator role from');
  return ctx.storage.transaction(async (storage) => {
    const account = await findAccountOrFail(sub, { storage });
    if (account.isAdmin === isAdmin) return account;
    await storage.setAccountAdmin(sub, isAdmin);
    await recordAuditEvent(
      { actor: by.id, action: 'user_updated', subject: `account:${sub}`, detail: { username: account.username, admin: isAdmin }, ip: by.ip },
      storage,
      ctx.clock,
    );
    return { ...account, isAdmin };
  });
}

/** Deletes the account with its sessions, consents, codes and tokens. */
export function deleteUser(sub: string, by: AdminActor, ctx: ServerContext): Promise<AccountRecord> {
  refuseSelf(sub, by, 'delete');
  return ctx.storage.transaction(async (storage) => {
    const account = await findAccountOrFail(sub, { storage });
    await storage.deleteAccount(sub);
    await recordAuditEvent({ actor: by.id, action: 'user_deleted', subject: `account:${sub}`, detail: { username: account.username }, ip: by.ip }, storage, ctx.clock);
    return account;
  });
}

export interface AuthorizedApp {
  grant: GrantRecord;
  client: ClientRecord | undefined;
}

/** The apps the user has allowed, most recently used first, with their clients. */
export async function authorizedApps(sub: string, ctx: ServerContext): Promise<AuthorizedApp[]> {
  await findAccountOrFail(sub, ctx);
  const grants = await ctx.storage.listGrantsOfAccount(sub);
  return Promise.all(grants.map(async (grant) => ({ grant, client: await ctx.storage.findClient(grant.clientId) })));
}
