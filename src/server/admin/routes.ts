import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isOAuthError, OAuthError } from '../../shared/oauth-error.ts';
import type { ServerContext } from '../context.ts';
import { formParams } from '../http/form-body.ts';
import { hasMessage, t, type MessageKey } from '../i18n/translate.ts';
import type { Html } from '../pages/html.ts';
import { pageContextFor } from '../pages/page-context.ts';
import { safeLocalPath } from '../http/local-path.ts';
import { optionalParam, queryParams } from '../http/params.ts';
import { readSessionCookie } from '../login/session-cookie.ts';
import { findActiveSession, type ActiveSession } from '../login/sessions.ts';
import { secretMatchesHash } from '../keys/opaque-secret.ts';
import { consoleActor, type AdminActor } from './admin-actor.ts';
import { createClient, deleteClient, findClientOrFail, rotateSecret, updateClient } from '../clients/admin-clients.ts';
import { forbiddenPage, type AdminPageFrame, type AdminSection } from './admin-layout.ts';
import { adminStylesheet } from './admin-stylesheet.ts';
import { listSigningKeys, rotateKeys } from '../keys/admin-keys.ts';
import { authorizedApps, createUser, deleteUser, disableUser, enableUser, findAccountOrFail, resetPassword, setAdmin } from '../accounts/admin-users.ts';
import { adminApiRoutes } from './api-routes.ts';
import { clientListPage, clientPage, clientSecretPage, newClientPage, type ClientFormPageInput } from '../clients/admin-clients-pages.ts';
import {
  clientFormValues,
  clientRegistrationFrom,
  newAccountFrom,
  newClientDefaults,
  newUserDefaults,
  readClientForm,
  readUserForm,
  requireConfirmation,
  type ClientFormValues,
} from './console-forms.ts';
import { eventsPage, type EventNames } from '../operations/admin-events-page.ts';
import { keysPage } from '../keys/admin-keys-page.ts';
import { adminOpenApiDocument } from './openapi.ts';
import { overviewPage } from './overview-page.ts';
import { newUserPage, userListPage, userPage } from '../accounts/admin-users-pages.ts';

/** Confirmations shown after a redirect, by the `done` query parameter. */
const notices: Record<string, MessageKey> = {
  client_created: 'admin.notice.client_created',
  client_updated: 'admin.notice.client_updated',
  client_deleted: 'admin.notice.client_deleted',
  user_created: 'admin.notice.user_created',
  user_disabled: 'admin.notice.user_disabled',
  user_enabled: 'admin.notice.user_enabled',
  user_password_reset: 'admin.notice.user_password_reset',
  user_updated: 'admin.notice.user_updated',
  user_deleted: 'admin.notice.user_deleted',
  keys_rotated: 'admin.notice.keys_rotated',
};

/**
 * A new client secret travels from the POST that made it to the one page that shows it in a
 * cookie scoped to that page, which the page clears: POSTs answer 303 (no resubmission on reload),
 * and a second look shows nothing. The cookie is HttpOnly, SameSite=Strict and lives 5 minutes.
 */
const secretCookie = 'gatehouse_admin_secret';

/** The admin console under /admin (pages and forms), the admin API under /admin/api, its OpenAPI document. */
export function adminRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const sessions = new WeakMap<FastifyRequest, ActiveSession>();
  const page = { config: { errorFormat: 'page' as const } };
  const htmlType = 'text/html; charset=utf-8';

  /** Only administrators: others get a 403 page, strangers the login form (and back). */
  async function adminOnly(request: FastifyRequest, reply: FastifyReply) {
    const active = await findActiveSession(readSessionCookie(request), ctx);
    if (active === undefined) {
      // The login form checks it again; this keeps a refused path out of the link (invariant 9).
      const returnTo = request.method === 'GET' ? safeLocalPath(request.url, '/admin') : '/admin';
      return reply.redirect(`/login?${new URLSearchParams({ return_to: returnTo })}`, request.method === 'GET' ? 302 : 303);
    }
    if (!active.account.isAdmin) return reply.code(403).type(htmlType).send(forbiddenPage(pageContextFor(request, ctx.config), active.account.username, reply.generateCsrf()));
    sessions.set(request, active);
  }
  const view = { ...page, preHandler: adminOnly };
  const action = { ...page, preHandler: [app.csrfProtection, adminOnly] };

  const session = (request: FastifyRequest): ActiveSession => sessions.get(request)!;
  const actor = (request: FastifyRequest): AdminActor => {
    const { session: record, account } = session(request);
    return consoleActor(account.id, record.idHash, request.ip);
  };
  /** `title` is a message key, or a name (of a client, a user) shown as it is. */
  const frame = (request: FastifyRequest, reply: FastifyReply, section: AdminSection, title: MessageKey | { name: string }, error?: string): AdminPageFrame => {
    const done = optionalParam(queryParams(request.raw.url), 'done', 40);
    const { locale, path } = pageContextFor(request, ctx.config);
    const notice = done === undefined ? undefined : notices[done];
    return {
      productName: ctx.config.productName,
      locale,
      path,
      title: typeof title === 'string' ? t(locale, title) : title.name,
      section,
      username: session(request).account.username,
      csrfToken: reply.generateCsrf(),
      notice: notice === undefined ? undefined : t(locale, notice),
      error,
    };
  };
  /** Errors the user can fix are shown on the form they came from; the rest go to the error page. */
  const fixable = (error: unknown): error is OAuthError =>
    isOAuthError(error) && error.status >= 400 && error.status < 500 && error.code !== 'not_found';
  const clientForm = (request: FastifyRequest, values: ClientFormValues): ClientFormPageInput => {
    const { locale } = pageContextFor(request, ctx.config);
    const describe = (name: string): string | Html => {
      const key = `scope.${name}`;
      return hasMessage(key) ? t(locale, key) : ctx.scopes.describe(name);
    };
    return {
      values,
      scopes: ctx.scopes.names().map((name) => ({ name, description: describe(name) })),
      defaults: { accessTtl: ctx.config.accessTokenTtlSeconds, refreshTtl: ctx.config.refreshTokenTtlSeconds },
    };
  };
  const clientUrl = (id: string, rest = '') => `/admin/clients/${encodeURIComponent(id)}${rest}`;
  const userUrl = (sub: string, rest = '') => `/admin/users/${encodeURIComponent(sub)}${rest}`;
  const showSecretOnce = (reply: FastifyReply, clientId: string, secret: string) => {
    reply.setCookie(secretCookie, secret, {
      path: clientUrl(clientId, '/secret'),
      httpOnly: true,
      sameSite: 'strict',
      secure: ctx.config.issuer.startsWith('https:'),
      maxAge: 300,
    });
    return reply.redirect(clientUrl(clientId, '/secret'), 303);
  };
  const eventNames = async (): Promise<EventNames> => ({
    accounts: new Map((await ctx.storage.listAccounts()).map((account) => [account.id, account])),
    clients: new Map((await ctx.storage.listClients()).map((client) => [client.id, client])),
  });

  app.get('/admin/assets/admin.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(adminStylesheet),
  );
  app.get('/admin/openapi.json', async (_request, reply) => reply.header('cache-control', 'no-cache').send(adminOpenApiDocument(ctx.config.issuer)));
  app.register(async (api) => adminApiRoutes(api, ctx), { prefix: '/admin/api' });

  app.get('/admin', view, async (request, reply) => {
    const [clients, accounts, keys, recent] = await Promise.all([
      ctx.storage.listClients(),
      ctx.storage.listAccounts(),
      listSigningKeys(ctx),
      ctx.storage.listAuditEvents(10),
    ]);
    const overview = {
      clients: clients.length,
      users: accounts.length,
      disabledUsers: accounts.filter((account) => account.disabledAt !== null).length,
      activeKeys: keys.filter((key) => key.state === 'active').length,
      recent,
    };
    return reply.type(htmlType).send(overviewPage(frame(request, reply, 'overview', 'admin.overview.title'), overview, await eventNames()));
  });

  // Clients
  app.get('/admin/clients', view, async (request, reply) =>
    reply.type(htmlType).send(clientListPage(frame(request, reply, 'clients', 'admin.clients.title'), await ctx.storage.listClients())),
  );
  app.get('/admin/clients/new', view, async (request, reply) =>
    reply.type(htmlType).send(newClientPage(frame(request, reply, 'clients', 'admin.clients.register'), clientForm(request, newClientDefaults))),
  );
  app.post('/admin/clients', action, async (request, reply) => {
    const values = readClientForm(formParams(request));
    try {
      const { client, clientSecret } = await createClient(clientRegistrationFrom(values), actor(request), ctx);
      if (clientSecret === null) return reply.redirect(clientUrl(client.id, '?done=client_created'), 303);
      return showSecretOnce(reply, client.id, clientSecret);
    } catch (error) {
      if (!fixable(error)) throw error;
      return reply.code(error.status).type(htmlType).send(newClientPage(frame(request, reply, 'clients', 'admin.clients.register', error.description), clientForm(request, values)));
    }
  });
  type ClientParams = { Params: { clientId: string } };
  app.get<ClientParams>('/admin/clients/:clientId', view, async (request, reply) => {
    const client = await findClientOrFail(request.params.clientId, ctx);
    return reply.type(htmlType).send(clientPage(frame(request, reply, 'clients', { name: client.name }), client, clientForm(request, clientFormValues(client))));
  });
  app.post<ClientParams>('/admin/clients/:clientId', action, async (request, reply) => {
    const client = await findClientOrFail(request.params.clientId, ctx);
    const values = { ...readClientForm(formParams(request)), type: client.type };
    try {
      const { type: _type, ...changes } = clientRegistrationFrom(values);
      await updateClient(client.id, changes, actor(request), ctx);
      return reply.redirect(clientUrl(client.id, '?done=client_updated'), 303);
    } catch (error) {
      if (!fixable(error)) throw error;
      return reply.code(error.status).type(htmlType).send(clientPage(frame(request, reply, 'clients', { name: client.name }, error.description), client, clientForm(request, values)));
    }
  });
  app.post<ClientParams>('/admin/clients/:clientId/rotate-secret', action, async (request, reply) => {
    const secret = await rotateSecret(request.params.clientId, actor(request), ctx);
    return showSecretOnce(reply, request.params.clientId, secret);
  });
  app.get<ClientParams>('/admin/clients/:clientId/secret', view, async (request, reply) => {
    const client = await findClientOrFail(request.params.clientId, ctx);
    const cookie = request.cookies[secretCookie];
    // Only the current secret is shown: a cookie left from before a second rotation is not.
    const secret = cookie !== undefined && client.secretHash !== null && secretMatchesHash(cookie, client.secretHash) ? cookie : undefined;
    if (cookie !== undefined) reply.clearCookie(secretCookie, { path: clientUrl(client.id, '/secret') });
    return reply.type(htmlType).send(clientSecretPage(frame(request, reply, 'clients', { name: client.name }), client, secret));
  });
  app.post<ClientParams>('/admin/clients/:clientId/delete', action, async (request, reply) => {
    requireConfirmation(formParams(request), 'delete this client');
    await deleteClient(request.params.clientId, actor(request), ctx);
    return reply.redirect('/admin/clients?done=client_deleted', 303);
  });

  // Users
  app.get('/admin/users', view, async (request, reply) =>
    reply.type(htmlType).send(userListPage(frame(request, reply, 'users', 'admin.users.title'), await ctx.storage.listAccounts())),
  );
  app.get('/admin/users/new', view, async (request, reply) =>
    reply.type(htmlType).send(newUserPage(frame(request, reply, 'users', 'admin.users.create'), newUserDefaults)),
  );
  app.post('/admin/users', action, async (request, reply) => {
    const { values, password } = readUserForm(formParams(request));
    try {
      const account = await createUser(newAccountFrom(values, password), actor(request), ctx);
      return reply.redirect(userUrl(account.id, '?done=user_created'), 303);
    } catch (error) {
      if (!fixable(error)) throw error;
      return reply.code(error.status).type(htmlType).send(newUserPage(frame(request, reply, 'users', 'admin.users.create', error.description), values));
    }
  });
  type UserParams = { Params: { sub: string } };
  const showUser = async (request: FastifyRequest<UserParams>, reply: FastifyReply, error?: string) => {
    const account = await findAccountOrFail(request.params.sub, ctx);
    const apps = await authorizedApps(account.id, ctx);
    const isSelf = account.id === session(request).account.id;
    return reply.type(htmlType).send(userPage(frame(request, reply, 'users', { name: account.username }, error), account, apps, isSelf));
  };
  app.get<UserParams>('/admin/users/:sub', view, (request, reply) => showUser(request, reply));
  app.post<UserParams>('/admin/users/:sub/disable', action, async (request, reply) => {
    await disableUser(request.params.sub, actor(request), ctx);
    return reply.redirect(userUrl(request.params.sub, '?done=user_disabled'), 303);
  });
  app.post<UserParams>('/admin/users/:sub/enable', action, async (request, reply) => {
    await enableUser(request.params.sub, actor(request), ctx);
    return reply.redirect(userUrl(request.params.sub, '?done=user_enabled'), 303);
  });
  app.post<UserParams>('/admin/users/:sub/reset-password', action, async (request, reply) => {
    const password = optionalParam(formParams(request), 'password', 1024) ?? '';
    try {
      await resetPassword(request.params.sub, password, actor(request), ctx);
      return reply.redirect(userUrl(request.params.sub, '?done=user_password_reset'), 303);
    } catch (error) {
      if (!fixable(error)) throw error;
      reply.code(error.status);
      return showUser(request, reply, error.description);
    }
  });
  app.post<UserParams>('/admin/users/:sub/admin', action, async (request, reply) => {
    const value = optionalParam(formParams(request), 'admin', 10);
    if (value !== 'yes' && value !== 'no') throw new OAuthError('invalid_request', '"admin" must be yes or no');
    await setAdmin(request.params.sub, value === 'yes', actor(request), ctx);
    return reply.redirect(userUrl(request.params.sub, '?done=user_updated'), 303);
  });
  app.post<UserParams>('/admin/users/:sub/delete', action, async (request, reply) => {
    requireConfirmation(formParams(request), 'delete this user');
    await deleteUser(request.params.sub, actor(request), ctx);
    return reply.redirect('/admin/users?done=user_deleted', 303);
  });

  // Signing keys
  app.get('/admin/keys', view, async (request, reply) =>
    reply.type(htmlType).send(keysPage(frame(request, reply, 'keys', 'admin.keys.title'), await listSigningKeys(ctx), ctx.clock.now())),
  );
  app.post('/admin/keys/rotate', action, async (request, reply) => {
    await rotateKeys(actor(request), ctx);
    return reply.redirect('/admin/keys?done=keys_rotated', 303);
  });

  // The audit trail
  const eventLimit = 200;
  app.get('/admin/events', view, async (request, reply) =>
    reply
      .type(htmlType)
      .send(eventsPage(frame(request, reply, 'events', 'admin.events.title'), await ctx.storage.listAuditEvents(eventLimit), await eventNames(), eventLimit)),
  );
}
