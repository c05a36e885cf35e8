import { formatScope } from '../../shared/scope.ts';
import type { AccessTokenRecord, ClientRecord, RefreshTokenRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { hashSecret } from '../keys/opaque-secret.ts';
import { accessTokenAudience } from './access-token.ts';

export type TokenTypeHint = 'access_token' | 'refresh_token';

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      sub: string;
      exp: number;
      iat: number;
      token_type: string;
      aud: string | string[];
      iss: string;
    };

/**
 * RFC 7662 §2.2: what a token is, for an authenticated client. Unknown, expired and revoked
 * tokens — a refresh token already rotated, and a token the caller may not see — are all just
 * `active: false`, so the answer reveals nothing about why. The hint only chooses where to look
 * first (§2.1).
 *
 * Who may see what (RFC 7662 §4: the server decides, and must not describe a token to just any
 * client that can authenticate):
 * - a client sees its own tokens;
 * - a refresh token is only ever presented back to this server by its own client, so no other
 *   client needs to see it;
 * - another client's access token only a client registered with `canIntrospect` (a resource
 *   server), and one with an audience only a caller that serves one of its audiences.
 */
export async function introspect(
  token: string,
  hint: string | undefined,
  caller: ClientRecord,
  ctx: ServerContext,
): Promise<IntrospectionResponse> {
  const hash = hashSecret(token);
  const lookups = [() => findAccess(hash, caller, ctx), () => findRefresh(hash, caller, ctx)];
  if (hint === 'refresh_token') lookups.reverse();
  for (const lookup of lookups) {
    const found = await lookup();
    if (found !== undefined) return found;
  }
  return { active: false };
}

async function findAccess(hash: string, caller: ClientRecord, ctx: ServerContext): Promise<IntrospectionResponse | undefined> {
  const record = await ctx.storage.findAccessToken(hash);
  if (record === undefined) return undefined;
  if (!maySeeAccessToken(caller, record) || !(await isLive(record, ctx))) return { active: false };
  return describe(record, 'Bearer', accessTokenAudience(record.audience, ctx), ctx);
}

async function findRefresh(hash: string, caller: ClientRecord, ctx: ServerContext): Promise<IntrospectionResponse | undefined> {
  const record = await ctx.storage.findRefreshToken(hash);
  if (record === undefined) return undefined;
  if (record.rotatedAt !== null || record.clientId !== caller.id || !(await isLive(record, ctx))) return { active: false };
  // A refresh token is only ever presented back to this server, by the client it was issued to.
  return describe(record, 'refresh_token', record.clientId, ctx);
}

function maySeeAccessToken(caller: ClientRecord, record: AccessTokenRecord): boolean {
  if (record.clientId === caller.id) return true;
  if (!caller.canIntrospect) return false;
  return record.audience === null || record.audience.some((resource) => caller.servedResources.includes(resource));
}

/**
 * Not revoked, not expired, and, for a user's token, the user not disabled: disabling revokes
 * the account's tokens, and this also stops one issued by a request that raced it.
 */
async function isLive(record: AccessTokenRecord | RefreshTokenRecord, ctx: ServerContext): Promise<boolean> {
  if (record.revokedAt !== null || record.expiresAt <= ctx.clock.now()) return false;
  if (record.accountId === null) return true;
  const account = await ctx.storage.findAccount(record.accountId);
  return account !== undefined && account.disabledAt === null;
}

function describe(record: AccessTokenRecord | RefreshTokenRecord, tokenType: string, aud: string | string[], ctx: ServerContext): IntrospectionResponse {
  return {
    active: true,
    scope: formatScope(record.scopes),
    client_id: record.clientId,
    sub: record.accountId ?? record.clientId,
    exp: Math.floor(record.expiresAt / 1000),
    iat: Math.floor(record.createdAt / 1000),
    token_type: tokenType,
    aud,
    iss: ctx.config.issuer,
  };
}

/** Introspection is for clients that can authenticate: resource servers, not public apps. */
export function mayIntrospect(client: ClientRecord): boolean {
  return client.type === 'confidential';
}
