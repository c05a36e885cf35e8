import { sign, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from '../../storage/storage.ts';
import type { SigningThreads } from './signing-threads.ts';

/**
 * A JWT in JWS Compact Serialization (RFC 7515 §7.1, RFC 7519 §7.1), signed synchronously with
 * `node:crypto`: RS256 is RSASSA-PKCS1-v1_5 with SHA-256 and ES256 is ECDSA P-256 with SHA-256,
 * whose signature is R || S, 32 bytes each (RFC 7518 §3.3, §3.4).
 *
 * Gatehouse signs here rather than with jose's `SignJWT`, which signs through WebCrypto and so
 * asynchronously. Tokens are signed inside the transaction that stores them, and on SQLite an
 * await there holds the group-commit lock for a thread-pool round trip. Signing is also about
 * twice as expensive that way (bench/hotspots.ts). Everything that verifies, in Gatehouse and in
 * its tests, uses jose or openid-client, so every token signed here is checked by an independent
 * implementation.
 */
export function signJwt(header: JwsHeader, payload: object, key: KeyObject): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const data = Buffer.from(signingInput, 'ascii');
  const signature = header.alg === 'ES256' ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', data, key);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * `signJwt` on a signing thread (keys/signing-threads.ts), so that another core does the
 * arithmetic; the thread also returns the token's SHA-256 (base64url), which is how the token is
 * stored. Only for tokens signed outside a transaction: inside one, the await would hold the
 * group-commit lock (see above).
 */
export function signJwtOnThread(header: JwsHeader, payload: object, key: KeyObject, thread: SigningThreads): Promise<SignedJwt> {
  return thread.signJwt(header.alg, header.kid, key, encodedHeader(header), JSON.stringify(payload));
}

export interface SignedJwt {
  jwt: string;
  /** SHA-256 of the whole JWT, base64url. */
  sha256: string;
}

/** The encoded header of each key: the same for every token it signs. */
const encodedHeaders = new Map<string, string>();

function encodedHeader(header: JwsHeader): string {
  const id = `${header.alg} ${header.kid} ${header.typ}`;
  let encoded = encodedHeaders.get(id);
  if (encoded === undefined) {
    encoded = base64url(JSON.stringify(header));
    if (encodedHeaders.size >= 1000) encodedHeaders.clear();
    encodedHeaders.set(id, encoded);
  }
  return encoded;
}

interface JwsHeader {
  alg: SigningAlgorithm;
  kid: string;
  typ: string;
}

function base64url(json: string): string {
  return Buffer.from(json, 'utf8').toString('base64url');
}
