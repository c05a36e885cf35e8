import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';

/**
 * What a code or refresh token descends from, so that it stops when its origin does (issue 13):
 * - `grants.id` names one consent; codes and refresh tokens carry it as `grant_id`. Revoking the
 *   consent deletes the grant, and a consent given anew gets a new id, so neither a code issued
 *   before the revocation nor a refresh token that escaped it works again.
 * - `refresh_tokens.family_created_at`: when the family began, for its absolute lifetime
 *   (`refreshTokenFamilyMaxAgeSeconds`, RFC 9700 §4.14.2).
 * - `authorization_codes.retain_until`: a consumed code is kept as long as what it issued can
 *   live, so a late replay is still recognised (RFC 6749 §4.1.2) and revokes it. The cleanup
 *   deletes codes by it, so its index replaces the one on `expires_at`.
 * - A partial index on the codes not yet redeemed, by account and client: revoking consent and
 *   disabling an account delete those, and there are only a minute's worth of them.
 *
 * Rows from before this migration: every existing grant, code and refresh token gets the grant id
 * `legacy` (new ids are random hex, so never that). An existing grant keeps its codes and tokens;
 * once it is revoked, they go with it. Existing families start their lifetime now (their token's
 * creation time: when they began is not known); existing codes keep their own expiry.
 */
export const tokenLineage: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // SQLite adds a NOT NULL column only with a default; '' names no grant.
    await db.schema.alterTable('grants').addColumn('id', 'varchar(64)', (c) => c.notNull().defaultTo('')).execute();
    await sql`update grants set id = 'legacy'`.execute(db);

    await db.schema.alterTable('authorization_codes').addColumn('grant_id', 'varchar(64)', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.alterTable('authorization_codes').addColumn('retain_until', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await sql`update authorization_codes set grant_id = 'legacy', retain_until = expires_at`.execute(db);
    await db.schema.dropIndex('authorization_codes_expires_at').execute();
    await db.schema.createIndex('authorization_codes_retain_until').on('authorization_codes').column('retain_until').execute();
    await db.schema
      .createIndex('authorization_codes_unredeemed')
      .on('authorization_codes')
      .columns(['account_id', 'client_id'])
      .where(sql.ref('consumed_at'), 'is', null)
      .execute();

    await db.schema.alterTable('refresh_tokens').addColumn('grant_id', 'varchar(64)', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.alterTable('refresh_tokens').addColumn('family_created_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await sql`update refresh_tokens set grant_id = 'legacy', family_created_at = created_at`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('refresh_tokens').dropColumn('family_created_at').execute();
    await db.schema.alterTable('refresh_tokens').dropColumn('grant_id').execute();
    await db.schema.dropIndex('authorization_codes_unredeemed').execute();
    await db.schema.dropIndex('authorization_codes_retain_until').execute();
    await db.schema.createIndex('authorization_codes_expires_at').on('authorization_codes').column('expires_at').execute();
    await db.schema.alterTable('authorization_codes').dropColumn('retain_until').execute();
    await db.schema.alterTable('authorization_codes').dropColumn('grant_id').execute();
    await db.schema.alterTable('grants').dropColumn('id').execute();
  },
};
