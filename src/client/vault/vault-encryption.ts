import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { OAuthError } from '../../shared/oauth-error.ts';

/**
 * Keys that encrypt tokens at rest, by id. New values are sealed with `current`; older keys stay
 * listed until `vault.reencrypt()` has moved every row to the current one (key rotation).
 */
export interface VaultKeys {
  current: string;
  /** Key id → 32 random bytes, base64 or base64url. */
  keys: Record<string, string>;
}

/** AES-256-GCM with a fresh 96-bit IV per value; the key id travels with the ciphertext. */
export class VaultEncryption {
  readonly #keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  constructor(keys: VaultKeys) {
    for (const [id, encoded] of Object.entries(keys.keys)) {
      if (id.includes('.')) throw new Error(`vault key id "${id}" must not contain "."`);
      const key = Buffer.from(encoded.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''), 'base64url');
      if (key.length !== 32) throw new Error(`vault key "${id}" must be 32 bytes`);
      this.#keys.set(id, key);
    }
    if (!this.#keys.has(keys.current)) throw new Error(`vault key "${keys.current}" (current) is not among the keys`);
    this.currentKeyId = keys.current;
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.currentKeyId)!, iv);
    // Binding the row (user × provider) means a ciphertext copied to another row fails to open.
    cipher.setAAD(Buffer.from(associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [this.currentKeyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  open(sealed: string, associatedData: string): string {
    const [keyId, iv, tag, ciphertext] = sealed.split('.');
    const key = keyId === undefined ? undefined : this.#keys.get(keyId);
    if (key === undefined || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new OAuthError('server_error', `a stored token is sealed with unknown key "${keyId ?? ''}"`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new OAuthError('server_error', 'a stored token failed its integrity check');
    }
  }

  keyIdOf(sealed: string): string {
    return sealed.split('.')[0] ?? '';
  }
}
