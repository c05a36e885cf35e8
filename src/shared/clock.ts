/**
 * Time is injected everywhere (DESIGN invariant 7): expiry is tested by moving a clock, never by
 * sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that stands still until told to move; for tests and for replaying a fixed instant. */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  advance(seconds: number): void {
    this.#now += seconds * 1000;
  }
}

export function secondsFromNow(clock: Clock, seconds: number): number {
  return clock.now() + seconds * 1000;
}
