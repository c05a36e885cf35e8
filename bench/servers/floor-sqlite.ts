/**
 * The floor plus durability (see floor-http.ts): each token's SHA-256 goes into SQLite with one
 * prepared insert (better-sqlite3, WAL, synchronous = NORMAL: the settings Gatehouse uses, so a
 * token survives a crash of the process), and introspection is one SHA-256 and one prepared
 * select by primary key. BENCH_PREFILL inserts that many live tokens first.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFloor } from './floor-http.ts';
import { announce, envNumber } from './protocol.ts';

const dir = mkdtempSync(join(tmpdir(), 'floor-sqlite-'));
const database = new Database(join(dir, 'floor.db'));
database.pragma('journal_mode = WAL');
database.pragma('synchronous = NORMAL');
database.exec(`create table tokens (
  hash text primary key, client_id text not null, scope text not null, expires_at integer not null, created_at integer not null
)`);
const insert = database.prepare('insert into tokens (hash, client_id, scope, expires_at, created_at) values (?, ?, ?, ?, ?)');
const select = database.prepare<[string], { client_id: string; scope: string; expires_at: number; created_at: number }>(
  'select client_id, scope, expires_at, created_at from tokens where hash = ?',
);
const hash = (token: string) => createHash('sha256').update(token).digest('base64url');

const prefill = envNumber('BENCH_PREFILL', 0);
if (prefill > 0) {
  const now = Date.now();
  database.transaction(() => {
    for (let i = 0; i < prefill; i++) insert.run(hash(randomBytes(32).toString('base64url')), 'machine', 'calendar.read', now + 7 * 24 * 3600_000, now);
  })();
  database.pragma('wal_checkpoint(TRUNCATE)');
  announce({ type: 'progress', text: `${prefill.toLocaleString('en')} live tokens inserted` });
}

await startFloor({
  save(token, clientId, scope, expiresAt) {
    insert.run(hash(token), clientId, scope, expiresAt, Date.now());
  },
  find(token) {
    const row = select.get(hash(token));
    return row === undefined ? undefined : { clientId: row.client_id, scope: row.scope, expiresAt: row.expires_at, createdAt: row.created_at };
  },
  close() {
    database.close();
    rmSync(dir, { recursive: true, force: true });
  },
});
