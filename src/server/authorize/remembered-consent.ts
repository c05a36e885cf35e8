import { isSubset } from '../../shared/scope.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { generateIdentifier } from '../keys/opaque-secret.ts';

/**
 * Whether remembered consent may stand in for the consent page, by the client's consent policy.
 * A public client's ID is no secret, and a loopback or private-use redirect URI can be served by
 * any app on the device, so remembered consent would hand a code, or with `offline_access` a
 * long-lived refresh token, to whoever asks in the client's name without the user seeing anything
 * (RFC 8252 §8.6, RFC 6749 §10.2). So:
 * - `always_ask` (the default for public clients): never;
 * - `remember` for a confidential client: always (it authenticates when it redeems the code);
 * - `remember` for a public client: only to an https redirect URI and without `offline_access`.
 */
export function mayRememberConsent(client: ClientRecord, redirectUri: string, scopes: readonly string[]): boolean {
  if (client.consentPolicy === 'always_ask') return false;
  if (client.type === 'confidential') return true;
  return redirectUri.startsWith('https://') && !scopes.includes('offline_access');
}

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
