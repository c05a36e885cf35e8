import type { SigningKeyRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';

/**
 * Rotates the signing keys. Old keys stay published until everything they could have signed has
 * expired: the longest of the ID token lifetime and every access token lifetime in force (a JWT
 * access token of a client with a long lifetime must keep verifying).
 */
export async function rotateSigningKeys(ctx: ServerContext): Promise<SigningKeyRecord[]> {
  const clients = await ctx.storage.listClients();
  const publishSeconds = Math.max(
    ctx.config.idTokenTtlSeconds,
    ctx.config.accessTokenTtlSeconds,
    ...clients.map((client) => client.accessTokenTtlSeconds ?? 0),
  );
  return ctx.keys.rotate(publishSeconds);
}
