import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { optionalParam, queryParams } from '../http/params.ts';
import { apiActor, type AdminActor } from './admin-actor.ts';
import { createClient, deleteClient, findClientOrFail, rotateSecret, updateClient } from '../clients/admin-clients.ts';
import { accountJson, clientJson, eventJson, grantJson, keyJson } from './admin-json.ts';
import { listSigningKeys, rotateKeys } from '../keys/admin-keys.ts';
import { authorizedApps, createUser, deleteUser, disableUser, enableUser, findAccountOrFail, resetPassword, setAdmin } from '../accounts/admin-users.ts';
import { authenticateAdminClient } from './api-authentication.ts';
import { readAccountChanges, readClientChanges, readClientRegistration, readEventLimit, readNewAccount, readPasswordReset } from './api-input.ts';

/**
 * The admin REST API under /admin/api (an encapsulated plugin: its JSON body parsing and its
 * authentication apply to these routes only). Every route is described in openapi.ts.
 */
export async function adminApiRoutes(api: FastifyInstance, ctx: ServerContext): Promise<void> {
  const actors = new WeakMap<FastifyRequest, AdminActor>();
  const actor = (request: FastifyRequest): AdminActor => actors.get(request)!;

  // JSON only, parsed here so that a malformed body is an OAuth error that says what is wrong.
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text as string));
    } catch {
      done(new OAuthError('invalid_request', 'the request body is not valid JSON'), undefined);
    }
  });
  api.addContentTypeParser('*', (_request, _payload, done) => done(new OAuthError('invalid_request', 'the request body must be application/json'), undefined));

  // Authentication comes first, before any body is read.
  api.addHook('onRequest', async (request) => {
    const client = await authenticateAdminClient(request.headers.authorization, ctx);
    actors.set(request, apiActor(client.id, request.ip));
  });
  // Responses carry client secrets and personal data.
  api.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });

  type IdParams = { Params: { client_id: string } };
  type SubParams = { Params: { sub: string } };

  api.get('/clients', async () => ({ clients: (await ctx.storage.listClients()).map(clientJson) }));
  api.post('/clients', async (request, reply) => {
    const { client, clientSecret } = await createClient(readClientRegistration(request.body), actor(request), ctx);
    return reply
      .code(201)
      .header('location', `/admin/api/clients/${encodeURIComponent(client.id)}`)
      .send({ ...clientJson(client), client_secret: clientSecret });
  });
  api.get<IdParams>('/clients/:client_id', async (request) => clientJson(await findClientOrFail(request.params.client_id, ctx)));
  api.patch<IdParams>('/clients/:client_id', async (request) =>
    clientJson(await updateClient(request.params.client_id, readClientChanges(request.body), actor(request), ctx)),
  );
  api.delete<IdParams>('/clients/:client_id', async (request, reply) => {
    await deleteClient(request.params.client_id, actor(request), ctx);
    return reply.code(204).send();
  });
  api.post<IdParams>('/clients/:client_id/rotate-secret', async (request) => {
    const { client_id } = request.params;
    return { client_id, client_secret: await rotateSecret(client_id, actor(request), ctx) };
  });

  api.get('/users', async () => ({ users: (await ctx.storage.listAccounts()).map(accountJson) }));
  api.post('/users', async (request, reply) => {
    const account = await createUser(readNewAccount(request.body), actor(request), ctx);
    return reply.code(201).header('location', `/admin/api/users/${encodeURIComponent(account.id)}`).send(accountJson(account));
  });
  api.get<SubParams>('/users/:sub', async (request) => accountJson(await findAccountOrFail(request.params.sub, ctx)));
  api.patch<SubParams>('/users/:sub', async (request) => {
    const changes = readAccountChanges(request.body);
    const { sub } = request.params;
    const account = changes.isAdmin === undefined ? await findAccountOrFail(sub, ctx) : await setAdmin(sub, changes.isAdmin, actor(request), ctx);
    return accountJson(account);
  });
  api.delete<SubParams>('/users/:sub', async (request, reply) => {
    await deleteUser(request.params.sub, actor(request), ctx);
    return reply.code(204).send();
  });
  api.post<SubParams>('/users/:sub/disable', async (request) => accountJson(await disableUser(request.params.sub, actor(request), ctx)));
  api.post<SubParams>('/users/:sub/enable', async (request) => accountJson(await enableUser(request.params.sub, actor(request), ctx)));
  api.post<SubParams>('/users/:sub/reset-password', async (request) =>
    accountJson(await resetPassword(request.params.sub, readPasswordReset(request.body), actor(request), ctx)),
  );
  api.get<SubParams>('/users/:sub/grants', async (request) => ({
    grants: (await authorizedApps(request.params.sub, ctx)).map(({ grant, client }) => grantJson(grant, client)),
  }));

  api.get('/keys', async () => ({ keys: (await listSigningKeys(ctx)).map((key) => keyJson(key, ctx.clock.now())) }));
  api.post('/keys/rotate', async (request) => {
    await rotateKeys(actor(request), ctx);
    return { keys: (await listSigningKeys(ctx)).map((key) => keyJson(key, ctx.clock.now())) };
  });

  api.get('/events', async (request) => {
    const limit = readEventLimit(optionalParam(queryParams(request.raw.url), 'limit', 10));
    return { events: (await ctx.storage.listAuditEvents(limit)).map(eventJson) };
  });
}
