/**
 * The second process of the cross-process single-flight test (test/http/token-vault.test.ts):
 * opens the same token vault, says `ready` on stdout, waits for one JSON line on stdin naming the
 * user and the parent's clock, then asks for that user's access token `count` times at once and
 * prints what it got as one JSON line.
 *
 * Input: the JSON of `VaultChildInput` in the environment variable `VAULT_CHILD_INPUT`.
 */
import { discoverProvider, TokenVault, type VaultKeys } from '../../src/client/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';

export interface VaultChildInput {
  databaseUrl: string;
  keys: VaultKeys;
  issuer: string;
  providerId: string;
  clientId: string;
  clientSecret: string;
  count: number;
  /** Added latency on the way to the token endpoint, so that the two processes overlap. */
  tokenEndpointDelayMs: number;
}

/** The line that starts the calls. */
export interface VaultChildGo {
  userId: string;
  /** The parent's (manual) clock, so both processes agree on what has expired. */
  now: number;
}

export interface VaultChildOutput {
  tokens: string[];
  /** Requests this process sent to the token endpoint. */
  tokenRequests: number;
  errors: string[];
}

const input = JSON.parse(process.env.VAULT_CHILD_INPUT ?? '') as VaultChildInput;
const provider = await discoverProvider(input.issuer, { id: input.providerId, clientId: input.clientId, clientSecret: input.clientSecret });
let tokenRequests = 0;
const countingFetch: typeof fetch = (resource, init) => {
  if (String(resource instanceof Request ? resource.url : resource) !== provider.tokenEndpoint) return fetch(resource, init);
  tokenRequests++;
  return new Promise((resolve) => setTimeout(resolve, input.tokenEndpointDelayMs)).then(() => fetch(resource, init));
};
const clock = new ManualClock(0);
const vault = await TokenVault.open({ databaseUrl: input.databaseUrl, keys: input.keys, providers: [provider], clock, fetch: countingFetch });

process.stdout.write('ready\n');
const go = await new Promise<VaultChildGo>((resolve) => {
  process.stdin.setEncoding('utf8');
  let buffered = '';
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.includes('\n')) resolve(JSON.parse(buffered.slice(0, buffered.indexOf('\n'))) as VaultChildGo);
  });
});
clock.advance(go.now / 1000);

const results = await Promise.allSettled(Array.from({ length: input.count }, () => vault.getAccessToken(go.userId, input.providerId)));
const output: VaultChildOutput = {
  tokens: results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])),
  tokenRequests,
  errors: results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : [])),
};
process.stdout.write(`${JSON.stringify(output)}\n`);
await vault.close();
process.stdin.destroy();
