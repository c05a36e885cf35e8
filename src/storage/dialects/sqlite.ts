import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteDialect, type SqliteDatabase } from 'kysely';
import { createOwnerOnlyFile, emitWarning, makeOwnerOnlyDirectory, narrowToOwnerOnly, type Warn } from '../../shared/owner-only-files.ts';

/**
 * The embedded default. WAL lets readers proceed while one writer commits, and with
 * `synchronous = NORMAL` a committed transaction survives a crash of the process (it may be lost
 * only on power failure before the next checkpoint). Foreign keys are off by default in SQLite
 * and are needed for the cascading deletes of the schema.
 */
export function createSqliteDialect(path: string, warn: Warn = emitWarning): SqliteDialect {
  return openSqlite(path, warn).dialect;
}

/** The dialect for Kysely and the connection under it, for the statements `SqliteStorage` prepares itself. */
export function openSqlite(path: string, warn: Warn = emitWarning): { dialect: SqliteDialect; database: Database.Database } {
  if (path !== ':memory:') prepareOwnerOnlyFiles(path, warn);
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  // Two processes on one file (the server and the CLI) wait for each other instead of failing.
  database.pragma('busy_timeout = 5000');
  // 32 MiB of page cache (SQLite's default is 2 MiB): the token tables' indexes stay in memory
  // with a million live tokens, so issuance and introspection do not slow down as tokens pile up.
  database.pragma('cache_size = -32768');
  return { dialect: new SqliteDialect({ database: withStatementCache(database) }), database };
}

/**
 * The database holds hashed tokens and encrypted signing keys: it is created 0600 before SQLite
 * opens it, in a 0700 folder if Gatehouse makes the folder. SQLite creates `-wal` and `-shm` itself
 * with the database file's mode (its unix VFS copies it and chmods past the umask), so they follow.
 * Files left with a wider mode by an earlier version or a copy (a `-wal` survives a crash) are
 * narrowed before SQLite reopens them.
 */
function prepareOwnerOnlyFiles(path: string, warn: Warn): void {
  makeOwnerOnlyDirectory(dirname(path));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) narrowToOwnerOnly(file, warn);
  createOwnerOnlyFile(path);
}

/** Most distinct statements kept prepared; past it the cache starts over (dynamic IN lists). */
const statementCacheSize = 500;

/**
 * Kysely's SQLite driver prepares every statement it runs; preparing costs as much as running a
 * one-row statement. Queries built by Kysely repeat the same SQL text, so the prepared statement
 * is kept and reused. Safe because the driver never streams (`iterate`) a statement concurrently.
 */
function withStatementCache(database: Database.Database): SqliteDatabase {
  const prepared = new Map<string, Database.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = prepared.get(sql);
      if (statement === undefined) {
        if (prepared.size >= statementCacheSize) prepared.clear();
        statement = database.prepare(sql);
        prepared.set(sql, statement);
      }
      return statement;
    },
  };
}

/** `sqlite:PATH` → PATH. */
export function sqlitePathFromUrl(url: string): string {
  const path = url.slice('sqlite:'.length);
  if (path === '') throw new Error(`database URL "${url}" names no file: use sqlite:PATH`);
  return path;
}
