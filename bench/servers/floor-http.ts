/**
 * The floor: the least any token server must do for a request, on bare `node:http` — read and
 * parse the form body, check HTTP Basic client credentials in constant time, and answer a fresh
 * 256-bit random token as JSON with `Cache-Control: no-store`. What a storage hook adds on top
 * (floor-sqlite.ts: one SHA-256 and one SQLite insert per token) is the cost of durability alone.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { announce, exitWith } from './protocol.ts';

export interface FloorStorage {
  /** Called with each token before it is answered; the answer waits for it. */
  save(token: string, clientId: string, scope: string, expiresAt: number): void;
  /** The token's record for introspection, or undefined when unknown. */
  find(token: string): { clientId: string; scope: string; expiresAt: number; createdAt: number } | undefined;
  close(): void;
}

const machineScope = 'calendar.read';

export async function startFloor(storage: FloorStorage): Promise<void> {
  const clientId = 'machine';
  const clientSecret = randomBytes(32).toString('base64url');
  const expected = Buffer.from(`${clientId}:${clientSecret}`);
  // The one token the protected GET accepts (floors keep no token table for it).
  const bearerValue = randomBytes(32).toString('base64url');
  const bearerToken = Buffer.from(bearerValue);

  const authenticated = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization;
    if (header === undefined || !header.startsWith('Basic ')) return false;
    const presented = Buffer.from(header.slice(6), 'base64');
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  };

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/userinfo') {
      const header = req.headers.authorization ?? '';
      const presented = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
      if (presented.length !== bearerToken.length || !timingSafeEqual(presented, bearerToken)) return json(res, 401, { error: 'invalid_token' });
      return json(res, 200, { sub: clientId });
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (req.method !== 'POST' || !authenticated(req)) return json(res, 401, { error: 'invalid_client' });
      if (req.url === '/token') {
        if (params.get('grant_type') !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
        const token = randomBytes(32).toString('base64url');
        storage.save(token, clientId, machineScope, Date.now() + 3600_000);
        return json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600, scope: machineScope });
      }
      if (req.url === '/introspect') {
        const record = storage.find(params.get('token') ?? '');
        if (record === undefined || record.expiresAt <= Date.now()) return json(res, 200, { active: false });
        return json(res, 200, {
          active: true,
          scope: record.scope,
          client_id: record.clientId,
          sub: record.clientId,
          exp: Math.floor(record.expiresAt / 1000),
          iat: Math.floor(record.createdAt / 1000),
          token_type: 'Bearer',
        });
      }
      json(res, 404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  exitWith(() => {
    server.closeAllConnections();
    server.close();
    storage.close();
  });
  announce({
    type: 'ready',
    url,
    paths: { authorize: '/authorize', token: '/token', introspect: '/introspect', userinfo: '/userinfo' },
    machine: { clientId, clientSecret, scope: machineScope },
    bearerToken: bearerValue,
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
