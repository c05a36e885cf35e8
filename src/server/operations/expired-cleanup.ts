import type { Clock } from '../../shared/clock.ts';
import type { Storage } from '../../storage/storage.ts';

export interface ExpiredCleanupOptions {
  /** Time between sweeps, in milliseconds. */
  intervalMs: number;
  /** Rows deleted per table per batch; small batches keep each write transaction short. */
  batchSize: number;
  onError: (error: unknown) => void;
}

/**
 * Deletes expired codes, tokens and sessions from inside the server (DESIGN invariant 8), so no
 * external cron job is needed. A sweep repeats batches until one comes back short.
 */
export function startExpiredCleanup(storage: Storage, clock: Clock, options: ExpiredCleanupOptions): () => void {
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      while ((await storage.deleteExpired(clock.now(), options.batchSize)) >= options.batchSize) {
        // keep going: the backlog is larger than one batch
      }
    } catch (error) {
      options.onError(error);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(sweep, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
