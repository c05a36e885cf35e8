import { Kysely, Migrator, type Migration } from 'kysely';
import { migrateToLatest } from '../../storage/migrate-to-latest.ts';

/** Tables of the client side ("Mine"), kept apart from any server tables by their prefix. */
export interface VaultDatabase {
  client_users: { id: string; display_name: string; created_at: number };
  client_links: {
    provider: string;
    subject: string;
    user_id: string;
    email: string | null;
    profile: string;
    needs_reauth: number;
    created_at: number;
  };
  client_tokens: {
    user_id: string;
    provider: string;
    access_token: string;
    refresh_token: string | null;
    scopes: string;
    expires_at: number | null;
    version: number;
    lease_owner: string | null;
    lease_until: number | null;
    updated_at: number;
  };
}

const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('client_users')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('display_name', 'varchar(200)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('client_links')
      .addColumn('provider', 'varchar(64)', (c) => c.notNull())
      .addColumn('subject', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('client_users.id').onDelete('cascade'))
      .addColumn('email', 'varchar(320)')
      .addColumn('profile', 'text', (c) => c.notNull())
      .addColumn('needs_reauth', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('client_links_pk', ['provider', 'subject'])
      // One identity per provider per user: the vault keys tokens by user × provider.
      .addUniqueConstraint('client_links_user_provider', ['user_id', 'provider'])
      .execute();
    await db.schema
      .createTable('client_tokens')
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('client_users.id').onDelete('cascade'))
      .addColumn('provider', 'varchar(64)', (c) => c.notNull())
      .addColumn('access_token', 'text', (c) => c.notNull())
      .addColumn('refresh_token', 'text')
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_owner', 'varchar(64)')
      .addColumn('lease_until', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('client_tokens_pk', ['user_id', 'provider'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    for (const table of ['client_tokens', 'client_links', 'client_users']) await db.schema.dropTable(table).execute();
  },
};

/** Creates or upgrades the client tables; its own migration table keeps it apart from the server's. */
export async function migrateVault(db: Kysely<VaultDatabase>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ '2026-11-27T00-client-vault': initial }) },
    migrationTableName: 'gatehouse_client_migration',
    migrationLockTableName: 'gatehouse_client_migration_lock',
  });
  const { error } = await migrateToLatest(migrator);
  if (error !== undefined) throw error;
}
