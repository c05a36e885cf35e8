import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { fastifyResourceServer } from '../src/resource-server/index.ts';

export interface CalendarApiOptions {
  /** The authorization server whose tokens this API accepts. */
  issuer: string;
  /** This API's resource indicator: the `aud` its tokens must carry. */
  audience: string;
  databasePath: string;
}

interface EventRow {
  id: string;
  owner: string;
  title: string;
  starts_at: string;
  created_at: string;
}

/**
 * The seed's "Their API" (a Google Calendar stand-in): events per user, behind Bearer tokens
 * checked by the resource-server helper. `calendar.read` lists, `calendar.write` adds.
 */
export async function buildCalendarApi(options: CalendarApiOptions): Promise<FastifyInstance> {
  mkdirSync(dirname(options.databasePath), { recursive: true });
  const db = new Database(options.databasePath);
  db.pragma('journal_mode = WAL');
  db.exec(`create table if not exists events (
    id text primary key, owner text not null, title text not null, starts_at text not null, created_at text not null)`);
  const list = db.prepare<[string], EventRow>('select * from events where owner = ? order by starts_at');
  const insert = db.prepare('insert into events (id, owner, title, starts_at, created_at) values (?, ?, ?, ?, ?)');

  const api = fastifyResourceServer({ issuer: options.issuer, audience: options.audience, realm: 'calendar' });
  const app = Fastify({ logger: false });
  app.addHook('onClose', async () => db.close());

  app.get('/events', { preHandler: api.requireAccessToken('calendar.read') }, async (request) => ({
    events: list.all(request.accessToken!.subject).map(toEvent),
  }));

  app.post<{ Body: { title?: unknown; startsAt?: unknown } }>(
    '/events',
    { preHandler: api.requireAccessToken('calendar.write') },
    async (request, reply) => {
      const title = typeof request.body?.title === 'string' ? request.body.title.trim() : '';
      const startsAt = typeof request.body?.startsAt === 'string' ? request.body.startsAt : '';
      if (title === '' || title.length > 200 || Number.isNaN(Date.parse(startsAt))) {
        return reply.code(400).send({ error: 'invalid_request', error_description: 'an event needs a title (1–200 characters) and an ISO date in startsAt' });
      }
      const row: EventRow = {
        id: randomUUID(),
        owner: request.accessToken!.subject,
        title,
        starts_at: new Date(startsAt).toISOString(),
        created_at: new Date().toISOString(),
      };
      insert.run(row.id, row.owner, row.title, row.starts_at, row.created_at);
      return reply.code(201).send(toEvent(row));
    },
  );
  return app;
}

function toEvent(row: EventRow) {
  return { id: row.id, title: row.title, startsAt: row.starts_at };
}
