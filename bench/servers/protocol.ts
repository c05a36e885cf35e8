/**
 * How a benchmark server process talks to the driver (bench/run.ts): over the IPC channel of
 * `child_process.spawn`, never stdout (Gatehouse logs there, as in production). A server sends
 * `progress` lines while it sets up and one `ready` message once it listens; it exits when the
 * driver sends SIGTERM or when the channel closes (the driver died), so no server outlives a run.
 */

export interface ClientCredentialsPair {
  clientId: string;
  clientSecret: string;
}

/** A client that uses the client_credentials grant (RFC 6749 §4.4). */
export interface MachineClient extends ClientCredentialsPair {
  scope: string;
  /** Extra form parameters of the token request, e.g. `resource` (RFC 8707) for JWT tokens. */
  extraParams?: Record<string, string>;
}

/** A client of the authorization code flow, with a logged-in browser session and remembered consent. */
export interface WebClient extends ClientCredentialsPair {
  redirectUri: string;
  /** Scope for the code exchange and refresh workloads (no ID token: plain OAuth 2.0). */
  oauthScope: string;
  /** Scope for the whole-flow workload (ends with /userinfo). */
  flowScope: string;
  /**
   * `Cookie` header values of logged-in sessions, one per user (each user has its own grant).
   * Empty when the driver must sign in itself (`signIn`), as for oidc-provider's interactions.
   */
  cookies: string[];
}

export interface ServerPaths {
  authorize: string;
  token: string;
  introspect?: string;
  userinfo?: string;
}

export interface ReadyMessage {
  type: 'ready';
  url: string;
  paths: ServerPaths;
  /** Opaque access tokens through client_credentials. */
  machine?: MachineClient;
  /** JWT access tokens through client_credentials, by signing algorithm. */
  jwt?: Partial<Record<'ES256' | 'RS256', MachineClient>>;
  web?: WebClient;
  /** A valid Bearer token for the protected GET, when the server can provide one without HTTP. */
  bearerToken?: string;
  /** Milliseconds from calling the server's own start function to listening. */
  startMs?: number;
  /** Milliseconds a first start spends creating signing keys (done in setup, outside `startMs`). */
  keyGenerationMs?: number;
}

/** Users (each with a session and remembered consent) that the code-flow workloads spread over. */
export const benchUsers = 32;

export interface ProgressMessage {
  type: 'progress';
  text: string;
}

export type ServerMessage = ReadyMessage | ProgressMessage;

export function announce(message: ServerMessage): void {
  if (process.send === undefined) {
    // Started by hand: print what the driver would have received.
    console.log(JSON.stringify(message));
    return;
  }
  process.send(message);
}

/**
 * Runs `close` once on SIGTERM/SIGINT or when the driver goes away, then exits. A close that
 * hangs does not keep the process alive: the exit happens after 3 s regardless.
 */
export function exitWith(close: () => Promise<void> | void): void {
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), 3000).unref();
    Promise.resolve()
      .then(close)
      .catch((error: unknown) => console.error(error))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('disconnect', shutdown);
}

/** Numbers from the environment, for the few knobs a server takes. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number (got "${raw}")`);
  return value;
}

/** `Authorization: Basic` for a client, form-urlencoding both parts first (RFC 6749 §2.3.1). */
export function basicAuthorization({ clientId, clientSecret }: ClientCredentialsPair): string {
  const encode = (value: string) => encodeURIComponent(value).replaceAll('%20', '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}
