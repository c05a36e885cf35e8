import type { ScopeDefinition } from '../config/defaults.ts';
import { OAuthError } from '../../shared/oauth-error.ts';

/** Scopes every Gatehouse knows, with the sentence the consent page shows for each. */
export const builtInScopes: Readonly<Record<string, ScopeDefinition>> = {
  openid: { description: 'Sign you in with your account' },
  profile: { description: 'See your username and name' },
  email: { description: 'See your email address' },
  offline_access: { description: 'Keep access while you are not using the app' },
};

/** The scopes this server knows: built-in ones plus those from configuration. */
export class ScopeRegistry {
  readonly #scopes: Map<string, ScopeDefinition>;

  constructor(configured: Record<string, ScopeDefinition> = {}) {
    this.#scopes = new Map(Object.entries({ ...builtInScopes, ...configured }));
  }

  has(name: string): boolean {
    return this.#scopes.has(name);
  }

  describe(name: string): string {
    return this.#scopes.get(name)?.description ?? name;
  }

  names(): string[] {
    return [...this.#scopes.keys()];
  }

  /** Throws `invalid_scope` naming the first scope this server does not know. */
  requireKnown(scopes: readonly string[], parameter = 'scope'): void {
    const unknown = scopes.find((scope) => !this.#scopes.has(scope));
    if (unknown !== undefined) {
      throw new OAuthError('invalid_scope', `"${parameter}" names unknown scope "${unknown}"`);
    }
  }
}
