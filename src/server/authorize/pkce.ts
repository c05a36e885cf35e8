import { createHash, timingSafeEqual } from 'node:crypto';
import { OAuthError } from '../../shared/oauth-error.ts';

/** RFC 7636 §4.1: code_verifier = 43*128unreserved. */
const verifierPattern = /^[A-Za-z0-9\-._~]{43,128}$/;
/** RFC 7636 §4.2: an S256 challenge is BASE64URL(SHA256(verifier)): 32 bytes, 43 characters. */
const s256ChallengePattern = /^[A-Za-z0-9\-_]{43}$/;

/**
 * Checks the PKCE parameters of an authorization request. Only S256 is accepted: `plain` gives no
 * protection once the request is observed (RFC 9700 §2.1.1), and an absent method means `plain`
 * (RFC 7636 §4.3), so it is refused too.
 */
export function checkCodeChallenge(challenge: string | undefined, method: string | undefined): string | undefined {
  if (challenge === undefined) {
    if (method !== undefined) throw new OAuthError('invalid_request', '"code_challenge_method" was sent without "code_challenge"');
    return undefined;
  }
  if (method !== 'S256') {
    throw new OAuthError(
      'invalid_request',
      method === undefined
        ? '"code_challenge_method" is required and must be S256 (the default, plain, is not accepted)'
        : `"code_challenge_method" must be S256 (got "${method}")`,
      method === undefined ? {} : { descriptionWithoutInput: '"code_challenge_method" must be S256' },
    );
  }
  if (!s256ChallengePattern.test(challenge)) {
    throw new OAuthError('invalid_request', '"code_challenge" must be 43 characters of base64url (RFC 7636 §4.2)');
  }
  return challenge;
}

export function checkCodeVerifierFormat(verifier: string): void {
  if (!verifierPattern.test(verifier)) {
    throw new OAuthError('invalid_request', '"code_verifier" must be 43–128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)');
  }
}

export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) must equal the stored challenge. */
export function verifierMatchesChallenge(verifier: string, challenge: string): boolean {
  const expected = Buffer.from(challenge, 'ascii');
  const actual = Buffer.from(s256Challenge(verifier), 'ascii');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
