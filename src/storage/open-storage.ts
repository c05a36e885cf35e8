import { Kysely } from 'kysely';
import type { Warn } from '../shared/owner-only-files.ts';
import { createPostgresDialect, isPostgresUrl } from './dialects/postgres.ts';
import { openSqlite, sqlitePathFromUrl } from './dialects/sqlite.ts';
import { KyselyStorage } from './kysely-storage.ts';
import { SqliteStorage } from './sqlite-storage.ts';
import type { Database } from './schema.ts';

export interface OpenStorageOptions {
  /** Apply pending migrations before returning (the default). */
  migrate?: boolean;
  /** Told when a SQLite file readable by others was narrowed to 0600 (default: `process.emitWarning`). */
  warn?: Warn;
}

/** Without migrating, the schema must already match this code exactly. */
async function refuseOutdatedSchema(storage: KyselyStorage): Promise<void> {
  const { pending, unknown } = await storage.schemaStatus();
  if (unknown.length > 0) {
    throw new Error(`the database schema is newer than this Gatehouse (it has migration ${unknown.join(', ')}); upgrade Gatehouse`);
  }
  if (pending.length > 0) {
    throw new Error(`the database schema is not up to date (missing ${pending.join(', ')}); run \`gatehouse migrate\` first`);
  }
}

/** SQLite gets its own `Storage` (group commit, prepared hot statements); PostgreSQL the plain one. */
function storageFor(databaseUrl: string, warn: Warn | undefined): KyselyStorage {
  if (databaseUrl.startsWith('sqlite:')) {
    const { dialect, database } = openSqlite(sqlitePathFromUrl(databaseUrl), warn);
    return new SqliteStorage(new Kysely<Database>({ dialect }), database);
  }
  if (isPostgresUrl(databaseUrl)) {
    const { dialect } = createPostgresDialect(databaseUrl, { maxConnections: 10, connectionTimeoutMs: 3000, statementTimeoutMs: 5000 });
    return new KyselyStorage(new Kysely<Database>({ dialect }));
  }
  throw new Error(`unsupported database URL "${databaseUrl}": use sqlite:PATH or postgres://USER@HOST:PORT/DATABASE`);
}

/**
 * On PostgreSQL, migrations run on connections of their own without the deadlines of request
 * queries: they may wait for another process's migration (Kysely's lock is one for the whole
 * database) and may take long on large tables.
 */
async function migrate(databaseUrl: string, storage: KyselyStorage): Promise<void> {
  if (!isPostgresUrl(databaseUrl)) return storage.migrate();
  const { dialect } = createPostgresDialect(databaseUrl, { maxConnections: 2, connectionTimeoutMs: 3000, statementTimeoutMs: 0 });
  const migrating = new KyselyStorage(new Kysely<Database>({ dialect }));
  try {
    await migrating.migrate();
  } finally {
    await migrating.close();
  }
}

/** Opens the database a URL names (`sqlite:PATH` or `postgres://…`) and brings its schema up to date. */
export async function openStorage(databaseUrl: string, options: OpenStorageOptions = {}): Promise<KyselyStorage> {
  const storage = storageFor(databaseUrl, options.warn);
  try {
    if (options.migrate !== false) await migrate(databaseUrl, storage);
    else await refuseOutdatedSchema(storage);
  } catch (error) {
    await storage.close();
    throw error;
  }
  return storage;
}
