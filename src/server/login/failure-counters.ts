import type { Redis } from 'ioredis';

/** Failed sign-ins counted under one key (an address, an account, a pair of them, a device). */
export interface FailureCount {
  count: number;
  /** When the latest failure was counted (ms since the epoch, by the server's clock). */
  lastAt: number;
  /** When the count is forgotten. */
  expiresAt: number;
}

/** One key to count under, and how long after this failure the count is forgotten. */
export interface CountedKey {
  key: string;
  forgetAfterMs: number;
}

/**
 * Where failed sign-ins are counted: in the process, or in Redis when several instances must
 * count together. Times come from the server's injected clock, so tests move a clock instead of
 * sleeping; Redis's own expiry only collects what is forgotten.
 */
export interface LoginFailureCounters {
  read(keys: string[], now: number): Promise<(FailureCount | undefined)[]>;
  /** Counts one failure under each key. */
  add(keys: CountedKey[], now: number): Promise<void>;
  /** Takes one failure back (an attempt that turned out not to be one). */
  subtract(keys: string[]): Promise<void>;
  clear(keys: string[]): Promise<void>;
}

/** Counters of one process. Forgotten counts are swept once the map grows past `sweepAbove`. */
export class MemoryFailureCounters implements LoginFailureCounters {
  readonly #counts = new Map<string, FailureCount>();

  constructor(private readonly sweepAbove = 10_000) {}

  async read(keys: string[], now: number): Promise<(FailureCount | undefined)[]> {
    return keys.map((key) => {
      const count = this.#counts.get(key);
      return count !== undefined && count.expiresAt > now ? { ...count } : undefined;
    });
  }

  async add(keys: CountedKey[], now: number): Promise<void> {
    if (this.#counts.size > this.sweepAbove) this.#sweep(now);
    for (const { key, forgetAfterMs } of keys) {
      const current = this.#counts.get(key);
      const count = current !== undefined && current.expiresAt > now ? current.count : 0;
      this.#counts.set(key, { count: count + 1, lastAt: now, expiresAt: now + forgetAfterMs });
    }
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

  async read(keys: string[], now: number): Promise<(FailureCount | undefined)[]> {
    try {
      const pipeline = this.redis.pipeline();
      for (const key of keys) pipeline.hmget(this.prefix + key, 'count', 'last', 'expires');
      const results = (await pipeline.exec()) ?? [];
      return keys.map((_key, index) => {
        const [error, values] = results[index] ?? [];
        if (error || !Array.isArray(values)) return undefined;
        const [count, lastAt, expiresAt] = (values as (string | null)[]).map(Number);
        return count! > 0 && expiresAt! > now ? { count: count!, lastAt: lastAt!, expiresAt: expiresAt! } : undefined;
      });
    } catch {
      return keys.map(() => undefined);
    }
  }

  async add(keys: CountedKey[], now: number): Promise<void> {
    await this.#run((multi) => {
      for (const { key, forgetAfterMs } of keys) {
        const name = this.prefix + key;
        // A count past its time starts again, as in memory (the server's clock decides, not Redis's).
        multi.eval(startAgainIfForgotten, 1, name, now);
        multi.hincrby(name, 'count', 1);
        multi.hset(name, 'last', now, 'expires', now + forgetAfterMs);
        multi.pexpire(name, forgetAfterMs);
      }
    });
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

/** Deletes the hash KEYS[1] when its `expires` is not after ARGV[1] (now). */
const startAgainIfForgotten = `
local expires = tonumber(redis.call('HGET', KEYS[1], 'expires'))
if expires ~= nil and expires <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) end
return 0`;

/** Takes one from the `count` of KEYS[1] when it has one: a forgotten count must not go negative. */
const takeOneBack = `
local count = tonumber(redis.call('HGET', KEYS[1], 'count'))
if count ~= nil and count > 0 then redis.call('HINCRBY', KEYS[1], 'count', -1) end
return 0`;
