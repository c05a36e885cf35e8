import { PostgresDialect } from 'kysely';
import pg from 'pg';

/** int8 (bigint) columns hold epoch milliseconds, well inside the safe integer range. */
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PostgresOptions {
  /** Most connections one process holds; N instances hold N times this. */
  maxConnections: number;
  /** How long a request waits for a connection before the database counts as unavailable. */
  connectionTimeoutMs: number;
  /** Longest a single statement may run (server-side `statement_timeout`); 0 for no limit (migrations). */
  statementTimeoutMs: number;
}

/**
 * A client that drops its connection when a query passes `query_timeout`. pg only fails that
 * query's promise: the connection would stay busy waiting for the lost answer, and every later
 * query queued on it would wait too. Dropped, it fails at once and the pool opens a new one.
 */
class DeadlineClient extends pg.Client {
  override query(...args: unknown[]): any {
    const result: unknown = (super.query as (...queryArgs: unknown[]) => unknown)(...args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if (error instanceof Error && error.message === 'Query read timeout') this.connection.stream.destroy();
      });
    }
    return result;
  }
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
    // statement_timeout only helps while the server can answer; this client-side deadline covers a
    // connection that went silent (a network partition, a frozen server). A little longer, so a
    // slow statement still ends with the server's own error.
    query_timeout: options.statementTimeoutMs === 0 ? undefined : options.statementTimeoutMs + 1000,
    Client: DeadlineClient,
    // Detects a database that went away while a connection sat idle.
    keepAlive: true,
    ...(schema === null ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // A connection that drops while checked out (mid-query, mid-transaction) emits 'error' on its
  // client, where neither pg-pool nor Kysely listens: unhandled, it would crash the process. The
  // query itself still fails (the request answers 503) and the pool discards the client on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return { dialect: new PostgresDialect({ pool }), pool };
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}
