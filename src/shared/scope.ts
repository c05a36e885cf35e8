import { OAuthError } from './oauth-error.ts';

/**
 * RFC 6749 §3.3: scope = scope-token *( SP scope-token ),
 * scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
 */
const scopeToken = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Parses a scope string into a list of distinct tokens, in first-seen order. Runs of spaces and
 * leading or trailing spaces are tolerated, as widely deployed clients send them.
 */
export function parseScope(value: string, parameter = 'scope'): string[] {
  // Only SP (%x20) separates tokens: String#trim() would also drop tabs, newlines, NBSP and BOM.
  const trimmed = value.replace(/^ +| +$/g, '');
  // RFC 6749 §3.3: a scope value has at least one token.
  if (trimmed === '') throw new OAuthError('invalid_scope', `"${parameter}" must name at least one scope`);
  const tokens = trimmed.split(/ +/);
  const seen = new Set<string>();
  for (const token of tokens) {
    if (!scopeToken.test(token)) {
      throw new OAuthError(
        'invalid_scope',
        `"${parameter}" must be scope tokens separated by single spaces (RFC 6749 §3.3)`,
      );
    }
    seen.add(token);
  }
  return [...seen];
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(' ');
}

export function isSubset(requested: readonly string[], allowed: readonly string[]): boolean {
  const allowedSet = new Set(allowed);
  return requested.every((scope) => allowedSet.has(scope));
}

export function isValidScopeToken(token: string): boolean {
  return scopeToken.test(token);
}
