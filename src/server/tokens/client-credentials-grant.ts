import { OAuthError } from '../../shared/oauth-error.ts';
import { formatScope, isSubset, parseScope } from '../../shared/scope.ts';
import type { ClientRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { generateTimeOrderedIdentifier } from '../keys/opaque-secret.ts';
import { issueTokens, premintAccessToken, type TokenGrant, type TokenResponse } from './issue-tokens.ts';
import { narrowResources } from './resource-indicators.ts';

export interface ClientCredentialsInput {
  scope: string | undefined;
  resources: string[] | undefined;
}

/** Scopes that describe a user, meaningless when a client acts for itself. */
const userScopes = new Set(['openid', 'profile', 'email', 'offline_access']);

/**
 * RFC 6749 §4.4: a confidential client obtains a token for itself. No refresh token (§4.4.3:
 * it can always authenticate again) and the token's subject is the client.
 */
export async function exchangeClientCredentials(input: ClientCredentialsInput, client: ClientRecord, ctx: ServerContext): Promise<TokenResponse> {
  // RFC 6749 §4.4: only confidential clients may use this grant.
  if (client.type !== 'confidential') throw new OAuthError('unauthorized_client', 'a public client cannot use client_credentials');
  const machineScopes = client.scopes.filter((scope) => !userScopes.has(scope));
  const scopes = input.scope === undefined ? machineScopes : parseScope(input.scope);
  if (!isSubset(scopes, machineScopes)) {
    const extra = scopes.filter((scope) => !machineScopes.includes(scope));
    throw new OAuthError('invalid_scope', `client_credentials cannot grant "${formatScope(extra)}" to this client`);
  }
  // RFC 6749 §3.3: with no usable default, fail rather than issue a token that grants nothing.
  if (scopes.length === 0) {
    throw new OAuthError('invalid_scope', 'this client is registered for no scope it can hold for itself (only user scopes such as profile)');
  }
  const audience = narrowResources(input.resources, client.resources, null);
  const grant: TokenGrant = {
    client,
    accountId: null,
    familyId: generateTimeOrderedIdentifier(),
    scopes,
    grantedScopes: scopes,
    audience,
    grantedResources: audience,
    authTime: null,
    nonce: null,
    // A client's own token descends from no user's consent.
    lineage: null,
  };
  // Nothing read in the transaction changes the token, so a JWT is signed before it, on the signing
  // thread: another core does the signature, and the transaction only stores the token's key.
  const minted = await premintAccessToken(grant, ctx.storage, ctx, 'signing-threads');
  // With its token minted, a client's own grant is one write (issueTokens stores no refresh or ID
  // token without a user): alone, it is its own transaction.
  return (await issueTokens(grant, ctx.storage, ctx, minted)).response;
}
