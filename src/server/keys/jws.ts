import { sign, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from '../../storage/storage.ts';

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
 * `signJwt` with the signature computed on libuv's thread pool, so that another core does the
 * ECDSA or RSA arithmetic while the event loop serves other requests. Only for tokens signed
 * outside a transaction: inside one, the await would hold the group-commit lock (see above).
 */
export function signJwtOffThread(header: JwsHeader, payload: object, key: KeyObject): Promise<string> {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const data = Buffer.from(signingInput, 'ascii');
  return new Promise((resolve, reject) => {
    sign('sha256', data, header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, (error, signature) => {
      if (error !== null) reject(error);
      else resolve(`${signingInput}.${signature.toString('base64url')}`);
    });
  });
}

interface JwsHeader {
  alg: SigningAlgorithm;
  kid: string;
  typ: string;
}

function base64url(json: string): string {
  return Buffer.from(json, 'utf8').toString('base64url');
}
