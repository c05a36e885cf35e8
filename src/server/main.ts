import type { FastifyInstance } from 'fastify';
import { systemClock } from '../shared/clock.ts';
import { openStorage } from '../storage/open-storage.ts';
import { buildServer } from './app.ts';
import type { GatehouseConfig } from './config/defaults.ts';
import { loadKeyEncryption } from './keys/key-encryption.ts';
import { SigningKeys } from './keys/signing-keys.ts';
import { startExpiredCleanup } from './operations/expired-cleanup.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

/** Opens (and migrates) the database, listens, and sweeps expired rows until stopped. */
export async function startServer(config: GatehouseConfig): Promise<RunningServer> {
  // Files narrowed to 0600 are reported once the logger exists.
  const narrowed: string[] = [];
  const warn = (message: string): void => void narrowed.push(message);
  const keyEncryption = loadKeyEncryption(config, warn);
  const storage = await openStorage(config.databaseUrl, { migrate: config.migrateOnStart, warn });
  // Signing keys exist before the first request, so /jwks never answers an empty set.
  await new SigningKeys(storage, systemClock, keyEncryption).ensureActiveKeys();
  const app = await buildServer({ config, storage, clock: systemClock, keyEncryption, logger: { level: config.logLevel } });
  for (const message of narrowed) app.log.warn(message);
  const stopCleanup = startExpiredCleanup(storage, systemClock, {
    intervalMs: 60_000,
    batchSize: 500,
    onError: (error) => app.log.error({ err: error }, 'expired-row cleanup failed'),
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    stopCleanup();
    await storage.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let stopping: Promise<void> | undefined;
  return {
    app,
    url: `http://${host}:${port}`,
    stop: () => {
      stopping ??= (async () => {
        stopCleanup();
        await app.close();
        await storage.close();
      })();
      return stopping;
    },
  };
}
