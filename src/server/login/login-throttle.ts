import type { Clock } from '../../shared/clock.ts';
import type { GatehouseConfig } from '../config/defaults.ts';
import type { CountedKey, FailureCount, LoginFailureCounters } from './failure-counters.ts';

/**
 * Online password guessing is slowed (RFC 6819 §4.4.3.6) without letting anyone lock a user out:
 *
 * - per address: `loginAttemptsPerIp` failures from one address, any accounts, and it waits out
 *   the window (one address trying many accounts);
 * - per account and address: `loginAttemptsPerAccount` failures for one account from one address,
 *   and that pair waits out the window; guesses from elsewhere do not block the owner's address;
 * - per account: after `loginDelayAfterFailures` failures from anywhere, each further attempt
 *   waits 1 s, doubling per failure up to `loginDelayMaxSeconds` (Keycloak's growing wait: a
 *   temporary refusal, never a lock), so many addresses trying one account are slowed too;
 * - a browser with the account's device cookie (OWASP "device cookies", device-cookie.ts) is not
 *   slowed by the per-account count: its failures count against its cookie, with the same limit
 *   as an (account, address) pair, and nowhere else but its address.
 *
 * Only failures count, and a success clears the account's counts. An attempt is counted as a
 * failure before its password is checked and taken back when it succeeds, so that attempts sent
 * all at once cannot slip past a limit while their passwords are being checked.
 */
export interface LoginAttempt {
  /** usernameKey() of the typed username: case and look-alikes gain nothing. */
  usernameKey: string;
  ip: string;
  /** The nonce of a valid device cookie of this account, when the browser sent one. */
  deviceNonce?: string;
}

/** An attempt refused for now, and when it may come back (429 with Retry-After). */
export interface LoginRefusal {
  retryAfterSeconds: number;
}

export interface LoginThrottleDeps {
  counters: LoginFailureCounters;
  config: Pick<
    GatehouseConfig,
    'loginAttemptsPerIp' | 'loginAttemptsPerAccount' | 'loginAttemptWindowSeconds' | 'loginDelayAfterFailures' | 'loginDelayMaxSeconds' | 'loginDelayResetSeconds'
  >;
  clock: Clock;
}

interface AttemptKeys {
  address: string;
  /** The (account, address) pair, or the device cookie. */
  pair: string;
  /** The per-account delay count; none for a known device. */
  account?: string;
}

function keysOf(attempt: LoginAttempt): AttemptKeys {
  const account = encodeURIComponent(attempt.usernameKey);
  if (attempt.deviceNonce !== undefined) return { address: `ip:${attempt.ip}`, pair: `device:${attempt.deviceNonce}` };
  return { address: `ip:${attempt.ip}`, pair: `account-ip:${account}:${attempt.ip}`, account: `account:${account}` };
}

/** The wait after `failures` failures for one account: 0, then 1 s doubling, capped. */
export function accountDelaySeconds(failures: number, config: LoginThrottleDeps['config']): number {
  if (failures < config.loginDelayAfterFailures) return 0;
  return Math.min(config.loginDelayMaxSeconds, 2 ** (failures - config.loginDelayAfterFailures));
}

/**
 * Decides whether an attempt may check its password now. When it may, it is counted as a failure
 * at once; `loginSucceeded` or `loginAbandoned` takes that back.
 */
export async function admitLoginAttempt(attempt: LoginAttempt, deps: LoginThrottleDeps): Promise<LoginRefusal | undefined> {
  const { config, counters } = deps;
  const now = deps.clock.now();
  const keys = keysOf(attempt);
  const [address, pair, account] = await counters.read([keys.address, keys.pair, ...(keys.account ? [keys.account] : [])], now);
  const waits: number[] = [];
  if (reached(address, config.loginAttemptsPerIp)) waits.push(address!.expiresAt - now);
  if (reached(pair, config.loginAttemptsPerAccount)) waits.push(pair!.expiresAt - now);
  if (account !== undefined) {
    const delayMs = accountDelaySeconds(account.count, config) * 1000;
    if (account.lastAt + delayMs > now) waits.push(account.lastAt + delayMs - now);
  }
  if (waits.length > 0) return { retryAfterSeconds: Math.max(1, Math.ceil(Math.max(...waits) / 1000)) };

  const window = config.loginAttemptWindowSeconds * 1000;
  const counted: CountedKey[] = [
    { key: keys.address, forgetAfterMs: window },
    { key: keys.pair, forgetAfterMs: window },
  ];
  if (keys.account !== undefined) counted.push({ key: keys.account, forgetAfterMs: config.loginDelayResetSeconds * 1000 });
  await counters.add(counted, now);
  return undefined;
}

/**
 * The password was right: the account's counts start again (this pair or device, the account's
 * pair with this address, and the delay), also when the success came from a known device, whose
 * owner is back; the address keeps its failures with other accounts.
 */
export async function loginSucceeded(attempt: LoginAttempt, deps: LoginThrottleDeps): Promise<void> {
  const keys = keysOf(attempt);
  const owner = keysOf({ ...attempt, deviceNonce: undefined });
  await deps.counters.subtract([keys.address]);
  await deps.counters.clear([...new Set([keys.pair, owner.pair, owner.account!])]);
}

/** The attempt ended without an answer about the password (a database error): it counts nothing. */
export async function loginAbandoned(attempt: LoginAttempt, deps: LoginThrottleDeps): Promise<void> {
  const keys = keysOf(attempt);
  await deps.counters.subtract([keys.address, keys.pair, ...(keys.account ? [keys.account] : [])]);
}

function reached(count: FailureCount | undefined, limit: number): boolean {
  return count !== undefined && count.count >= limit;
}
