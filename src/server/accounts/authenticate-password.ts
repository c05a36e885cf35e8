import type { AccountRecord } from '../../storage/storage.ts';
import { decoyPasswordHash, verifyPassword } from './password.ts';
import type { ServerContext } from '../context.ts';

/**
 * Checks a username and password. An unknown username costs the same password verification as
 * a known one, so timing does not tell which accounts exist.
 */
export async function authenticatePassword(
  username: string,
  password: string,
  ctx: ServerContext,
): Promise<AccountRecord | undefined> {
  const account = await ctx.storage.findAccountByUsername(username);
  const valid = await verifyPassword(password, account?.passwordHash ?? (await decoyPasswordHash()));
  // A disabled account cannot log in, whatever the password.
  return account !== undefined && valid && account.disabledAt === null ? account : undefined;
}
