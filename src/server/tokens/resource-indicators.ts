import { OAuthError } from '../../shared/oauth-error.ts';
import { isSubset } from '../../shared/scope.ts';

/**
 * RFC 8707 §2: each `resource` is an absolute URI without a fragment. Returns undefined when the
 * request named none.
 */
export function parseResources(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  for (const value of values) {
    if (!URL.canParse(value) || value.includes('#')) {
      throw new OAuthError('invalid_target', `"resource" must be an absolute URI without a fragment (RFC 8707 §2), got "${value}"`, {
        descriptionWithoutInput: '"resource" must be an absolute URI without a fragment (RFC 8707 §2)',
      });
    }
  }
  return [...new Set(values)];
}

/**
 * The resources a token will be for: what was asked, which must lie within what is allowed
 * (the client's registration, or what an earlier grant carried); `invalid_target` otherwise.
 */
export function narrowResources(requested: string[] | undefined, allowed: readonly string[], granted: string[] | null): string[] | null {
  if (requested === undefined) return granted;
  const limit = granted ?? allowed;
  if (!isSubset(requested, limit)) {
    const denied = requested.filter((resource) => !limit.includes(resource));
    throw new OAuthError('invalid_target', `this client may not obtain tokens for "${denied.join(' ')}"`, {
      descriptionWithoutInput: 'this client may not obtain tokens for a resource the request names',
    });
  }
  return requested;
}
