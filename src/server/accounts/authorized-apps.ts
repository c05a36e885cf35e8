import type { ServerContext } from '../context.ts';
import type { Locale } from '../i18n/locales.ts';
import type { AuthorizedAppView } from './account-page.ts';

/** The apps an account has allowed (remembered consent), most recently used first. */
export async function listAuthorizedApps(accountId: string, locale: Locale, ctx: ServerContext): Promise<AuthorizedAppView[]> {
  const grants = await ctx.storage.listGrantsOfAccount(accountId);
  const apps: AuthorizedAppView[] = [];
  for (const grant of grants) {
    const client = await ctx.storage.findClient(grant.clientId);
    // Deleting a client deletes its grants; one that vanished in between is simply not shown.
    if (client === undefined) continue;
    apps.push({
      clientId: client.id,
      clientName: client.name,
      scopes: grant.scopes.map((name) => ({ name, description: ctx.scopes.describe(name, locale) })),
      allowedAt: grant.createdAt,
      lastUsedAt: grant.lastUsedAt,
    });
  }
  return apps;
}
