import { createPrivateKey, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Clock } from '../../shared/clock.ts';
import type { SigningAlgorithm, SigningKeyRecord, Storage } from '../../storage/storage.ts';
import { generateIdentifier } from './opaque-secret.ts';
import type { KeyEncryption } from './key-encryption.ts';

export const signingAlgorithms: readonly SigningAlgorithm[] = ['RS256', 'ES256'];

export interface ActiveSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  /** A Node key object, for the synchronous signing of jws.ts (jose accepts it too). */
  privateKey: KeyObject;
}

/**
 * The server's signing keys: RS256 always (every OpenID Connect client supports it) and ES256.
 * Keys live in the database (private parts encrypted), so every instance signs with the same key
 * and a rotation made through one is seen by all at their next read.
 */
export class SigningKeys {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #loadEncryption: () => KeyEncryption;
  #encryption: KeyEncryption | undefined;
  /** Imported private keys by kid; a kid's key never changes, so this cache is never stale. */
  readonly #imported = new Map<string, KeyObject>();

  /** `encryption` may be given lazily, so commands that sign nothing never need the key. */
  constructor(storage: Storage, clock: Clock, encryption: KeyEncryption | (() => KeyEncryption)) {
    this.#storage = storage;
    this.#clock = clock;
    this.#loadEncryption = typeof encryption === 'function' ? encryption : () => encryption;
  }

  get #sealer(): KeyEncryption {
    this.#encryption ??= this.#loadEncryption();
    return this.#encryption;
  }

  /**
   * Creates an active key for every algorithm that has none (first start). `storage` lets a
   * caller inside a transaction read through that transaction (on SQLite, a read outside it would
   * wait for the transaction to end, which waits for the read).
   */
  async ensureActiveKeys(storage: Storage = this.#storage): Promise<void> {
    const keys = await storage.listSigningKeys();
    for (const alg of signingAlgorithms) {
      if (!keys.some((key) => key.alg === alg && key.state === 'active')) await this.#createKey(alg, storage);
    }
  }

  /** The key new tokens of this algorithm are signed with; `storage` as for `ensureActiveKeys`. */
  async activeKey(alg: SigningAlgorithm, storage: Storage = this.#storage): Promise<ActiveSigningKey> {
    // Read on every token (one indexed row), never cached: a rotation by another process or
    // instance takes effect at its next token.
    let record = await storage.findActiveSigningKey(alg);
    if (record === undefined) {
      await this.ensureActiveKeys(storage);
      record = await storage.findActiveSigningKey(alg);
    }
    if (record === undefined) throw new Error(`no active ${alg} signing key`);
    return { kid: record.kid, alg, privateKey: this.#privateKey(record) };
  }

  /** The JWK Set of RFC 7517: active keys and retired keys still within their publication. */
  async publicJwks(): Promise<{ keys: JWK[] }> {
    const now = this.#clock.now();
    let stored = await this.#storage.listSigningKeys();
    if (!stored.some((key) => key.state === 'active')) {
      // A server embedded without `main.ts` has not created keys yet; never publish an empty set.
      await this.ensureActiveKeys();
      stored = await this.#storage.listSigningKeys();
    }
    const keys = stored.filter((key) => key.state === 'active' || (key.publishUntil ?? 0) > now);
    return { keys: keys.map((key) => key.publicJwk as JWK) };
  }

  list(): Promise<SigningKeyRecord[]> {
    return this.#storage.listSigningKeys();
  }

  /**
   * Starts signing with new keys. The old ones stay published for `publishSeconds` — the longest
   * lifetime of anything they signed — so tokens issued before the rotation keep verifying.
   */
  async rotate(publishSeconds: number): Promise<SigningKeyRecord[]> {
    const now = this.#clock.now();
    const previous = (await this.#storage.listSigningKeys()).filter((key) => key.state === 'active');
    const created: SigningKeyRecord[] = [];
    for (const alg of signingAlgorithms) created.push(await this.#createKey(alg));
    for (const key of previous) await this.#storage.retireSigningKey(key.kid, now, now + publishSeconds * 1000);
    return created;
  }

  async #createKey(alg: SigningAlgorithm, storage: Storage = this.#storage): Promise<SigningKeyRecord> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    const kid = generateIdentifier(12);
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
    const record: SigningKeyRecord = {
      kid,
      alg,
      publicJwk,
      privateJwkEncrypted: this.#sealer.encrypt(JSON.stringify(privateJwk)),
      state: 'active',
      createdAt: this.#clock.now(),
      retiredAt: null,
      publishUntil: null,
    };
    await storage.insertSigningKey(record);
    return record;
  }

  #privateKey(record: SigningKeyRecord): KeyObject {
    let key = this.#imported.get(record.kid);
    if (key === undefined) {
      const jwk = JSON.parse(this.#sealer.decrypt(record.privateJwkEncrypted)) as JWK;
      key = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
      this.#imported.set(record.kid, key);
    }
    return key;
  }
}
