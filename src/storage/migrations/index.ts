import type { Migration, MigrationProvider } from 'kysely';
import { initial } from './2026-11-27T00-initial.ts';
import { openIdConnect } from './2026-11-27T01-openid-connect.ts';
import { accountsAdminAudit } from './2026-11-28T00-accounts-admin-audit.ts';
import { partialTokenIndexes } from './2026-11-28T01-partial-token-indexes.ts';
import { usernames } from './2026-12-04T00-usernames.ts';
import { tokenLineage } from './2026-12-04T01-token-lineage.ts';
import { clientPolicies } from './2026-12-04T02-client-policies.ts';

/**
 * Migrations in order. Names are ISO dates so they sort by when they were written; a migration,
 * once released, is never edited — a change is a new migration.
 */
const migrations: Record<string, Migration> = {
  '2026-11-27T00-initial': initial,
  '2026-11-27T01-openid-connect': openIdConnect,
  '2026-11-28T00-accounts-admin-audit': accountsAdminAudit,
  '2026-11-28T01-partial-token-indexes': partialTokenIndexes,
  '2026-12-04T00-usernames': usernames,
  '2026-12-04T01-token-lineage': tokenLineage,
  '2026-12-04T02-client-policies': clientPolicies,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
