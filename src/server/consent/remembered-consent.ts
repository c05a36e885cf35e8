import { isSubset } from '../../shared/scope.ts';
import type { ServerContext } from '../context.ts';
import { generateIdentifier } from '../secrets/opaque-secret.ts';

/** Whether the user already allowed this client every scope it now asks for. */
export async function hasConsent(accountId: string, clientId: string, scopes: readonly string[], ctx: ServerContext) {
  const grant = await ctx.storage.findGrant(accountId, clientId);
  return grant !== undefined && isSubset(scopes, grant.scopes);
}

/** The scopes already granted, so the consent page can tell what is new. */
export async function grantedScopes(accountId: string, clientId: string, ctx: ServerContext): Promise<string[]> {
  return (await ctx.storage.findGrant(accountId, clientId))?.scopes ?? [];
}

/**
 * Remembers consent; a later grant adds to what was allowed before, and keeps its id. Consent
 * given from scratch (none stored, e.g. after "Revoke access") is a new grant with a new id, so
 * codes and refresh tokens of the revoked one stay dead. The id is always drawn afresh: if the
 * grant read here is revoked before the save, the save must not bring its id back.
 */
export async function rememberConsent(accountId: string, clientId: string, scopes: readonly string[], ctx: ServerContext) {
  const now = ctx.clock.now();
  const existing = await ctx.storage.findGrant(accountId, clientId);
  await ctx.storage.saveGrant({
    id: generateIdentifier(),
    accountId,
    clientId,
    scopes: [...new Set([...(existing?.scopes ?? []), ...scopes])],
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    lastUsedAt: existing?.lastUsedAt ?? null,
  });
}
