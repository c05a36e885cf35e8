import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';

/**
 * Per-client policies (issue 13):
 * - `token_endpoint_auth_method` (RFC 7591 §2): the one way the client authenticates. Existing
 *   public clients get `none`; existing confidential clients get `client_secret_basic`, RFC 7591's
 *   default. A confidential client that sent its secret in the body must be switched to
 *   `client_secret_post` by an operator (README, "Security defaults").
 * - `consent_policy`: public clients ask for consent every time (RFC 8252 §8.6); confidential
 *   clients keep remembered consent.
 * - `can_introspect` and `served_resources`: who may introspect other clients' tokens (RFC 7662 §4).
 *   No existing client may; an operator grants it to each resource server.
 */
export const clientPolicies: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('clients')
      .addColumn('token_endpoint_auth_method', 'varchar(32)', (c) => c.notNull().defaultTo('client_secret_basic'))
      .execute();
    await db.schema.alterTable('clients').addColumn('consent_policy', 'varchar(16)', (c) => c.notNull().defaultTo('remember')).execute();
    await db.schema.alterTable('clients').addColumn('can_introspect', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('clients').addColumn('served_resources', 'text', (c) => c.notNull().defaultTo('[]')).execute();
    await sql`update clients set token_endpoint_auth_method = 'none', consent_policy = 'always_ask' where type = 'public'`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const column of ['served_resources', 'can_introspect', 'consent_policy', 'token_endpoint_auth_method']) {
      await db.schema.alterTable('clients').dropColumn(column).execute();
    }
  },
};
