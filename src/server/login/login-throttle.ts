import type { Clock } from '../../shared/clock.ts';
import type { GatehouseConfig } from '../config/defaults.ts';
import type { LoginFailureCounters, ThrottledKey, WaitStep } from './failure-counters.ts';

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
 * failure before its password is checked, in the same atomic step as its check, and taken back
 * when it succeeds, so that attempts sent all at once cannot slip past a limit, neither while
 * their counts are read nor while their passwords are being checked.
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
 * The growing wait as counters apply it: from `loginDelayAfterFailures` failures on, one step per
 * doubling, up to the step that reaches `loginDelayMaxSeconds`, which holds for every count above.
 */
function accountDelaySteps(config: LoginThrottleDeps['config']): WaitStep[] {
  const steps: WaitStep[] = [];
  for (let failures = config.loginDelayAfterFailures; ; failures++) {
    const seconds = accountDelaySeconds(failures, config);
    steps.push({ fromCount: failures, waitMs: seconds * 1000 });
    if (seconds >= config.loginDelayMaxSeconds) return steps;
  }
}

/**
 * Every rule of the throttle, as counters apply them. A hard limit is a wait of a whole window
 * after the latest failure, which is when its count is forgotten.
 */
function throttledKeys(keys: AttemptKeys, config: LoginThrottleDeps['config']): ThrottledKey[] {
  const window = config.loginAttemptWindowSeconds * 1000;
  const throttled: ThrottledKey[] = [
    { key: keys.address, forgetAfterMs: window, waits: [{ fromCount: config.loginAttemptsPerIp, waitMs: window }] },
    { key: keys.pair, forgetAfterMs: window, waits: [{ fromCount: config.loginAttemptsPerAccount, waitMs: window }] },
  ];
  if (keys.account !== undefined) {
    throttled.push({ key: keys.account, forgetAfterMs: config.loginDelayResetSeconds * 1000, waits: accountDelaySteps(config) });
  }
  return throttled;
}

/**
 * Decides whether an attempt may check its password now. When it may, it is counted as a failure
 * in the same atomic step (LoginFailureCounters.admit); `loginSucceeded` or `loginAbandoned` takes
 * that back.
 */
export async function admitLoginAttempt(attempt: LoginAttempt, deps: LoginThrottleDeps): Promise<LoginRefusal | undefined> {
  const refusal = await deps.counters.admit(throttledKeys(keysOf(attempt), deps.config), deps.clock.now());
  return refusal === undefined ? undefined : { retryAfterSeconds: Math.max(1, Math.ceil(refusal.waitMs / 1000)) };
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
