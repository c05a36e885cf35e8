import type { Clock } from '../shared/clock.ts';
import type { Storage } from '../storage/storage.ts';
import type { GatehouseConfig } from './config/defaults.ts';
import type { KeyEncryption } from './keys/key-encryption.ts';
import { SigningKeys } from './keys/signing-keys.ts';
import { SigningThreads } from './keys/signing-threads.ts';
import { ScopeRegistry } from './authorize/scope-registry.ts';

/** What domain functions need from the outside world, passed explicitly. */
export interface ServerContext {
  config: GatehouseConfig;
  storage: Storage;
  clock: Clock;
  scopes: ScopeRegistry;
  keys: SigningKeys;
  /** Signs JWTs minted outside a transaction on another core; started on first use. */
  signingThreads: SigningThreads;
}

export function createServerContext(
  config: GatehouseConfig,
  storage: Storage,
  clock: Clock,
  keyEncryption: KeyEncryption | (() => KeyEncryption),
): ServerContext {
  return {
    config,
    storage,
    clock,
    scopes: new ScopeRegistry(config.scopes),
    keys: new SigningKeys(storage, clock, keyEncryption),
    signingThreads: new SigningThreads(config.signingThreads),
  };
}
