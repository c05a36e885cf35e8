/**
 * Whether an error means "the database cannot be reached right now" rather than "this query is
 * wrong": such failures answer 503 `temporarily_unavailable`, and the server recovers on its own
 * when the database returns (the pool reconnects on the next query).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  if (typeof code === 'string') {
    // PostgreSQL SQLSTATE class 08 (connection exception), 57P01–57P03 (shutdown, cannot connect now),
    // 57014 (statement_timeout); SQLite busy/locked beyond busy_timeout; Node socket errors.
    if (/^08|^57P0[123]$|^57014$/.test(code)) return true;
    if (['SQLITE_BUSY', 'SQLITE_LOCKED', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].includes(code)) return true;
    // SQLite out of disk or failing I/O, and the requests whose group commit that took down
    // (storage/group-commit.ts): the server itself is fine and answers again once there is room.
    if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR') || code === 'GATEHOUSE_GROUP_COMMIT_LOST') return true;
  }
  // `Query read timeout`: pg's client-side query_timeout, for a connection that went silent.
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Query read timeout/i.test(message);
}
