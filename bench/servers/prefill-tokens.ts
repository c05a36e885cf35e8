/**
 * Inserts live access tokens straight into a Gatehouse database, for the cost-growth workload:
 * `node --import tsx bench/servers/prefill-tokens.ts DATABASE_PATH CLIENT_ID COUNT`. Run by
 * gatehouse.ts as a child process, so the large page cache it uses is not counted in the
 * server's memory.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { hashSecret, timePrefix } from '../../src/server/keys/opaque-secret.ts';
import { announce } from './protocol.ts';

const [path, clientId, countText] = process.argv.slice(2);
if (path === undefined || clientId === undefined || countText === undefined) throw new Error('usage: prefill-tokens.ts DATABASE_PATH CLIENT_ID COUNT');
const seconds = await insertLiveTokens(path, clientId, Number(countText));
const done = { type: 'progress', text: `${Number(countText).toLocaleString('en')} live tokens in ${seconds.toFixed(1)} s` } as const;
// Under gatehouse.ts the last message is delivered before the channel closes; by hand, printed.
if (process.send === undefined) announce(done);
else process.send(done, () => process.disconnect());

/**
 * Live access tokens of the client, as Gatehouse itself stores them (`hashSecret` of a token of
 * `generateToken`'s shape: a time prefix and 256 random bits), issued over the past day, in one
 * transaction with better-sqlite3: the "cost growth" workload's database.
 */
async function insertLiveTokens(path: string, clientId: string, count: number): Promise<number> {
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  // A large page cache for this one-off connection only: random 256-bit keys land all over the
  // primary-key index, and the default 2 MB cache would make the setup crawl.
  database.pragma('cache_size = -1048576');
  const insert = database.prepare(
    `insert into access_tokens (hash, family_id, client_id, account_id, scopes, audience, expires_at, revoked_at, created_at)
     values (?, ?, ?, null, ?, null, ?, null, ?)`,
  );
  const now = Date.now();
  const expiresAt = now + 7 * 24 * 3600 * 1000;
  const scopes = JSON.stringify(['calendar.read']);
  const batch = 50_000;
  const insertBatch = (size: number) => {
    const random = randomBytes(size * 48);
    for (let i = 0; i < size; i++) {
      const prefix = timePrefix(issuedAt());
      const hash = hashSecret(prefix + random.subarray(i * 48, i * 48 + 32).toString('base64url'));
      insert.run(hash, prefix + random.subarray(i * 48 + 32, i * 48 + 48).toString('hex'), clientId, scopes, expiresAt, now);
    }
  };
  // Spread over the past day, in order, as a server issuing them one after another would.
  let issued = 0;
  const issuedAt = () => now - 86_400_000 + Math.floor((issued++ * 86_400_000) / count);
  // One transaction for all rows, opened by hand so that the event loop can deliver progress
  // messages between batches.
  const started = performance.now();
  database.exec('begin');
  for (let done = 0; done < count; done += batch) {
    insertBatch(Math.min(batch, count - done));
    const inserted = Math.min(done + batch, count);
    if (inserted % 200_000 === 0 || inserted === count) {
      announce({ type: 'progress', text: `${inserted.toLocaleString('en')} / ${count.toLocaleString('en')} tokens inserted` });
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  database.exec('commit');
  database.pragma('wal_checkpoint(TRUNCATE)');
  database.close();
  return (performance.now() - started) / 1000;
}

