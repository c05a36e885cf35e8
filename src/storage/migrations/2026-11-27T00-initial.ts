import type { Kysely, Migration } from 'kysely';

/** The seed's data: clients, accounts, sessions, remembered consent, codes and tokens. */
export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('clients')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('secret_hash', 'varchar(64)')
      .addColumn('name', 'varchar(200)', (c) => c.notNull())
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('redirect_uris', 'text', (c) => c.notNull())
      .addColumn('grant_types', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('access_token_ttl_seconds', 'integer')
      .addColumn('refresh_token_ttl_seconds', 'integer')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('accounts')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('username', 'varchar(200)', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('name', 'varchar(200)')
      .addColumn('email', 'varchar(320)')
      .addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('auth_time', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();
    await db.schema.createIndex('sessions_account_id').on('sessions').column('account_id').execute();

    await db.schema
      .createTable('grants')
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('client_id', 'varchar(64)', (c) => c.notNull().references('clients.id').onDelete('cascade'))
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('grants_pk', ['account_id', 'client_id'])
      .execute();
    await db.schema.createIndex('grants_client_id').on('grants').column('client_id').execute();

    await db.schema
      .createTable('authorization_codes')
      .addColumn('hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('family_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('client_id', 'varchar(64)', (c) => c.notNull().references('clients.id').onDelete('cascade'))
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('redirect_uri', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('code_challenge', 'varchar(64)')
      .addColumn('auth_time', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('consumed_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('authorization_codes_expires_at').on('authorization_codes').column('expires_at').execute();

    for (const table of ['access_tokens', 'refresh_tokens'] as const) {
      let builder = db.schema
        .createTable(table)
        .addColumn('hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('family_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('client_id', 'varchar(64)', (c) => c.notNull().references('clients.id').onDelete('cascade'))
        .addColumn('account_id', 'varchar(64)', (c) =>
          (table === 'refresh_tokens' ? c.notNull() : c).references('accounts.id').onDelete('cascade'),
        )
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull());
      if (table === 'refresh_tokens') {
        builder = builder.addColumn('auth_time', 'bigint', (c) => c.notNull()).addColumn('rotated_at', 'bigint');
      }
      await builder.execute();
      await db.schema.createIndex(`${table}_family_id`).on(table).column('family_id').execute();
      await db.schema.createIndex(`${table}_expires_at`).on(table).column('expires_at').execute();
      await db.schema.createIndex(`${table}_account_client`).on(table).columns(['account_id', 'client_id']).execute();
    }
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['refresh_tokens', 'access_tokens', 'authorization_codes', 'grants', 'sessions', 'accounts', 'clients']) {
      await db.schema.dropTable(table).execute();
    }
  },
};
