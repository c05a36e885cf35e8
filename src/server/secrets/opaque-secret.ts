import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Codes, tokens, client secrets and session ids are 256-bit random values (RFC 6749 §10.10,
 * RFC 6819 §5.1.4.2.2) handed out once and stored only as SHA-256 hashes (DESIGN invariant 4).
 * Because the values are uniformly random, a fast hash is as good as a slow one against guessing
 * and keeps the token endpoint fast.
 */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A random identifier for things that are public (client IDs, token families, key IDs). Hex,
 * so it never starts with `-` (which a command line would take for an option) and survives any
 * URL, log or shell unquoted.
 */
export function generateIdentifier(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Compares a presented secret with a stored hash without leaking where they differ. */
export function secretMatchesHash(secret: string, storedHash: string): boolean {
  const presented = createHash('sha256').update(secret, 'utf8').digest();
  const stored = Buffer.from(storedHash, 'base64url');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
