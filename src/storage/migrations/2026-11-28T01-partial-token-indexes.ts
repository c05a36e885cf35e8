import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';

/**
 * A client's own access tokens (client_credentials, RFC 6749 §4.4) have no user and are never
 * revoked by family or by user: they leave the two indexes that serve those revocations. Machine
 * clients mint tokens fastest, and every index is one more page write per token (bench/README.md).
 * `revokeFamily` and `revokeTokensOf` name `account_id is not null`, so both databases use them.
 */
export const partialTokenIndexes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('access_tokens_family_id').execute();
    await db.schema.dropIndex('access_tokens_account_client').execute();
    await db.schema.createIndex('access_tokens_family_id').on('access_tokens').column('family_id').where(sql.ref('account_id'), 'is not', null).execute();
    await db.schema
      .createIndex('access_tokens_account_client')
      .on('access_tokens')
      .columns(['account_id', 'client_id'])
      .where(sql.ref('account_id'), 'is not', null)
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('access_tokens_family_id').execute();
    await db.schema.dropIndex('access_tokens_account_client').execute();
    await db.schema.createIndex('access_tokens_family_id').on('access_tokens').column('family_id').execute();
    await db.schema.createIndex('access_tokens_account_client').on('access_tokens').columns(['account_id', 'client_id']).execute();
  },
};
