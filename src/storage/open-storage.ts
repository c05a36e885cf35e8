import { Kysely, type Dialect } from 'kysely';
import { createPostgresDialect, isPostgresUrl } from './dialects/postgres.ts';
import { createSqliteDialect, sqlitePathFromUrl } from './dialects/sqlite.ts';
import { KyselyStorage } from './kysely-storage.ts';
import type { Database } from './schema.ts';

export interface OpenStorageOptions {
  /** Apply pending migrations before returning (the default). */
  migrate?: boolean;
}

function dialectFor(databaseUrl: string): Dialect {
  if (databaseUrl.startsWith('sqlite:')) return createSqliteDialect(sqlitePathFromUrl(databaseUrl));
  if (isPostgresUrl(databaseUrl)) {
    return createPostgresDialect(databaseUrl, { maxConnections: 10, connectionTimeoutMs: 3000, statementTimeoutMs: 5000 }).dialect;
  }
  throw new Error(`unsupported database URL "${databaseUrl}": use sqlite:PATH or postgres://USER@HOST:PORT/DATABASE`);
}

/** Opens the database a URL names (`sqlite:PATH` or `postgres://…`) and brings its schema up to date. */
export async function openStorage(databaseUrl: string, options: OpenStorageOptions = {}): Promise<KyselyStorage> {
  const db = new Kysely<Database>({ dialect: dialectFor(databaseUrl) });
  const storage = new KyselyStorage(db);
  if (options.migrate !== false) await storage.migrate();
  return storage;
}
