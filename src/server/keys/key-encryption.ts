import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { emitWarning, makeOwnerOnlyDirectory, narrowToOwnerOnly, type Warn } from '../../shared/owner-only-files.ts';
import type { GatehouseConfig } from '../config/defaults.ts';

/**
 * Signing private keys are stored encrypted with AES-256-GCM under a key-encryption key from
 * configuration (DESIGN invariant 4), so a copy of the database alone cannot forge tokens.
 * Format: `v1.<iv>.<tag>.<ciphertext>`, each part base64url.
 */
export class KeyEncryption {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the key-encryption key must be 32 bytes');
    this.#key = key;
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  /**
   * A 32-byte key for another purpose (`info` names it), derived with HKDF-SHA256 (RFC 5869): the
   * one configured secret serves several uses without any of them seeing the encryption key.
   */
  deriveKey(info: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), info, 32));
  }

  decrypt(sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error('an encrypted signing key has an unknown format');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('cannot decrypt the signing keys: the key-encryption key is not the one they were encrypted with');
    }
  }
}

/**
 * The configured key, or outside production a development key generated once and kept in a file
 * readable only by its owner (`loadConfig` already refused production without a key): 0600 in a
 * folder that is 0700 when Gatehouse creates it; an existing file readable by others is narrowed
 * to 0600 and reported through `warn`. `wx` refuses to write through a file that appeared meanwhile.
 */
export function loadKeyEncryption(config: GatehouseConfig, warn: Warn = emitWarning): KeyEncryption {
  if (config.keyEncryptionKey !== '') return new KeyEncryption(decodeKey(config.keyEncryptionKey));
  if (config.production) throw new Error('production mode needs GATEHOUSE_KEY_ENCRYPTION_KEY');
  const file = config.keyEncryptionKeyFile;
  if (existsSync(file)) {
    narrowToOwnerOnly(file, warn);
    return new KeyEncryption(decodeKey(readFileSync(file, 'utf8').trim()));
  }
  makeOwnerOnlyDirectory(dirname(file));
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600); // `mode` above passes through the umask; chmod does not
  return new KeyEncryption(key);
}

function decodeKey(text: string): Buffer {
  return Buffer.from(text.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''), 'base64url');
}
