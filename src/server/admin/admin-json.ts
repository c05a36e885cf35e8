import { formatScope } from '../../shared/scope.ts';
import type { AccountRecord, AuditEventRecord, ClientRecord, GrantRecord, SigningKeyRecord } from '../../storage/storage.ts';

/**
 * The admin API's representations of stored records. Field names follow RFC 7591 client metadata
 * where one exists; times are ISO 8601 strings; secrets and their hashes never appear.
 */

function iso(time: number | null): string | null {
  return time === null ? null : new Date(time).toISOString();
}

export function clientJson(client: ClientRecord) {
  return {
    client_id: client.id,
    client_name: client.name,
    client_type: client.type,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    scope: formatScope(client.scopes),
    access_token_ttl: client.accessTokenTtlSeconds,
    refresh_token_ttl: client.refreshTokenTtlSeconds,
    access_token_format: client.accessTokenFormat,
    resources: client.resources,
    consent_policy: client.consentPolicy,
    can_introspect: client.canIntrospect,
    served_resources: client.servedResources,
    created_at: iso(client.createdAt),
  };
}

export function accountJson(account: AccountRecord) {
  return {
    sub: account.id,
    username: account.username,
    name: account.name,
    email: account.email,
    email_verified: account.emailVerified,
    admin: account.isAdmin,
    disabled: account.disabledAt !== null,
    disabled_at: iso(account.disabledAt),
    created_at: iso(account.createdAt),
  };
}

/** A key's state as an operator sees it: signing, retired but still published, or no longer published. */
export type KeyStatus = 'active' | 'retired' | 'expired';

export function keyStatus(key: SigningKeyRecord, now: number): KeyStatus {
  if (key.state === 'active') return 'active';
  return (key.publishUntil ?? 0) > now ? 'retired' : 'expired';
}

export function keyJson(key: SigningKeyRecord, now: number) {
  const status = keyStatus(key, now);
  return {
    kid: key.kid,
    alg: key.alg,
    state: status,
    published: status !== 'expired',
    created_at: iso(key.createdAt),
    retired_at: iso(key.retiredAt),
    published_until: iso(key.publishUntil),
  };
}

export function grantJson(grant: GrantRecord, client: ClientRecord | undefined) {
  return {
    client_id: grant.clientId,
    client_name: client?.name ?? null,
    scope: formatScope(grant.scopes),
    created_at: iso(grant.createdAt),
    updated_at: iso(grant.updatedAt),
    last_used_at: iso(grant.lastUsedAt),
  };
}

export function eventJson(event: AuditEventRecord) {
  return {
    id: event.id,
    at: iso(event.at),
    actor: event.actor,
    action: event.action,
    subject: event.subject,
    detail: event.detail,
    ip: event.ip,
  };
}
