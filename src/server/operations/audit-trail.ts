import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.ts';
import type { AuditEventRecord, Storage } from '../../storage/storage.ts';

/** One thing worth a line in the audit trail; `at` and `id` are filled in when it is recorded. */
export interface AuditEntry {
  /** `account:<id>`, `client:<id>`, `cli` or `anonymous`. */
  actor: string;
  /** snake_case past tense: `login_failed`, `client_created`, `token_revoked` … */
  action: string;
  /** What the action was done to, as `client:<id>`, `account:<id>`, `key:<kid>`; null when nothing. */
  subject?: string | null;
  /** Facts that explain the action (never a secret). */
  detail?: Record<string, unknown>;
  ip?: string | null;
}

/**
 * Appends an event to the audit trail. `storage` may be a transaction, so that an action and its
 * record are committed together or not at all.
 */
export async function recordAuditEvent(entry: AuditEntry, storage: Storage, clock: Clock): Promise<AuditEventRecord> {
  const event: AuditEventRecord = {
    id: randomUUID(),
    at: clock.now(),
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject ?? null,
    detail: entry.detail ?? {},
    ip: entry.ip ?? null,
  };
  await storage.insertAuditEvent(event);
  return event;
}
