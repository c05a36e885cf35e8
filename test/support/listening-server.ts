import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { TestContext } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type GatehouseConfig } from '../../src/server/config/defaults.ts';
import { finishConfig } from '../../src/server/config/load.ts';
import { startServer, type RunningServer } from '../../src/server/main.ts';
import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/shared/clock.ts';
import { createServerContext, type ServerContext } from '../../src/server/context.ts';
import { KeyEncryption } from '../../src/server/keys/key-encryption.ts';
import { openStorage } from '../../src/storage/open-storage.ts';

/** A free TCP port on 127.0.0.1, found by binding port 0 and letting go of it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export interface ListeningServer {
  server: RunningServer;
  config: GatehouseConfig;
  /** The issuer, which is also the base URL to call. */
  url: string;
  /** The temporary folder holding the database; `DATABASE_URL` for CLI runs against the same data. */
  databaseUrl: string;
  /** A context on the same database and keys, for setting up clients and users in-process. */
  openContext(): Promise<{ ctx: ServerContext; close(): Promise<void> }>;
  close(): Promise<void>;
}

/**
 * A real server on a free loopback port with its own SQLite file, started the way `gatehouse
 * start` does it (migrations, logging off), for tests that need sockets: browsers and
 * independently written client libraries.
 */
export async function startListeningServer(overrides: Partial<GatehouseConfig> = {}): Promise<ListeningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-listen-'));
  const port = await freePort();
  const databaseUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
  const config = finishConfig({
    ...defaultConfig(),
    port,
    issuer: `http://127.0.0.1:${port}`,
    databaseUrl,
    logLevel: 'silent',
    keyEncryptionKey: randomBytes(32).toString('base64url'),
    scopes: { 'calendar.read': { description: 'Read your calendar events' } },
    ...overrides,
  });
  const server = await startServer(config);
  return {
    server,
    config,
    url: config.issuer,
    databaseUrl,
    async openContext() {
      const storage = await openStorage(databaseUrl);
      const ctx = createServerContext(config, storage, systemClock, new KeyEncryption(Buffer.from(config.keyEncryptionKey, 'base64url')));
      return { ctx, close: () => storage.close() };
    },
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A client app's redirect endpoint on 127.0.0.1 (stopped after the test). */
export interface CallbackServer {
  /** The redirect URI to register: http://127.0.0.1:PORT/callback. */
  uri: string;
  /** The query of every request that reached /callback, in order. */
  received: URLSearchParams[];
}

/** Starts a `CallbackServer` whose /callback shows a page titled `appName`, so a browser lands somewhere. */
export async function startCallbackServer(t: TestContext, appName: string): Promise<CallbackServer> {
  const received: URLSearchParams[] = [];
  const server = createHttpServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/callback') received.push(url.searchParams);
    response.writeHead(url.pathname === '/callback' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><title>${appName}</title><h1>${appName} got the callback</h1>`);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { uri: `http://127.0.0.1:${port}/callback`, received };
}
