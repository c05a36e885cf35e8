import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteDialect } from 'kysely';

/**
 * The embedded default. WAL lets readers proceed while one writer commits, and with
 * `synchronous = NORMAL` a committed transaction survives a crash of the process (it may be lost
 * only on power failure before the next checkpoint). Foreign keys are off by default in SQLite
 * and are needed for the cascading deletes of the schema.
 */
export function createSqliteDialect(path: string): SqliteDialect {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  // Two processes on one file (the server and the CLI) wait for each other instead of failing.
  database.pragma('busy_timeout = 5000');
  return new SqliteDialect({ database });
}

/** `sqlite:PATH` → PATH. */
export function sqlitePathFromUrl(url: string): string {
  const path = url.slice('sqlite:'.length);
  if (path === '') throw new Error(`database URL "${url}" names no file: use sqlite:PATH`);
  return path;
}
