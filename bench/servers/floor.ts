/**
 * The bare floor (see floor-http.ts): nothing stored. Introspection answers any token as active,
 * so it measures parsing, client authentication and the JSON answer alone.
 */
import { startFloor } from './floor-http.ts';

const createdAt = Date.now();
await startFloor({
  save() {},
  find: () => ({ clientId: 'machine', scope: 'calendar.read', expiresAt: createdAt + 3600_000, createdAt }),
  close() {},
});
