import { Command, InvalidArgumentError } from 'commander';
import { createInterface } from 'node:readline';
import { systemClock } from '../shared/clock.ts';
import { isOAuthError, OAuthError } from '../shared/oauth-error.ts';
import { formatScope, parseScope } from '../shared/scope.ts';
import { openStorage } from '../storage/open-storage.ts';
import type { AccountRecord, ClientRecord, ConsentPolicy, TokenEndpointAuthMethod } from '../storage/storage.ts';
import { createAccount } from './accounts/create-account.ts';
import { registerClient, rotateClientSecret } from './clients/register-client.ts';
import type { GatehouseConfig } from './config/defaults.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { createServerContext, type ServerContext } from './context.ts';
import { loadKeyEncryption } from './keys/key-encryption.ts';
import { rotateSigningKeys } from './keys/rotate-keys.ts';

/** What a command needs from the process: its streams and environment, injectable for tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };

/** Runs the `gatehouse` command line; resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) return 1; // commander printed it
    io.stderr.write(`gatehouse: ${describe(error)}\n`);
    return 1;
  }
}

function describe(error: unknown): string {
  if (isOAuthError(error)) return error.description;
  if (error instanceof ConfigError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function buildProgram(io: CliIo): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: an OAuth 2.0 authorization server')
    .option('--config <file>', 'JSON configuration file (see docs/configuration.md)')
    .exitOverride();

  const config = (): GatehouseConfig => loadConfig({ env: io.env, file: program.opts<{ config?: string }>().config });
  const print = (text: string): void => {
    io.stdout.write(`${text}\n`);
  };
  const warn = (text: string): void => {
    io.stderr.write(`gatehouse: warning: ${text}\n`);
  };

  /** Opens the database for one command and closes it whatever happens. */
  async function withContext<T>(work: (ctx: ServerContext) => Promise<T>, migrate?: boolean): Promise<T> {
    const cfg = config();
    const storage = await openStorage(cfg.databaseUrl, { migrate: migrate ?? cfg.migrateOnStart, warn });
    try {
      return await work(createServerContext(cfg, storage, systemClock, () => loadKeyEncryption(cfg, warn)));
    } finally {
      await storage.close();
    }
  }

  program
    .command('start')
    .description('start the authorization server (migrates the database first unless --no-migrate)')
    .option('--no-migrate', 'refuse to start on an outdated schema instead of migrating it')
    .action(async (options: { migrate: boolean }) => {
      const cfg = { ...config(), ...(options.migrate ? {} : { migrateOnStart: false }) };
      // Loaded here so that management commands do not pay for the web server's start-up.
      const { startServer } = await import('./main.ts');
      const server = await startServer(cfg);
      const { issuer } = cfg;
      print(`Gatehouse is listening on ${server.url}`);
      print(`  issuer:        ${issuer}`);
      print(`  authorize:     ${issuer}/authorize`);
      print(`  token:         ${issuer}/token`);
      print(`  userinfo:      ${issuer}/userinfo`);
      print(`  login:         ${issuer}/login`);
      print('Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        const shutdown = () => {
          process.off('SIGINT', shutdown);
          process.off('SIGTERM', shutdown);
          print('Stopping…');
          void server.stop().then(resolve);
        };
        process.on('SIGINT', shutdown);
        process.on('SIGTERM', shutdown);
      });
    });

  program
    .command('migrate')
    .description('create or upgrade the database schema')
    .action(() => withContext(async () => print('The database schema is up to date.'), true));

  const clients = program.command('clients').description('register and manage OAuth clients');
  clients
    .command('create')
    .description('register a client; prints its ID and, once only, its secret')
    .requiredOption('--name <name>', 'name shown to users on the consent page')
    .option('--redirect-uri <uri>', 'authorized redirect URI (repeat for several); required unless client_credentials only', collect, [])
    .option('--public', 'a public client (native or browser app): no secret, PKCE required')
    .option('--scope <scopes>', 'space-separated scopes the client may request (default "profile")')
    .option('--access-token-ttl <seconds>', 'access token lifetime for this client', wholeNumber)
    .option('--refresh-token-ttl <seconds>', 'refresh token lifetime for this client', wholeNumber)
    .option('--grant-type <type>', 'authorization_code, refresh_token or client_credentials (repeat; default the first two)', collect)
    .option('--access-token-format <format>', 'opaque (default) or jwt (RFC 9068)')
    .option('--resource <uri>', 'a resource server (RFC 8707) the client may get tokens for (repeat)', collect, [])
    .option('--token-endpoint-auth-method <method>', 'client_secret_basic (default), client_secret_post, or none for public clients (RFC 7591 §2)')
    .option('--consent-policy <policy>', 'remember (default for confidential clients) or always_ask (default for public clients)')
    .option('--can-introspect', "may introspect other clients' access tokens (a resource server, RFC 7662)")
    .option('--served-resource <uri>', 'a resource identifier (RFC 8707) this client serves; it sees tokens for it at /introspect (repeat)', collect, [])
    .option('--json', 'print JSON')
    .action((options: ClientCreateOptions) =>
      withContext(async (ctx) => {
        const { client, clientSecret } = await registerClient(
          {
            name: options.name,
            redirectUris: options.redirectUri,
            type: options.public ? 'public' : 'confidential',
            scopes: options.scope === undefined ? undefined : parseScope(options.scope),
            accessTokenTtlSeconds: options.accessTokenTtl,
            refreshTokenTtlSeconds: options.refreshTokenTtl,
            grantTypes: options.grantType,
            accessTokenFormat: options.accessTokenFormat as 'opaque' | 'jwt' | undefined,
            resources: options.resource,
            tokenEndpointAuthMethod: options.tokenEndpointAuthMethod as TokenEndpointAuthMethod | undefined,
            consentPolicy: options.consentPolicy as ConsentPolicy | undefined,
            canIntrospect: options.canIntrospect ?? false,
            servedResources: options.servedResource,
          },
          ctx,
        );
        if (options.json) return print(JSON.stringify({ ...clientJson(client), client_secret: clientSecret ?? undefined }, null, 2));
        print(`Registered client "${client.name}".`);
        print(formatClient(client));
        if (clientSecret !== null) {
          print(`client_secret: ${clientSecret}`);
          print('Store the secret now: it is shown only once and cannot be recovered (rotate-secret issues a new one).');
        }
      }),
    );
  clients
    .command('list')
    .description('list registered clients')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withContext(async (ctx) => {
        const all = await ctx.storage.listClients();
        if (options.json) return print(JSON.stringify(all.map(clientJson), null, 2));
        if (all.length === 0) return print('No clients. Register one with: gatehouse clients create --name NAME --redirect-uri URI');
        for (const client of all) print(`${client.id}  ${client.type.padEnd(12)}  ${client.name}`);
      }),
    );
  clients
    .command('show <id>')
    .description('show one client (never its secret)')
    .option('--json', 'print JSON')
    .action((id: string, options: { json?: boolean }) =>
      withContext(async (ctx) => {
        const client = await findClientOrFail(id, ctx);
        print(options.json ? JSON.stringify(clientJson(client), null, 2) : formatClient(client));
      }),
    );
  clients
    .command('delete <id>')
    .description('delete a client with all its codes, tokens and consents')
    .action((id: string) =>
      withContext(async (ctx) => {
        if (!(await ctx.storage.deleteClient(id))) throw new OAuthError('not_found', `no client with ID "${id}"`);
        print(`Deleted client ${id}.`);
      }),
    );
  clients
    .command('rotate-secret <id>')
    .description('issue a new client secret; the old one stops working at once')
    .option('--json', 'print JSON')
    .action((id: string, options: { json?: boolean }) =>
      withContext(async (ctx) => {
        const secret = await rotateClientSecret(id, ctx);
        if (options.json) return print(JSON.stringify({ client_id: id, client_secret: secret }, null, 2));
        print(`client_secret: ${secret}`);
        print('Store the secret now: it is shown only once.');
      }),
    );

  const keys = program.command('keys').description('signing keys for ID tokens and JWT access tokens');
  keys
    .command('list')
    .description('list signing keys and whether they sign or only verify')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withContext(async (ctx) => {
        await ctx.keys.ensureActiveKeys();
        const all = await ctx.keys.list();
        const rows = all.map((key) => ({
          kid: key.kid,
          alg: key.alg,
          state: key.state,
          created_at: new Date(key.createdAt).toISOString(),
          published_until: key.publishUntil === null ? null : new Date(key.publishUntil).toISOString(),
        }));
        if (options.json) return print(JSON.stringify(rows, null, 2));
        for (const row of rows) {
          print(`${row.kid}  ${row.alg}  ${row.state.padEnd(7)}  created ${row.created_at}${row.published_until === null ? '' : `  published until ${row.published_until}`}`);
        }
      }),
    );
  keys
    .command('rotate')
    .description('start signing with new keys; old ones stay published until their tokens expire')
    .action(() =>
      withContext(async (ctx) => {
        const created = await rotateSigningKeys(ctx);
        for (const key of created) print(`New ${key.alg} signing key ${key.kid} is active.`);
        print('Previous keys stay published at /jwks until every token they signed has expired.');
      }),
    );

  const users = program.command('users').description('manage user accounts');
  users
    .command('create')
    .description('create a user; the password is asked for, or read from stdin with --password-stdin')
    .requiredOption('--username <username>', 'the name to log in with')
    .option('--password-stdin', 'read the password from standard input')
    .option('--name <name>', 'full name (the `name` claim)')
    .option('--email <email>', 'email address (the `email` claim)')
    .option('--admin', 'may use the admin console and the admin API')
    .option('--json', 'print JSON')
    .action((options: UserCreateOptions) =>
      withContext(async (ctx) => {
        const password = options.passwordStdin ? await readStdin(io) : await promptPassword(io);
        const account = await createAccount(
          { username: options.username, password, name: options.name ?? null, email: options.email ?? null, isAdmin: options.admin ?? false },
          ctx,
        );
        print(options.json ? JSON.stringify(accountJson(account), null, 2) : `Created user "${account.username}" (sub ${account.id}).`);
      }),
    );
  users
    .command('list')
    .description('list users')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withContext(async (ctx) => {
        const all = await ctx.storage.listAccounts();
        if (options.json) return print(JSON.stringify(all.map(accountJson), null, 2));
        if (all.length === 0) return print('No users. Create one with: gatehouse users create --username NAME');
        for (const account of all) print(`${account.id}  ${account.username}`);
      }),
    );
  users
    .command('delete <user>')
    .description('delete a user (by username or ID) with their sessions, consents and tokens')
    .action((user: string) =>
      withContext(async (ctx) => {
        const account = (await ctx.storage.findAccountByUsername(user)) ?? (await ctx.storage.findAccount(user));
        if (account === undefined) throw new OAuthError('not_found', `no user "${user}"`);
        await ctx.storage.deleteAccount(account.id);
        print(`Deleted user "${account.username}".`);
      }),
    );

  for (const command of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    command.exitOverride().configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Commander's own errors (a missing option, an unknown command) get the same one-line prefix as ours.
      outputError: (s, write) => write(s.replace(/^error: /, 'gatehouse: ')),
    });
  }
  return program;
}

interface ClientCreateOptions {
  name: string;
  redirectUri: string[];
  public?: boolean;
  scope?: string;
  accessTokenTtl?: number;
  refreshTokenTtl?: number;
  grantType?: string[];
  accessTokenFormat?: string;
  resource: string[];
  tokenEndpointAuthMethod?: string;
  consentPolicy?: string;
  canIntrospect?: boolean;
  servedResource: string[];
  json?: boolean;
}

interface UserCreateOptions {
  username: string;
  passwordStdin?: boolean;
  name?: string;
  email?: string;
  admin?: boolean;
  json?: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number of seconds');
  return Number(value);
}

async function findClientOrFail(id: string, ctx: ServerContext): Promise<ClientRecord> {
  const client = await ctx.storage.findClient(id);
  if (client === undefined) throw new OAuthError('not_found', `no client with ID "${id}"`);
  return client;
}

function clientJson(client: ClientRecord) {
  return {
    access_token_format: client.accessTokenFormat,
    resources: client.resources,
    client_id: client.id,
    client_name: client.name,
    client_type: client.type,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    scope: formatScope(client.scopes),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    consent_policy: client.consentPolicy,
    can_introspect: client.canIntrospect,
    served_resources: client.servedResources,
    access_token_ttl: client.accessTokenTtlSeconds,
    refresh_token_ttl: client.refreshTokenTtlSeconds,
    created_at: new Date(client.createdAt).toISOString(),
  };
}

function formatClient(client: ClientRecord): string {
  return [
    `client_id:     ${client.id}`,
    `name:          ${client.name}`,
    `type:          ${client.type}`,
    `redirect_uris: ${client.redirectUris.join(' ')}`,
    `scope:         ${formatScope(client.scopes)}`,
    `grant_types:   ${client.grantTypes.join(' ')}`,
    `auth_method:   ${client.tokenEndpointAuthMethod}`,
    `consent:       ${client.consentPolicy}`,
    ...(client.canIntrospect ? [`introspects:   yes${client.servedResources.length === 0 ? '' : `, serves ${client.servedResources.join(' ')}`}`] : []),
    ...(client.resources.length === 0 ? [] : [`resources:     ${client.resources.join(' ')}`]),
    ...(client.accessTokenFormat === 'opaque' ? [] : [`token_format:  ${client.accessTokenFormat}`]),
    ...(client.accessTokenTtlSeconds === null ? [] : [`access_ttl:    ${client.accessTokenTtlSeconds}s`]),
    ...(client.refreshTokenTtlSeconds === null ? [] : [`refresh_ttl:   ${client.refreshTokenTtlSeconds}s`]),
  ].join('\n');
}

function accountJson(account: AccountRecord) {
  return {
    sub: account.id,
    username: account.username,
    admin: account.isAdmin,
    disabled: account.disabledAt !== null,
    name: account.name,
    email: account.email,
    created_at: new Date(account.createdAt).toISOString(),
  };
}

async function readStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  // One trailing newline is the terminator of `echo`, not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Asks for the password twice on the terminal without echoing it. */
async function promptPassword(io: CliIo): Promise<string> {
  if (!io.stdin.isTTY) throw new OAuthError('invalid_request', 'no terminal to ask for a password: pipe it in with --password-stdin');
  const ask = (question: string) =>
    new Promise<string>((resolve) => {
      const rl = createInterface({ input: io.stdin, output: io.stdout, terminal: true });
      const output = rl as unknown as { _writeToOutput: (text: string) => void };
      output._writeToOutput = (text: string) => {
        if (text.includes(question)) io.stdout.write(text);
      };
      rl.question(question, (answer) => {
        rl.close();
        io.stdout.write('\n');
        resolve(answer);
      });
    });
  const first = await ask('Password: ');
  const second = await ask('Repeat password: ');
  if (first !== second) throw new OAuthError('invalid_request', 'the passwords do not match');
  return first;
}
