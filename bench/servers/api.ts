/**
 * An API behind Gatehouse's resource-server helper (src/resource-server), for the Bearer workload:
 * `GET /me` needs a JWT access token with `calendar.read`, verified locally against the issuer's
 * JWKS (fetched once, then cached) — no call to the authorization server per request.
 *
 * Environment: BENCH_ISSUER (the Gatehouse issuer; its tokens carry it as `aud` when the client
 * named no resource, RFC 9068 §3).
 */
import Fastify from 'fastify';
import { fastifyResourceServer } from '../../src/resource-server/index.ts';
import { announce, exitWith } from './protocol.ts';

const issuer = process.env.BENCH_ISSUER;
if (issuer === undefined || issuer === '') throw new Error('BENCH_ISSUER must name the Gatehouse issuer');

const resourceServer = fastifyResourceServer({ issuer, audience: issuer, realm: 'bench' });
const app = Fastify({ logger: false });
app.get('/me', { preHandler: resourceServer.requireAccessToken('calendar.read') }, async (request) => ({
  sub: request.accessToken!.subject,
  scope: request.accessToken!.scopes.join(' '),
}));
const url = await app.listen({ port: 0, host: '127.0.0.1' });
exitWith(() => app.close());
announce({ type: 'ready', url, paths: { authorize: '/authorize', token: '/token', userinfo: '/me' } });
