import { hash, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * Random bytes drawn from the CSPRNG 4 KiB at a time: one call per 128 tokens instead of one per
 * token (each call into OpenSSL costs more than the bytes). Every byte is handed out once.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomChunk(bytes: number): Buffer {
  if (bytes > pool.length) return randomFillSync(Buffer.alloc(bytes));
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const chunk = pool.subarray(poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return chunk;
}

/**
 * Codes, tokens, client secrets and session ids are 256-bit random values (RFC 6749 §10.10,
 * RFC 6819 §5.1.4.2.2) handed out once and stored only as SHA-256 hashes (DESIGN invariant 4).
 * Because the values are uniformly random, a fast hash is as good as a slow one against guessing
 * and keeps the token endpoint fast.
 */
export function generateSecret(): string {
  return randomChunk(32).toString('base64url');
}

/** Digits of the time prefix: milliseconds since 1970 in hex, 11 digits until the year 2527. */
const timePrefixLength = 11;
const timeOrderedToken = /^[0-9a-f]{11}[A-Za-z0-9_-]{43}$/;

let prefixAt = 0;
let prefix = '';

/** The time prefix of tokens made at `at` (milliseconds): 11 hex digits. */
export function timePrefix(at = Date.now()): string {
  if (at !== prefixAt) {
    prefixAt = at;
    prefix = at.toString(16).padStart(timePrefixLength, '0');
  }
  return prefix;
}

/**
 * A code, access or refresh token, or session id: a time prefix (not secret: when it was made)
 * followed by 256 random bits. `hashSecret` keeps the prefix in front of the hash, so the rows of
 * new tokens go to the end of their table's primary-key index instead of to a random page. Under
 * load one commit then writes a few index pages instead of one per token (measured in
 * bench/README.md). The prefix is wall-clock time because it only orders rows and means nothing.
 */
export function generateToken(): string {
  return timePrefix() + generateSecret();
}

/**
 * A random identifier for things that are public (client IDs, token families, key IDs). Hex,
 * so it never starts with `-` (which a command line would take for an option) and survives any
 * URL, log or shell unquoted.
 */
export function generateIdentifier(bytes = 16): string {
  return randomChunk(bytes).toString('hex');
}

/** An identifier of 128 random bits after a time prefix, for rows indexed by it (token families). */
export function generateTimeOrderedIdentifier(): string {
  return timePrefix() + generateIdentifier();
}

/**
 * What a secret is stored and looked up as: SHA-256, base64url; after the time prefix of a token
 * made by `generateToken` (which only a holder of the whole token can reproduce with the hash).
 * A JWT access token's prefix is that of its `jti` (a `generateTimeOrderedIdentifier`), for the
 * same reason: its hash alone would land on a random index page.
 */
export function hashSecret(secret: string): string {
  return (timePrefixOf(secret) ?? '') + sha256(secret);
}

/**
 * `hashSecret` of a JWT this server has just signed with `jti`, without reading the jti back
 * out of the token.
 */
export function hashIssuedJwt(jwt: string, jti: string): string {
  return issuedJwtKey(jti, sha256(jwt));
}

/** `hashIssuedJwt` from the JWT's SHA-256 (base64url), computed elsewhere (keys/signing-threads.ts). */
export function issuedJwtKey(jti: string, jwtSha256: string): string {
  return (timeOrderedJti.test(jti) ? jti.slice(0, timePrefixLength) : '') + jwtSha256;
}

// crypto.hash (Node 20.12) is the one-shot form: no Hash object per call, which on these short
// inputs costs more than the digest itself.
function sha256(value: string): string {
  return hash('sha256', value, 'base64url');
}

const timeOrderedJti = /^[0-9a-f]{43}$/;

function timePrefixOf(secret: string): string | undefined {
  if (timeOrderedToken.test(secret)) return secret.slice(0, timePrefixLength);
  // JWS compact serialization: header.payload.signature (RFC 7515 §7.1).
  const payloadStart = secret.indexOf('.') + 1;
  const payloadEnd = payloadStart === 0 ? -1 : secret.indexOf('.', payloadStart);
  if (payloadEnd === -1 || payloadEnd - payloadStart > 4096) return undefined;
  try {
    const { jti } = JSON.parse(Buffer.from(secret.slice(payloadStart, payloadEnd), 'base64url').toString('utf8')) as { jti?: unknown };
    return typeof jti === 'string' && timeOrderedJti.test(jti) ? jti.slice(0, timePrefixLength) : undefined;
  } catch {
    return undefined; // not a JWT: keyed by its hash alone
  }
}

/** Compares a presented secret with a stored hash without leaking where they differ. */
export function secretMatchesHash(secret: string, storedHash: string): boolean {
  const presented = hash('sha256', secret, 'buffer') as unknown as Buffer;
  const stored = Buffer.from(storedHash, 'base64url');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
