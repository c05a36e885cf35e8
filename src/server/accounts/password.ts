import { hash, verify } from '@node-rs/argon2';

/**
 * Passwords are hashed with argon2id (RFC 9106) at the parameters OWASP's cheat sheet gives as
 * its baseline: 19 MiB of memory, 2 passes, 1 lane. The PHC string stores the parameters, so they
 * can be raised later without breaking existing hashes. Argon2id is the library's default
 * algorithm (its `Algorithm` enum is const and cannot be imported here); a test checks the prefix.
 */
const parameters = { memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, parameters);
}

export async function verifyPassword(password: string, passwordHash: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a random password, verified against when the username is unknown so that the answer
 * takes as long as for a known user and does not reveal which usernames exist.
 */
let decoy: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoy ??= hashPassword(`decoy-${Math.random()}`);
  return decoy;
}
