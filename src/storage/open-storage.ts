import { Kysely } from 'kysely';
import { createSqliteDialect, sqlitePathFromUrl } from './dialects/sqlite.ts';
import { KyselyStorage } from './kysely-storage.ts';
import type { Database } from './schema.ts';

export interface OpenStorageOptions {
  /** Apply pending migrations before returning (the default). */
  migrate?: boolean;
}

/** Opens the database a URL names (`sqlite:PATH`) and brings its schema up to date. */
export async function openStorage(databaseUrl: string, options: OpenStorageOptions = {}): Promise<KyselyStorage> {
  if (!databaseUrl.startsWith('sqlite:')) {
    throw new Error(`unsupported database URL "${databaseUrl}": use sqlite:PATH`);
  }
  const db = new Kysely<Database>({ dialect: createSqliteDialect(sqlitePathFromUrl(databaseUrl)) });
  const storage = new KyselyStorage(db);
  if (options.migrate !== false) await storage.migrate();
  return storage;
}
