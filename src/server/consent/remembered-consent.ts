import { isSubset } from '../../shared/scope.ts';
import type { ServerContext } from '../context.ts';

/** Whether the user already allowed this client every scope it now asks for. */
export async function hasConsent(accountId: string, clientId: string, scopes: readonly string[], ctx: ServerContext) {
  const grant = await ctx.storage.findGrant(accountId, clientId);
  return grant !== undefined && isSubset(scopes, grant.scopes);
}

/** The scopes already granted, so the consent page can tell what is new. */
export async function grantedScopes(accountId: string, clientId: string, ctx: ServerContext): Promise<string[]> {
  return (await ctx.storage.findGrant(accountId, clientId))?.scopes ?? [];
}

/** Remembers consent; a later grant adds to what was allowed before. */
export async function rememberConsent(accountId: string, clientId: string, scopes: readonly string[], ctx: ServerContext) {
  const now = ctx.clock.now();
  const existing = await ctx.storage.findGrant(accountId, clientId);
  await ctx.storage.saveGrant({
    accountId,
    clientId,
    scopes: [...new Set([...(existing?.scopes ?? []), ...scopes])],
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    lastUsedAt: existing?.lastUsedAt ?? null,
  });
}
