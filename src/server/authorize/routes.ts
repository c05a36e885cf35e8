import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError, isOAuthError } from '../../shared/oauth-error.ts';
import { grantedScopes, hasConsent, mayRememberConsent, rememberConsent } from './remembered-consent.ts';
import type { ServerContext } from '../context.ts';
import { formParams } from '../http/form-body.ts';
import { optionalParam, queryParams, repeatableParam, serializeParams, type Params } from '../http/params.ts';
import { readSessionCookie } from '../login/session-cookie.ts';
import { findActiveSession, type ActiveSession } from '../login/sessions.ts';
import { recordAuditEvent } from '../operations/audit-trail.ts';
import { consentPage } from './consent-page.ts';
import { pageContextFor } from '../pages/page-context.ts';
import {
  resolveTrustedRedirect,
  validateAuthorizationRequest,
  type AuthorizationRequest,
  type TrustedRedirect,
} from './authorization-request.ts';
import { errorRedirect, successRedirect } from './authorization-response.ts';
import { issueAuthorizationCode } from './issue-code.ts';
import { verifyIdTokenHint } from '../oidc/id-token-hint.ts';

/**
 * `prompt=login` must make the user log in again (Core §3.1.2.1). The request travels through
 * the login form as parameters, so the login step replaces `prompt=login` with this marker: the
 * time after which the user must have logged in. A client that sets it itself gains nothing.
 */
const loginAfterParameter = 'gatehouse_login_after';

/** The parameters of RFC 6749 §4.1.1 and RFC 7636 §4.3 that an authorization request carries. */
const authorizationParameterNames = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  // OpenID Connect Core §3.1.2.1 and RFC 8707
  'nonce',
  'prompt',
  'max_age',
  'response_mode',
  'id_token_hint',
  'login_hint',
  'ui_locales',
  'display',
  'acr_values',
  'claims',
  'request',
  'request_uri',
  'resource',
  loginAfterParameter,
] as const;

export function authorizeRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const page = { config: { errorFormat: 'page' as const } };

  // RFC 6749 §3.1: GET must be supported, POST may be.
  app.get('/authorize', page, (request, reply) => authorize(queryParams(request.raw.url), request, reply, 302));
  app.post('/authorize', page, (request, reply) => authorize(formParams(request), request, reply, 303));

  app.post('/authorize/decision', { ...page, preHandler: app.csrfProtection }, async (request, reply) => {
    const params = formParams(request);
    const decision = optionalParam(params, 'decision', 10);
    const trusted = await trust(params);
    try {
      const authorization = validate(trusted, params);
      const active = await findActiveSession(readSessionCookie(request), ctx);
      if (active === undefined) throw new OAuthError('access_denied', 'the login session ended before consent was given');
      if (decision !== 'allow') throw new OAuthError('access_denied', 'the user denied the request');
      await rememberConsent(active.account.id, authorization.client.id, authorization.scopes, ctx);
      await recordAuditEvent(
        {
          actor: `account:${active.account.id}`,
          action: 'consent',
          subject: `client:${authorization.client.id}`,
          detail: { scopes: authorization.scopes },
          ip: request.ip,
        },
        ctx.storage,
        ctx.clock,
      );
      return await redirectWithCode(authorization, active, reply, 303);
    } catch (error) {
      return redirectWithError(trusted, error, reply, 303);
    }
  });

  async function authorize(params: Params, request: FastifyRequest, reply: FastifyReply, status: 302 | 303) {
    const trusted = await trust(params);
    try {
      const authorization = validate(trusted, params);
      const active = await findActiveSession(readSessionCookie(request), ctx);
      if (await needsLogin(authorization, active, params)) {
        if (authorization.prompt.has('none')) throw new OAuthError('login_required', 'the user is not logged in (prompt=none)');
        return reply.redirect(loginRedirect(params, ctx.clock.now()), status);
      }
      const { account } = active!;
      const remembered = await hasConsent(account.id, authorization.client.id, authorization.scopes, ctx);
      const remembers = mayRememberConsent(authorization.client, authorization.redirectUri, authorization.scopes);
      if (remembered && remembers && !authorization.prompt.has('consent')) {
        return await redirectWithCode(authorization, active!, reply, status);
      }
      if (authorization.prompt.has('none')) {
        throw new OAuthError(
          'consent_required',
          remembered ? 'this client asks the user for consent every time (its consent policy), which prompt=none forbids' : 'the user has not consented to these scopes (prompt=none)',
        );
      }
      const granted = await grantedScopes(account.id, authorization.client.id, ctx);
      const page = pageContextFor(request, ctx.config);
      return reply.type('text/html; charset=utf-8').send(
        consentPage({
          csrfToken: reply.generateCsrf(),
          clientName: authorization.client.name,
          username: account.username,
          scopes: authorization.scopes.map((name) => ({
            name,
            description: ctx.scopes.describe(name, page.locale),
            alreadyGranted: granted.includes(name),
          })),
          hiddenParams: [...pick(params)].flatMap(([name, values]) => values.map((value): [string, string] => [name, value])),
        }, page),
      );
    } catch (error) {
      return redirectWithError(trusted, error, reply, status);
    }
  }

  /**
   * Whether the user must (re-)authenticate first: no session; `prompt=login` not yet honoured;
   * a session older than `max_age`; or a session of another user than `id_token_hint` names.
   */
  async function needsLogin(authorization: AuthorizationRequest, active: ActiveSession | undefined, params: Params): Promise<boolean> {
    const hint = optionalParam(params, 'id_token_hint', 8192);
    const hintedSub = hint === undefined ? undefined : await verifyIdTokenHint(hint, authorization.client.id, ctx);
    if (active === undefined) return true;
    const { authTime } = active.session;
    // `select_account` shows the login form too: it is where the user picks which account to use.
    if (authorization.prompt.has('login') || authorization.prompt.has('select_account')) return true;
    const loginAfter = Number(optionalParam(params, loginAfterParameter, 20) ?? 0);
    if (authTime < loginAfter) return true;
    // Core §3.1.2.1: "max_age=0 is equivalent to prompt=login", even for a session of this instant.
    const { maxAge } = authorization;
    if (maxAge !== undefined && (maxAge === 0 || authTime + maxAge * 1000 < ctx.clock.now())) return true;
    return hintedSub !== undefined && hintedSub !== active.account.id;
  }

  /** Errors before the client and redirect URI are trusted propagate to the page error handler. */
  function trust(params: Params): Promise<TrustedRedirect> {
    const max = ctx.config.maxParameterLength;
    return resolveTrustedRedirect(
      {
        clientId: optionalParam(params, 'client_id', 256),
        redirectUri: optionalParam(params, 'redirect_uri', max),
        state: readState(params),
      },
      ctx,
    );
  }

  function validate(trusted: TrustedRedirect, params: Params): AuthorizationRequest {
    const max = ctx.config.maxParameterLength;
    optionalParam(params, 'state', max);
    for (const name of ['login_hint', 'ui_locales', 'display', 'acr_values']) optionalParam(params, name, max);
    return validateAuthorizationRequest(
      trusted,
      {
        responseType: optionalParam(params, 'response_type', 64),
        scope: optionalParam(params, 'scope', max),
        codeChallenge: optionalParam(params, 'code_challenge', 128),
        codeChallengeMethod: optionalParam(params, 'code_challenge_method', 16),
        nonce: optionalParam(params, 'nonce', 512),
        prompt: optionalParam(params, 'prompt', 100),
        maxAge: optionalParam(params, 'max_age', 20),
        responseMode: optionalParam(params, 'response_mode', 32),
        claims: optionalParam(params, 'claims', max),
        request: optionalParam(params, 'request', max),
        requestUri: optionalParam(params, 'request_uri', max),
        resources: repeatableParam(params, 'resource', max),
      },
      ctx,
    );
  }

  /** `state` is echoed in error redirects too, so it is read leniently here and checked in `validate`. */
  function readState(params: Params): string | undefined {
    const values = params.get('state');
    return values?.length === 1 && values[0] !== '' && values[0]!.length <= ctx.config.maxParameterLength ? values[0] : undefined;
  }

  async function redirectWithCode(authorization: AuthorizationRequest, active: ActiveSession, reply: FastifyReply, status: 302 | 303) {
    const code = await issueAuthorizationCode(authorization, active.account.id, active.session.authTime, ctx);
    return reply.header('cache-control', 'no-store').redirect(successRedirect(authorization, code, ctx.config.issuer), status);
  }

  function redirectWithError(trusted: TrustedRedirect, error: unknown, reply: FastifyReply, status: 302 | 303) {
    if (!isOAuthError(error) || error.code === 'server_error') throw error;
    return reply.redirect(errorRedirect(trusted, error, ctx.config.issuer), status);
  }
}

/**
 * Where to send a browser that must log in: the login form, returning to this same request
 * afterwards, with `prompt=login` (or `select_account`) replaced by the time the new login must
 * come after.
 */
function loginRedirect(params: Params, now: number): string {
  const returnParams = pick(params);
  const prompt = params.get('prompt')?.[0]?.split(' ').filter((value) => value !== '') ?? [];
  // `max_age` is replaced by the same marker: checked again on return, it would send the user
  // back to the form whenever the redirect takes longer than max_age (max_age=0: always).
  if (prompt.includes('login') || prompt.includes('select_account') || returnParams.has('max_age')) {
    const rest = prompt.filter((value) => value !== 'login' && value !== 'select_account');
    if (rest.length > 0) returnParams.set('prompt', [rest.join(' ')]);
    else returnParams.delete('prompt');
    returnParams.delete('max_age');
    returnParams.set(loginAfterParameter, [String(now)]);
  }
  const query = new URLSearchParams({ return_to: `/authorize?${serializeParams(returnParams)}` });
  const loginHint = params.get('login_hint')?.[0];
  if (loginHint !== undefined && loginHint !== '') query.set('login_hint', loginHint);
  return `/login?${query}`;
}

/** Only the authorization parameters travel through login and consent; anything else is dropped. */
function pick(params: Params): Params {
  const picked: Params = new Map();
  for (const name of authorizationParameterNames) {
    const values = params.get(name);
    if (values !== undefined) picked.set(name, values);
  }
  return picked;
}
