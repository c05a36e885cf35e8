import type { Clock } from '../shared/clock.ts';
import type { Storage } from '../storage/storage.ts';
import type { GatehouseConfig } from './config/defaults.ts';
import type { ScopeRegistry } from './scopes/scope-registry.ts';

/** What domain functions need from the outside world, passed explicitly. */
export interface ServerContext {
  config: GatehouseConfig;
  storage: Storage;
  clock: Clock;
  scopes: ScopeRegistry;
}
