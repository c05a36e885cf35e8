import type { MigrationResultSet, Migrator } from 'kysely';

/**
 * Runs a migrator, trying again when PostgreSQL reports `invalid_schema_name` (3F000). Kysely
 * looks for its migration table by listing the tables of every schema in the database; a schema
 * dropped by someone else at that moment makes the listing fail although nothing is wrong here.
 */
export async function migrateToLatest(migrator: Migrator, attempts = 3): Promise<MigrationResultSet> {
  for (let attempt = 1; ; attempt++) {
    const result = await migrator.migrateToLatest();
    const code = (result.error as { code?: unknown } | undefined)?.code;
    if (code !== '3F000' || attempt >= attempts) return result;
  }
}
