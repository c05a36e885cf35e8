import type { ScopeDefinition } from '../config/defaults.ts';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { Locale } from '../i18n/locales.ts';
import { catalogs, hasMessage } from '../i18n/translate.ts';

/** Scopes every Gatehouse knows, with the sentence the consent page shows for each. */
export const builtInScopes: Readonly<Record<string, ScopeDefinition>> = {
  openid: { description: 'Sign you in with your account' },
  profile: { description: 'See your username and name' },
  email: { description: 'See your email address' },
  offline_access: { description: 'Keep access while you are not using the app' },
  admin: { description: 'Manage this Gatehouse: clients, users, signing keys and the audit trail (admin API)' },
};

/**
 * The scope of the admin REST API. Only a client that is explicitly registered for it can hold it,
 * for itself, through client_credentials; `/authorize` refuses it, so no user consent can hand it out.
 */
export const adminScope = 'admin';

/** The scopes this server knows: built-in ones plus those from configuration. */
export class ScopeRegistry {
  readonly #scopes: Map<string, ScopeDefinition>;

  constructor(configured: Record<string, ScopeDefinition> = {}) {
    this.#scopes = new Map(Object.entries({ ...builtInScopes, ...configured }));
  }

  has(name: string): boolean {
    return this.#scopes.has(name);
  }

  /**
   * The sentence for `name` in `locale`: a built-in scope's from the page catalogs; a configured
   * one's `descriptions[locale]`, then `description_<locale>`, then `description`.
   */
  describe(name: string, locale: Locale = 'en'): string {
    const definition = this.#scopes.get(name);
    if (definition === undefined) return name;
    const key = `scope.${name}`;
    if (definition === builtInScopes[name] && hasMessage(key)) return catalogs[locale][key];
    return definition.descriptions?.[locale] ?? (locale === 'ko' ? definition.description_ko : undefined) ?? definition.description;
  }

  names(): string[] {
    return [...this.#scopes.keys()];
  }

  /** Throws `invalid_scope` naming the first scope this server does not know. */
  requireKnown(scopes: readonly string[], parameter = 'scope'): void {
    const unknown = scopes.find((scope) => !this.#scopes.has(scope));
    if (unknown !== undefined) {
      throw new OAuthError('invalid_scope', `"${parameter}" names unknown scope "${unknown}"`, {
        descriptionWithoutInput: `"${parameter}" names a scope this server does not know`,
      });
    }
  }
}
