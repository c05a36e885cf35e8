import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  Accounts,
  beginSignIn,
  completeSignIn,
  openTransaction,
  ReauthenticationRequired,
  sealTransaction,
  type Provider,
  type TokenVault,
} from '../src/client/index.ts';
import { isOAuthError } from '../src/shared/oauth-error.ts';
import { html, type Html } from '../src/server/pages/html.ts';

export interface MineAppOptions {
  /** Public base URL of this app, e.g. http://127.0.0.1:3000. */
  baseUrl: string;
  /** Providers by id; `gatehouse` first. Buttons for others appear only when configured. */
  providers: Provider[];
  /** Providers known but not configured (no credentials in the environment): shown disabled. */
  unconfigured: { id: string; displayName: string; envHint: string }[];
  vault: TokenVault;
  /** The calendar API (for the Gatehouse provider's tokens). */
  calendarUrl: string;
  /** Signs the session and sign-in cookies; at least 32 characters. */
  cookieSecret: string;
}

/**
 * "Mine", the seed's own service: "Sign in with …" buttons, the callback that trades the code,
 * the vault that keeps each user's tokens, and pages that call the calendar API with them.
 */
export async function buildMineApp(options: MineAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(cookie, { secret: options.cookieSecret });
  await app.register(formbody);
  const accounts = new Accounts(options.vault.database);
  const providers = new Map(options.providers.map((provider) => [provider.id, provider]));
  const secure = options.baseUrl.startsWith('https:');
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure, signed: true };

  const currentUser = (request: FastifyRequest): string | undefined => {
    const raw = request.cookies.mine_session;
    if (raw === undefined) return undefined;
    const unsigned = request.unsignCookie(raw);
    return unsigned.valid && unsigned.value !== null ? unsigned.value : undefined;
  };

  app.get('/', async (request, reply) => {
    const userId = currentUser(request);
    if (userId === undefined) return page(reply, 'Mine', signInButtons(options));
    const name = (await accounts.displayName(userId)) ?? 'you';
    const links = await accounts.links(userId);
    let events: Html = html`<p class="muted">Sign in with Gatehouse to see your calendar.</p>`;
    if (links.some((link) => link.provider === 'gatehouse')) events = await calendarSection(userId);
    // After the calendar call, so the status shows the refresh that call may just have made.
    const token = await options.vault.describe(userId, 'gatehouse');
    return page(
      reply,
      'Mine',
      html`<h1>Hello, ${name}</h1>
<p>Linked accounts: ${links.map((link, i) => html`${i > 0 && ', '}<strong>${link.provider}</strong>${link.needsReauthentication && ' (sign in again)'}`)}</p>
${token &&
html`<p class="muted" id="token-status">Gatehouse token: scopes <code>${token.scopes.join(' ')}</code>; expires ${token.expiresAt === null ? 'never' : new Date(token.expiresAt).toISOString()};
refreshed <span id="refresh-count">${token.refreshCount}</span> time(s), last written ${new Date(token.updatedAt).toISOString()}.</p>`}
${events}
${signInButtons(options, 'Link another account')}
<form method="post" action="/signout"><button type="submit">Sign out</button></form>`,
    );
  });

  async function calendarSection(userId: string): Promise<Html> {
    try {
      const response = await options.vault.fetch(userId, 'gatehouse', `${options.calendarUrl}/events`);
      if (!response.ok) return html`<p class="error">The calendar API answered ${response.status}.</p>`;
      const { events } = (await response.json()) as { events: { title: string; startsAt: string }[] };
      return html`<h2>Your calendar</h2>
<ul id="events">${events.map((event) => html`<li>${event.startsAt.slice(0, 16).replace('T', ' ')} — ${event.title}</li>`)}</ul>
${events.length === 0 && html`<p class="muted" id="no-events">No events yet.</p>`}
<form method="post" action="/events">
<label for="title">Title</label><input id="title" name="title" required maxlength="200">
<label for="startsAt">Starts</label><input id="startsAt" name="startsAt" type="datetime-local" required>
<button type="submit">Add event</button>
</form>`;
    } catch (error) {
      if (error instanceof ReauthenticationRequired) return html`<p class="error">Your Gatehouse sign-in has expired. <a href="/signin/gatehouse">Sign in again</a>.</p>`;
      throw error;
    }
  }

  app.get<{ Params: { provider: string } }>('/signin/:provider', async (request, reply) => {
    const provider = providers.get(request.params.provider);
    if (provider === undefined) return page(reply.code(404), 'Unknown provider', html`<p>There is no provider "${request.params.provider}" here.</p>`);
    const scopes =
      provider.id === 'gatehouse' ? ['openid', 'profile', 'email', 'offline_access', 'calendar.read', 'calendar.write'] : provider.defaultScopes;
    const { url, transaction } = beginSignIn(provider, `${options.baseUrl}/callback/${provider.id}`, scopes);
    reply.setCookie('mine_signin', sealTransaction(transaction, options.cookieSecret), { path: '/callback', httpOnly: true, sameSite: 'lax', secure, maxAge: 600 });
    return reply.redirect(provider.id === 'gatehouse' ? `${url}&resource=${encodeURIComponent(options.calendarUrl)}` : url, 302);
  });

  app.get<{ Params: { provider: string } }>('/callback/:provider', async (request, reply) => {
    const provider = providers.get(request.params.provider);
    if (provider === undefined) return page(reply.code(404), 'Unknown provider', html`<p>Unknown provider.</p>`);
    try {
      const transaction = openTransaction(request.cookies.mine_signin, options.cookieSecret);
      const { profile, tokens } = await completeSignIn(provider, new URL(request.url, options.baseUrl), transaction);
      const { userId } = await accounts.signIn(provider.id, profile, currentUser(request));
      await options.vault.store(userId, provider.id, tokens);
      reply.clearCookie('mine_signin', { path: '/callback' });
      reply.setCookie('mine_session', userId, cookieOptions);
      return reply.redirect('/', 303);
    } catch (error) {
      if (!isOAuthError(error)) throw error;
      return page(reply.code(400), 'Sign-in failed', html`<p class="error">Sign-in with ${provider.displayName} failed: ${error.description}</p><p><a href="/">Back</a></p>`);
    }
  });

  app.post<{ Body: { title?: string; startsAt?: string } }>('/events', async (request, reply) => {
    const userId = currentUser(request);
    if (userId === undefined || !sameOrigin(request, options.baseUrl)) return reply.redirect('/', 303);
    const startsAt = request.body.startsAt === undefined ? '' : new Date(request.body.startsAt).toISOString();
    const response = await options.vault.fetch(userId, 'gatehouse', `${options.calendarUrl}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: request.body.title, startsAt }),
    });
    if (!response.ok) return page(reply.code(400), 'Could not add the event', html`<p class="error">The calendar API answered ${response.status}.</p><p><a href="/">Back</a></p>`);
    return reply.redirect('/', 303);
  });

  app.post('/signout', async (request, reply) => {
    if (sameOrigin(request, options.baseUrl)) reply.clearCookie('mine_session', { path: '/' });
    return reply.redirect('/', 303);
  });

  return app;
}

/** Browsers send `Origin` on POST; a cross-site form (CSRF) has another one. */
function sameOrigin(request: FastifyRequest, baseUrl: string): boolean {
  const origin = request.headers.origin;
  return origin === undefined || origin === new URL(baseUrl).origin;
}

function signInButtons(options: MineAppOptions, heading = 'Sign in'): Html {
  return html`<h2>${heading}</h2>
<ul class="providers">
${options.providers.map((provider) => html`<li><a class="button" href="/signin/${provider.id}">Sign in with ${provider.displayName}</a></li>`)}
${options.unconfigured.map((provider) => html`<li><span class="button disabled" title="Set ${provider.envHint}">Sign in with ${provider.displayName}</span></li>`)}
</ul>`;
}

function page(reply: FastifyReply, title: string, body: Html): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(
    html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}.button{display:inline-block;padding:.5rem 1rem;border:1px solid #1d4ed8;border-radius:.375rem;color:#1d4ed8;text-decoration:none;margin:.25rem 0}.disabled{opacity:.5}.muted{color:#4b5563}.error{color:#991b1b}label{display:block;margin-top:.5rem}ul.providers{list-style:none;padding:0}</style>
</head><body><p><strong>Mine</strong> — the seed's own service</p>${body}</body></html>`.value,
  );
}
