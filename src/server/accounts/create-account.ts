import { randomUUID } from 'node:crypto';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { AccountRecord } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import { hashPassword } from './password.ts';

export interface NewAccount {
  username: string;
  password: string;
  name?: string | null;
  email?: string | null;
  /** May use the admin console and admin API. */
  isAdmin?: boolean;
}

/** Usernames are what people type at the login form: short, printable, no spaces. */
const usernamePattern = /^[\p{L}\p{N}._@+-]{1,64}$/u;

export async function createAccount(input: NewAccount, ctx: ServerContext): Promise<AccountRecord> {
  if (!usernamePattern.test(input.username)) {
    throw new OAuthError(
      'invalid_request',
      'username must be 1–64 letters, digits or . _ @ + - (no spaces)',
    );
  }
  const email = input.email ?? null;
  if (email !== null && !/^[^\s@]+@[^\s@]+$/.test(email)) {
    throw new OAuthError('invalid_request', `"${email}" is not an email address`);
  }
  // Compared by key (storage/username-key.ts): `Alice`, `ａｌｉｃｅ` or a Cyrillic `аlice` would be
  // taken for `alice` by whoever reads them, so each is refused once `alice` exists.
  const existing = await ctx.storage.findAccountByUsername(input.username);
  if (existing !== undefined) {
    const same = existing.username === input.username;
    throw new OAuthError('conflict', `username "${input.username}" is already taken${same ? '' : `: it reads the same as "${existing.username}"`}`);
  }
  if (input.password.length < 8 || input.password.length > 1024) {
    throw new OAuthError('invalid_request', 'password must be 8–1024 characters');
  }
  const account: AccountRecord = {
    id: randomUUID(),
    username: input.username,
    passwordHash: await hashPassword(input.password),
    name: input.name ?? null,
    email,
    emailVerified: false,
    isAdmin: input.isAdmin ?? false,
    disabledAt: null,
    createdAt: ctx.clock.now(),
  };
  // The storage also refuses a duplicate, for two creations racing past the check above.
  await ctx.storage.insertAccount(account);
  return account;
}
