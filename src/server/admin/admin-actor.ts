/** Who performs an admin action: a signed-in administrator (console) or an admin client (API). */
export interface AdminActor {
  /** `account:<id>` or `client:<id>`, as the audit trail records it. */
  id: string;
  /** The administrator's own account, so that they cannot lock themselves out; null for a client. */
  accountId: string | null;
  /** The administrator's current browser session, kept when they reset their own password. */
  sessionIdHash: string | null;
  ip: string | null;
}

export function consoleActor(accountId: string, sessionIdHash: string, ip: string): AdminActor {
  return { id: `account:${accountId}`, accountId, sessionIdHash, ip };
}

export function apiActor(clientId: string, ip: string): AdminActor {
  return { id: `client:${clientId}`, accountId: null, sessionIdHash: null, ip };
}
