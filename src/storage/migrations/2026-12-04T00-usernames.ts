import { sql, type Kysely, type Migration } from 'kysely';
import { usernameKey } from '../username-key.ts';

/**
 * Usernames compared as people read them (issue 13 item 16): `accounts.username_key` holds
 * `usernameKey(username)` (NFKC, case-folded, Cyrillic and Greek look-alikes as Latin) under a
 * unique index, so `Alice` or `аlice` cannot be created next to `alice`, and login finds an account
 * by the key of what was typed. (PostgreSQL already names the unique constraint of `username`
 * `accounts_username_key`, hence the index's longer name.)
 *
 * Existing rows are back-filled. Two accounts that already share a key keep working: the oldest
 * gets the key, each later one the key followed by `#` and its ID (no username contains `#`, so
 * no new name can ever match it) and still signs in by its exact username.
 */
export const usernames: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('accounts').addColumn('username_key', 'varchar(255)', (c) => c.notNull().defaultTo('')).execute();
    const rows = await sql<{ id: string; username: string }>`select id, username from accounts order by created_at, id`.execute(db);
    const taken = new Set<string>();
    for (const { id, username } of rows.rows) {
      const key = usernameKey(username);
      const stored = taken.has(key) ? `${key}#${id}` : key;
      taken.add(key);
      await sql`update accounts set username_key = ${stored} where id = ${id}`.execute(db);
    }
    await db.schema.createIndex('accounts_username_key_unique').on('accounts').column('username_key').unique().execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('accounts_username_key_unique').execute();
    await db.schema.alterTable('accounts').dropColumn('username_key').execute();
  },
};
