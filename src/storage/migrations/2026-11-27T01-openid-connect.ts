import type { Kysely, Migration } from 'kysely';

/**
 * OpenID Connect and tokens for APIs: signing keys, the nonce and resource indicators a code
 * carries (RFC 8707), the audience of access tokens, and per-client token format and resources.
 */
export const openIdConnect: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('alg', 'varchar(16)', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_jwk_encrypted', 'text', (c) => c.notNull())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('retired_at', 'bigint')
      .addColumn('publish_until', 'bigint')
      .execute();
    await db.schema.alterTable('authorization_codes').addColumn('nonce', 'text').execute();
    await db.schema.alterTable('authorization_codes').addColumn('resources', 'text').execute();
    await db.schema.alterTable('refresh_tokens').addColumn('resources', 'text').execute();
    await db.schema.alterTable('access_tokens').addColumn('audience', 'text').execute();
    await db.schema
      .alterTable('clients')
      .addColumn('access_token_format', 'varchar(16)', (c) => c.notNull().defaultTo('opaque'))
      .execute();
    await db.schema.alterTable('clients').addColumn('resources', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('signing_keys').execute();
    for (const [table, column] of [
      ['authorization_codes', 'nonce'],
      ['authorization_codes', 'resources'],
      ['refresh_tokens', 'resources'],
      ['access_tokens', 'audience'],
      ['clients', 'access_token_format'],
      ['clients', 'resources'],
    ] as const) {
      await db.schema.alterTable(table).dropColumn(column).execute();
    }
  },
};
