import { PostgresDialect } from 'kysely';
import pg from 'pg';

/** int8 (bigint) columns hold epoch milliseconds, well inside the safe integer range. */
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PostgresOptions {
  /** Most connections one process holds; N instances hold N times this. */
  maxConnections: number;
  /** How long a request waits for a connection before the database counts as unavailable. */
  connectionTimeoutMs: number;
  /** Longest a single statement may run (server-side `statement_timeout`). */
  statementTimeoutMs: number;
}

/**
 * PostgreSQL through `pg`. `DATABASE_URL` may carry `?schema=NAME` to keep Gatehouse's tables in
 * their own schema (it becomes the connection's `search_path`). Timeouts are short on purpose: a
 * database outage must turn into a quick 503, never a hung request.
 */
export function createPostgresDialect(url: string, options: PostgresOptions): { dialect: PostgresDialect; pool: pg.Pool } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`database URL: schema "${schema}" must be a lower-case SQL identifier`);
  }
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: options.maxConnections,
    connectionTimeoutMillis: options.connectionTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    // Detects a database that went away while a connection sat idle.
    keepAlive: true,
    ...(schema === null ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return { dialect: new PostgresDialect({ pool }), pool };
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}
