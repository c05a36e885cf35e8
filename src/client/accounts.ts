import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { systemClock, type Clock } from '../shared/clock.ts';
import { OAuthError } from '../shared/oauth-error.ts';
import type { Profile } from './provider.ts';
import type { VaultDatabase } from './vault/vault-schema.ts';

export interface LinkedIdentity {
  provider: string;
  subject: string;
  email: string | null;
  needsReauthentication: boolean;
}

export interface SignedInUser {
  userId: string;
  /** True when this sign-in created the user. */
  created: boolean;
}

/**
 * The users of "Mine" and the provider identities linked to them. An identity is its provider
 * plus the provider's subject, never an email address: signing in with an identity not yet
 * linked creates a new user (or links to the user already signed in), and is never attached to
 * another user because the email matches — that would let whoever controls an address at one
 * provider take over an account made with another.
 */
export class Accounts {
  readonly #db: Kysely<VaultDatabase>;
  readonly #clock: Clock;

  constructor(db: Kysely<VaultDatabase>, clock: Clock = systemClock) {
    this.#db = db;
    this.#clock = clock;
  }

  /**
   * The user a provider sign-in belongs to. With `currentUserId` (a signed-in user adding a
   * provider) the identity is linked to that user, unless it already belongs to another.
   */
  async signIn(provider: string, profile: Profile, currentUserId?: string): Promise<SignedInUser> {
    const now = this.#clock.now();
    return this.#db.transaction().execute(async (tx) => {
      const link = await tx
        .selectFrom('client_links')
        .select('user_id')
        .where('provider', '=', provider)
        .where('subject', '=', profile.subject)
        .executeTakeFirst();
      if (link !== undefined) {
        if (currentUserId !== undefined && link.user_id !== currentUserId) {
          throw new OAuthError('conflict', `this ${provider} account is already linked to another user`);
        }
        await tx
          .updateTable('client_links')
          .set({ email: profile.email ?? null, profile: JSON.stringify(profile.raw) })
          .where('provider', '=', provider)
          .where('subject', '=', profile.subject)
          .execute();
        return { userId: link.user_id, created: false };
      }
      let userId = currentUserId;
      if (userId === undefined) {
        userId = randomUUID();
        await tx
          .insertInto('client_users')
          .values({ id: userId, display_name: profile.name ?? profile.username ?? profile.email ?? `${provider} user`, created_at: now })
          .execute();
      } else {
        const other = await tx.selectFrom('client_links').select('subject').where('user_id', '=', userId).where('provider', '=', provider).executeTakeFirst();
        if (other !== undefined) throw new OAuthError('conflict', `this user already has a ${provider} account linked; unlink it first`);
      }
      await tx
        .insertInto('client_links')
        .values({
          provider,
          subject: profile.subject,
          user_id: userId,
          email: profile.email ?? null,
          profile: JSON.stringify(profile.raw),
          needs_reauth: 0,
          created_at: now,
        })
        .execute();
      return { userId, created: currentUserId === undefined };
    });
  }

  async links(userId: string): Promise<LinkedIdentity[]> {
    const rows = await this.#db.selectFrom('client_links').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
    return rows.map((row) => ({ provider: row.provider, subject: row.subject, email: row.email, needsReauthentication: Number(row.needs_reauth) === 1 }));
  }

  async displayName(userId: string): Promise<string | undefined> {
    return (await this.#db.selectFrom('client_users').select('display_name').where('id', '=', userId).executeTakeFirst())?.display_name;
  }
}
