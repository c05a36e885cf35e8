import type { Kysely, Migration } from 'kysely';

/**
 * What the account page and the admin console need: admin and disabled accounts, when an app
 * last used a grant, and an audit trail of who did what.
 */
export const accountsAdminAudit: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('accounts').addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('accounts').addColumn('disabled_at', 'bigint').execute();
    await db.schema.alterTable('grants').addColumn('last_used_at', 'bigint').execute();
    await db.schema
      .createTable('audit_events')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'varchar(255)', (c) => c.notNull())
      .addColumn('action', 'varchar(64)', (c) => c.notNull())
      .addColumn('subject', 'varchar(255)')
      .addColumn('detail', 'text', (c) => c.notNull())
      .addColumn('ip', 'varchar(64)')
      .execute();
    await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('audit_events').execute();
    await db.schema.alterTable('grants').dropColumn('last_used_at').execute();
    await db.schema.alterTable('accounts').dropColumn('disabled_at').execute();
    await db.schema.alterTable('accounts').dropColumn('is_admin').execute();
  },
};
