/**
 * The load drivers. A fixed request (the same bytes every time) goes through `wrk` — one thread,
 * so the other core is the server's — or through autocannon when wrk is not installed. Requests
 * that depend on earlier answers (single-use codes, rotating refresh tokens, the whole code flow)
 * go through autocannon, whose per-connection request sequences can carry state.
 */
import autocannon from 'autocannon';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FixedRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Bodies sent in turn, one per request, in place of `body` (say, many tokens to introspect). */
  bodies?: string[];
}

/** A request of a stateful sequence; `context` is per connection and starts empty each loop. */
export type SequenceRequest = autocannon.Request;

export type LoadSpec =
  | { kind: 'fixed'; request: FixedRequest }
  | {
      kind: 'sequence';
      origin: string;
      requests: SequenceRequest[];
      /** Stop after this many requests instead of after the measurement time (single-use inputs). */
      amount?: number;
    };

export interface LoadResult {
  requests: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses outside 2xx/3xx, plus connection errors and timeouts. */
  errors: number;
  /** What the errors were, when there were any (status codes, connection errors, timeouts). */
  errorDetail?: string;
  driver: 'wrk' | 'autocannon';
}

export interface LoadOptions {
  connections: number;
  seconds: number;
}

let wrkAvailable: boolean | undefined;

/** wrk from Debian, installed on first use when missing (the bench runs as root here); else autocannon. */
export function ensureWrk(log: (text: string) => void): boolean {
  if (wrkAvailable !== undefined) return wrkAvailable;
  if (process.env.BENCH_DRIVER === 'autocannon') return (wrkAvailable = false);
  wrkAvailable = hasWrk();
  if (!wrkAvailable) {
    log('wrk is missing: apt-get install -y wrk …');
    try {
      execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'ignore', timeout: 180_000 });
    } catch {
      try {
        execFileSync('apt-get', ['update'], { stdio: 'ignore', timeout: 180_000 });
        execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'ignore', timeout: 180_000 });
      } catch {
        // Not root, no network, not Debian: autocannon drives everything.
      }
    }
    wrkAvailable = hasWrk();
    log(wrkAvailable ? 'wrk installed' : 'wrk could not be installed: autocannon drives every workload');
  }
  return wrkAvailable;
}

export function wrkVersion(): string {
  try {
    execFileSync('wrk', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    // wrk prints its version and usage to stdout and exits 1.
    const output = String((error as { stdout?: string }).stdout ?? '');
    return /wrk [\d.]+/.exec(output)?.[0] ?? 'wrk';
  }
  return 'wrk';
}

function hasWrk(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function runLoad(spec: LoadSpec, options: LoadOptions): Promise<LoadResult> {
  if (spec.kind === 'fixed' && wrkAvailable === true) return runWrk(spec.request, options);
  return runAutocannon(spec, options);
}

async function runWrk(request: FixedRequest, { connections, seconds }: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const script = join(dir, 'request.lua');
  // Long brackets: the body and headers go into Lua verbatim, whatever they contain.
  const quote = (value: string) => `[==[${value}]==]`;
  writeFileSync(
    script,
    [
      `wrk.method = ${quote(request.method)}`,
      ...(request.body === undefined ? [] : [`wrk.body = ${quote(request.body)}`]),
      ...Object.entries(request.headers).map(([name, value]) => `wrk.headers[ ${quote(name)} ] = ${quote(value)}`),
      ...(request.bodies === undefined
        ? []
        : [
            // Built once, so that wrk's thread spends no CPU on them while it measures.
            `local bodies = { ${request.bodies.map(quote).join(', ')} }`,
            'local requests = {}',
            'local turn = 0',
            'init = function(args)',
            '  for i, body in ipairs(bodies) do requests[i] = wrk.format(nil, nil, nil, body) end',
            'end',
            'request = function()',
            '  turn = turn % #requests + 1',
            '  return requests[turn]',
            'end',
          ]),
      'done = function(summary, latency, requests)',
      '  local e = summary.errors',
      '  io.write(string.format("WRK_RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,',
      '    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))',
      'end',
    ].join('\n'),
  );
  try {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'wrk',
        ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, request.url],
        { encoding: 'utf8', timeout: (seconds + 30) * 1000 },
        (error, stdout, stderr) => (error ? reject(new Error(`wrk failed: ${error.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    const match = /WRK_RESULT (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(output);
    if (match === null) throw new Error(`wrk printed no result:\n${output}`);
    const [, requests, durationUs, p50Us, p99Us, errors] = match.map(Number) as number[];
    return { requests: requests!, seconds: durationUs! / 1e6, p50Ms: p50Us! / 1000, p99Ms: p99Us! / 1000, errors: errors!, driver: 'wrk' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runAutocannon(spec: LoadSpec, { connections, seconds }: LoadOptions): Promise<LoadResult> {
  const common = { connections, timeout: 10, ...(spec.kind === 'sequence' && spec.amount !== undefined ? { amount: spec.amount } : { duration: seconds }) };
  const options: autocannon.Options =
    spec.kind === 'fixed'
      ? { ...common, url: spec.request.url, method: spec.request.method, headers: spec.request.headers, ...fixedBody(spec.request) }
      : { ...common, url: spec.origin, requests: spec.requests };
  const started = performance.now();
  const result = await autocannon(options);
  const elapsed = (performance.now() - started) / 1000;
  const completed = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    requests: completed,
    // With `amount` the run ends when the last answer arrives; autocannon rounds its duration.
    seconds: spec.kind === 'sequence' && spec.amount !== undefined ? elapsed : result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result['4xx'] + result['5xx'] + result.errors,
    errorDetail: [
      ...Object.entries(result.statusCodeStats ?? {})
        .filter(([status]) => Number(status) >= 400)
        .map(([status, stats]) => `${stats.count ?? 0}× ${status}`),
      ...(result.errors > 0 ? [`${result.errors} connection errors (${result.timeouts} timeouts)`] : []),
    ].join(', '),
    driver: 'autocannon',
  };
}

/** autocannon's options for the body of a fixed request: one body, or `bodies` in turn. */
function fixedBody(request: FixedRequest): Partial<autocannon.Options> {
  const bodies = request.bodies;
  if (bodies === undefined) return request.body === undefined ? {} : { body: request.body };
  let next = 0;
  return { requests: [{ setupRequest: (sent) => ({ ...sent, body: bodies[next++ % bodies.length] }) }] };
}
