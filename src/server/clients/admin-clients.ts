import { OAuthError } from '../../shared/oauth-error.ts';
import { formatScope } from '../../shared/scope.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import { recordAuditEvent } from '../operations/audit-trail.ts';
import {
  registerClient,
  rotateClientSecret,
  updateClientRegistration,
  type ClientChanges,
  type ClientRegistration,
  type RegisteredClient,
} from './register-client.ts';
import type { ServerContext } from '../context.ts';
import type { AdminActor } from '../admin/admin-actor.ts';

/*
 * What an administrator does to clients. Each action and its audit record are written in one
 * transaction: an action is never done without the trail saying who did it.
 */

export async function findClientOrFail(clientId: string, ctx: ServerContext): Promise<ClientRecord> {
  const client = await ctx.storage.findClient(clientId);
  if (client === undefined) throw new OAuthError('not_found', `no client with ID "${clientId}"`);
  return client;
}

/** Registers a client; the secret in the result exists nowhere else and must be shown once. */
export function createClient(input: ClientRegistration, by: AdminActor, ctx: ServerContext): Promise<RegisteredClient> {
  return ctx.storage.transaction(async (storage) => {
    const registered = await registerClient(input, { ...ctx, storage });
    const { client } = registered;
    await recordAuditEvent(
      {
        actor: by.id,
        action: 'client_created',
        subject: `client:${client.id}`,
        detail: { client_name: client.name, client_type: client.type, scope: formatScope(client.scopes), grant_types: client.grantTypes },
        ip: by.ip,
      },
      storage,
      ctx.clock,
    );
    return registered;
  });
}

/** Fields of the registration, as the audit trail names what changed. */
const recordedFields = {
  name: 'client_name',
  redirectUris: 'redirect_uris',
  grantTypes: 'grant_types',
  scopes: 'scope',
  accessTokenTtlSeconds: 'access_token_ttl',
  refreshTokenTtlSeconds: 'refresh_token_ttl',
  accessTokenFormat: 'access_token_format',
  resources: 'resources',
  tokenEndpointAuthMethod: 'token_endpoint_auth_method',
  consentPolicy: 'consent_policy',
  canIntrospect: 'can_introspect',
  servedResources: 'served_resources',
} as const satisfies Partial<Record<keyof ClientRecord, string>>;

export function updateClient(clientId: string, changes: ClientChanges, by: AdminActor, ctx: ServerContext): Promise<ClientRecord> {
  return ctx.storage.transaction(async (storage) => {
    const { before, after } = await updateClientRegistration(clientId, changes, { ...ctx, storage });
    const changed = Object.entries(recordedFields)
      .filter(([field]) => JSON.stringify(before[field as keyof ClientRecord]) !== JSON.stringify(after[field as keyof ClientRecord]))
      .map(([, name]) => name);
    await recordAuditEvent(
      { actor: by.id, action: 'client_updated', subject: `client:${clientId}`, detail: { client_name: after.name, changed }, ip: by.ip },
      storage,
      ctx.clock,
    );
    return after;
  });
}

/** Issues a new secret; the old one stops working at once. Returns the new secret, to be shown once. */
export function rotateSecret(clientId: string, by: AdminActor, ctx: ServerContext): Promise<string> {
  return ctx.storage.transaction(async (storage) => {
    const secret = await rotateClientSecret(clientId, { ...ctx, storage });
    await recordAuditEvent({ actor: by.id, action: 'client_secret_rotated', subject: `client:${clientId}`, ip: by.ip }, storage, ctx.clock);
    return secret;
  });
}

/** Deletes the client with its codes, tokens and users' consents. */
export function deleteClient(clientId: string, by: AdminActor, ctx: ServerContext): Promise<ClientRecord> {
  return ctx.storage.transaction(async (storage) => {
    const client = await findClientOrFail(clientId, { ...ctx, storage });
    await storage.deleteClient(clientId);
    await recordAuditEvent(
      { actor: by.id, action: 'client_deleted', subject: `client:${clientId}`, detail: { client_name: client.name }, ip: by.ip },
      storage,
      ctx.clock,
    );
    return client;
  });
}
