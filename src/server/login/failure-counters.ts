import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Failed sign-ins counted under one key (an address, an account, a pair of them, a device). */
interface FailureCount {
  count: number;
  /** When the latest failure was counted (ms since the epoch, by the server's clock). */
  lastAt: number;
  /** When the count is forgotten. */
  expiresAt: number;
}

/** From `fromCount` failures on, attempts wait `waitMs` after the latest failure. */
export interface WaitStep {
  fromCount: number;
  waitMs: number;
}

/** One key an attempt is counted under, how long its count lasts, and when it refuses attempts. */
export interface ThrottledKey {
  key: string;
  /** How long after the latest failure the count is forgotten. */
  forgetAfterMs: number;
  /** Ascending by `fromCount`; the last step the count has reached applies, none means no wait. */
  waits: WaitStep[];
}

/**
 * Where failed sign-ins are counted: in the process, or in Redis when several instances must
 * count together. Times come from the server's injected clock, so tests move a clock instead of
 * sleeping; Redis's own expiry only collects what is forgotten.
 */
export interface LoginFailureCounters {
  /**
   * Checks and counts one attempt as a single atomic step: when no key makes it wait, it is
   * counted once under every key; otherwise nothing is counted and the answer is the longest wait
   * in ms. Two steps (read, then add) would let attempts sent at once all read the same count and
   * all pass a limit that had one attempt left.
   */
  admit(keys: ThrottledKey[], now: number): Promise<{ waitMs: number } | undefined>;
  /** Takes one failure back (an attempt that turned out not to be one). */
  subtract(keys: string[]): Promise<void>;
  clear(keys: string[]): Promise<void>;
}

/** How long `failures` (none when forgotten) make an attempt at `now` wait, in ms. */
function waitOf(failures: FailureCount | undefined, waits: WaitStep[], now: number): number {
  if (failures === undefined) return 0;
  const step = waits.findLast((each) => failures.count >= each.fromCount);
  return step === undefined ? 0 : Math.max(0, failures.lastAt + step.waitMs - now);
}

/** Counters of one process. Forgotten counts are swept once the map grows past `sweepAbove`. */
export class MemoryFailureCounters implements LoginFailureCounters {
  readonly #counts = new Map<string, FailureCount>();

  constructor(private readonly sweepAbove = 10_000) {}

  // Nothing is awaited between the check and the count, so no other request runs in between.
  async admit(keys: ThrottledKey[], now: number): Promise<{ waitMs: number } | undefined> {
    const counts = keys.map(({ key }) => this.#current(key, now));
    const waitMs = Math.max(0, ...keys.map(({ waits }, index) => waitOf(counts[index], waits, now)));
    if (waitMs > 0) return { waitMs };
    if (this.#counts.size > this.sweepAbove) this.#sweep(now);
    keys.forEach(({ key, forgetAfterMs }, index) => {
      this.#counts.set(key, { count: (counts[index]?.count ?? 0) + 1, lastAt: now, expiresAt: now + forgetAfterMs });
    });
    return undefined;
  }

  async subtract(keys: string[]): Promise<void> {
    for (const key of keys) {
      const current = this.#counts.get(key);
      if (current === undefined) continue;
      if (current.count <= 1) this.#counts.delete(key);
      else current.count -= 1;
    }
  }

  async clear(keys: string[]): Promise<void> {
    for (const key of keys) this.#counts.delete(key);
  }

  /** The count under `key`, unless it is forgotten (the server's clock decides). */
  #current(key: string, now: number): FailureCount | undefined {
    const count = this.#counts.get(key);
    return count !== undefined && count.expiresAt > now ? count : undefined;
  }

  #sweep(now: number): void {
    for (const [key, count] of this.#counts) if (count.expiresAt <= now) this.#counts.delete(key);
  }
}

/**
 * Counters in Redis, one hash per key (`count`, `last`, `expires`), shared by every instance.
 * A Redis that is down or slow must not lock everyone out of signing in: every command fails fast
 * (app.ts connects without an offline queue) and a failure counts nothing and refuses nothing.
 */
export class RedisFailureCounters implements LoginFailureCounters {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'gatehouse-login:',
  ) {}

  /**
   * One Lua script over every key of the attempt: Redis runs a script with no other command in
   * between, on every instance's behalf, so the check and the count cannot be split by attempts
   * sent at the same moment (a read and an add in two round trips could).
   */
  async admit(keys: ThrottledKey[], now: number): Promise<{ waitMs: number } | undefined> {
    const names = keys.map(({ key }) => this.prefix + key);
    const rules = JSON.stringify(keys.map(({ forgetAfterMs, waits }) => ({ forgetAfterMs, waits })));
    try {
      const waitMs = Number(await this.#admitScript(names, now, rules));
      return waitMs > 0 ? { waitMs } : undefined;
    } catch {
      return undefined; // Counted nothing, refused nothing: see the class comment.
    }
  }

  async subtract(keys: string[]): Promise<void> {
    await this.#run((multi) => {
      for (const key of keys) multi.eval(takeOneBack, 1, this.prefix + key);
    });
  }

  async clear(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#run((multi) => {
      multi.del(...keys.map((key) => this.prefix + key));
    });
  }

  /** Runs `admitOrWait` by its digest, sending its text only to a Redis that does not have it yet. */
  async #admitScript(names: string[], now: number, rules: string): Promise<unknown> {
    try {
      return await this.redis.evalsha(admitOrWaitSha1, names.length, ...names, now, rules);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(admitOrWait, names.length, ...names, now, rules);
    }
  }

  async #run(build: (multi: ReturnType<Redis['multi']>) => void): Promise<void> {
    try {
      const multi = this.redis.multi();
      build(multi);
      await multi.exec();
    } catch {
      // Counted nothing: see the class comment.
    }
  }
}

/**
 * KEYS: the counts of one attempt. ARGV[1]: now (ms by the server's clock, not Redis's). ARGV[2]:
 * JSON, for each key in order, its `forgetAfterMs` and `waits` (a ThrottledKey without its key).
 * Answers the longest wait in ms and counts nothing, or counts one failure under every key and
 * answers 0: the same rule as `MemoryFailureCounters.admit` and `waitOf`. A count past its
 * `expires` starts again, as in memory.
 */
const admitOrWait = `
local now = tonumber(ARGV[1])
local rules = cjson.decode(ARGV[2])
local counts = {}
local longest = 0
for i, name in ipairs(KEYS) do
  local count, last, expires = unpack(redis.call('HMGET', name, 'count', 'last', 'expires'))
  count, last, expires = tonumber(count) or 0, tonumber(last) or 0, tonumber(expires) or 0
  if expires <= now then count = 0 end
  counts[i] = count
  local waitMs = 0
  for _, step in ipairs(rules[i].waits) do
    if count >= step.fromCount then waitMs = step.waitMs end
  end
  if count > 0 and last + waitMs - now > longest then longest = last + waitMs - now end
end
if longest > 0 then return longest end
for i, name in ipairs(KEYS) do
  local forget = rules[i].forgetAfterMs
  redis.call('HSET', name, 'count', counts[i] + 1, 'last', now, 'expires', now + forget)
  redis.call('PEXPIRE', name, forget)
end
return 0`;

const admitOrWaitSha1 = createHash('sha1').update(admitOrWait).digest('hex');

/** Takes one from the `count` of KEYS[1] when it has one: a forgotten count must not go negative. */
const takeOneBack = `
local count = tonumber(redis.call('HGET', KEYS[1], 'count'))
if count ~= nil and count > 0 then redis.call('HINCRBY', KEYS[1], 'count', -1) end
return 0`;
