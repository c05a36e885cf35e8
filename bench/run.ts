/**
 * `npm run bench`: Gatehouse side by side with oidc-provider, @node-oauth/oauth2-server and two
 * floors, each server its own process on 127.0.0.1, load from wrk (or autocannon), targets
 * measured interleaved (A B C A B C …) after a discarded warm-up, results as medians and ratios.
 * Progress goes to stderr; the report (Markdown) to stdout.
 *
 *   npm run bench                       full run (~10 minutes on 2 cores)
 *   BENCH_QUICK=1 npm run bench         smoke run (~1–2 minutes, 1 round, 1 s measurements)
 *   BENCH_ONLY=issuance,introspection   only these groups: issuance, jwt, introspection, bearer, code, flow, growth
 *   BENCH_SECONDS, BENCH_WARMUP, BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_CODES, BENCH_GROWTH_TOKENS
 *   BENCH_DRIVER=autocannon             never use wrk
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ensureWrk, runLoad, wrkVersion } from './harness/load.ts';
import { checkTargets, formatReferenceRatios, formatTable, formatTargets, summarize, type Measurement, type TableResult } from './harness/report.ts';
import { clockTicksPerSecond, ServerProcess, stopAll } from './harness/server-process.ts';
import type { ReadyMessage } from './servers/protocol.ts';
import { groupsFor, type BenchSettings, type Target, type WorkloadGroup } from './workloads.ts';

const quick = process.env.BENCH_QUICK === '1';
const settings: BenchSettings = {
  quick,
  connections: envInt('BENCH_CONNECTIONS', 32),
  seconds: envInt('BENCH_SECONDS', quick ? 1 : 5),
  warmupSeconds: envInt('BENCH_WARMUP', quick ? 1 : 2),
  rounds: envInt('BENCH_ROUNDS', quick ? 1 : 3),
  codesPerMeasurement: envInt('BENCH_CODES', quick ? 300 : 1500),
  growthTokens: envInt('BENCH_GROWTH_TOKENS', quick ? 100_000 : 1_000_000),
  baseline: process.env.BENCH_BASELINE || undefined,
};
const only = process.env.BENCH_ONLY?.split(',').map((key) => key.trim()).filter((key) => key !== '');

const log = (text: string) => process.stderr.write(`[bench] ${text}\n`);
const out = (text: string) => process.stdout.write(`${text}\n`);

const began = performance.now();
const logDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-logs-'));
const useWrk = ensureWrk(log);
const groups = groupsFor(settings).filter((group) => only === undefined || only.includes(group.key));
if (groups.length === 0) throw new Error(`BENCH_ONLY names no group; use ${groupsFor(settings).map((group) => group.key).join(', ')}`);

out('## Gatehouse benchmark');
out('');
out(`- ${new Date().toISOString()} · ${quick ? 'QUICK (smoke run: too short for conclusions)' : 'full run'}`);
out(`- machine: ${cpuModel()} × ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · ${process.platform}`);
out(
  `- load: ${useWrk ? `${wrkVersion()} (1 thread) for fixed requests, autocannon for stateful sequences` : 'autocannon'} · ` +
    `${settings.connections} connections · ${settings.rounds} round(s) of ${settings.seconds} s per target, interleaved, after a ${settings.warmupSeconds} s warm-up`,
);
out('- rates and latencies: median over the rounds; CPU: server user+system time from /proc/PID/stat per request; RSS: VmHWM during the measurement');
out('');

const results: TableResult[] = [];
const gatehouseStartMs: number[] = [];
/**
 * Server processes outlive a group when a later group uses the same server (by name): fewer
 * starts, and the peers keep what earlier workloads left in their memory, as a long-running
 * server would. A failed group's servers are not reused.
 */
const pool = new Map<string, ServerProcess>();

let failed = false;

try {
  for (const [index, group] of groups.entries()) {
    try {
      results.push(...(await runGroup(group, groups.slice(index + 1))));
    } catch (error) {
      failed = true;
      log(`group ${group.key} failed: ${(error as Error).stack ?? String(error)}`);
      out(`### ${group.key}: FAILED — ${(error as Error).message.split('\n')[0]}\n`);
    }
  }
  if (results.length > 0) {
    out(formatTargets(checkTargets(results, gatehouseStartMs)));
    out(formatReferenceRatios(results));
  }
  out(`Finished in ${((performance.now() - began) / 1000).toFixed(0)} s; server logs in ${logDir}`);
} finally {
  await stopAll();
}
process.exitCode = failed ? 1 : 0;

async function runGroup(group: WorkloadGroup, later: WorkloadGroup[]): Promise<TableResult[]> {
  const servers = new Map<string, ServerProcess>();
  const start = async (specs: WorkloadGroup['servers']) => {
    const fresh = specs.filter((spec) => !pool.get(spec.name)?.alive);
    if (fresh.length > 0) log(`group "${group.key}": starting ${fresh.map((spec) => spec.name).join(', ')}`);
    const started = await Promise.all(fresh.map((spec) => ServerProcess.start(spec, logDir, (text) => log(`${spec.name}: ${text}`))));
    for (const server of started) {
      pool.set(server.spec.name, server);
      if (server.spec.script === 'gatehouse.ts' && server.ready.startMs !== undefined) gatehouseStartMs.push(server.ready.startMs);
      log(
        `${server.spec.name} ready at ${server.ready.url} (pid ${server.pid}, ${server.spawnToReadyMs.toFixed(0)} ms from spawn` +
          `${server.ready.startMs === undefined ? '' : `; startServer ${server.ready.startMs.toFixed(0)} ms, first-start key generation ${server.ready.keyGenerationMs?.toFixed(0)} ms`})`,
      );
    }
    for (const spec of specs) servers.set(spec.name, pool.get(spec.name)!);
  };
  let ok = false;
  try {
    await start(group.servers);
    if (group.dependentServers !== undefined) {
      const ready = new Map<string, ReadyMessage>([...servers].map(([name, server]) => [name, server.ready]));
      await start(group.dependentServers(ready));
    }
    const tables = await group.tables(servers, settings);
    const targets = tables.flatMap((table) => table.targets);
    const measurements = new Map<Target, Measurement[]>(targets.map((target) => [target, []]));

    for (const target of targets) {
      const warm = await measure(target, servers, 'warmup');
      log(`warm-up   ${target.label}: ${Math.round(warm.rate)} ${unitOf(target)}${warm.errors > 0 ? `, ${warm.errors} errors: ${warm.errorDetail}` : ''}`);
    }
    for (let round = 1; round <= settings.rounds; round++) {
      for (const target of targets) {
        const result = await measure(target, servers, 'measure');
        measurements.get(target)!.push(result);
        log(
          `round ${round}/${settings.rounds} ${target.label}: ${Math.round(result.rate)} ${unitOf(target)}, p99 ${result.p99Ms.toFixed(1)} ms, ` +
            `${Math.round(result.cpuUsPerUnit)} µs CPU${result.errors > 0 ? `, ${result.errors} errors: ${result.errorDetail}` : ''}`,
        );
      }
    }
    const tableResults = tables.map((table) => ({ table, rows: table.targets.map((target) => summarize(target.label, measurements.get(target)!)) }));
    for (const result of tableResults) out(formatTable(result));
    ok = true;
    return tableResults;
  } finally {
    const needed = new Set(later.flatMap((next) => next.servers.map((spec) => spec.name)));
    for (const [name, server] of servers) {
      if (ok && needed.has(name)) continue;
      pool.delete(name);
      await server.stop();
    }
  }
}

async function measure(target: Target, servers: Map<string, ServerProcess>, phase: 'warmup' | 'measure'): Promise<Measurement> {
  const server = servers.get(target.server)!;
  const spec = await target.load(phase);
  server.resetPeakRss();
  const ticksBefore = server.cpuTicks();
  const result = await runLoad(spec, { connections: settings.connections, seconds: phase === 'warmup' ? settings.warmupSeconds : settings.seconds });
  if (!server.alive) throw new Error(`${server.spec.name} died during ${target.label}; see ${server.logFile}`);
  const cpuSeconds = (server.cpuTicks() - ticksBefore) / clockTicksPerSecond;
  const perUnit = target.perUnit ?? 1;
  const units = result.requests / perUnit;
  return {
    rate: units / result.seconds,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    cpuUsPerUnit: units > 0 ? (cpuSeconds * 1e6) / units : Number.NaN,
    peakRssMb: server.peakRssKb() / 1024,
    errors: result.errors,
    errorDetail: result.errorDetail ?? '',
    requests: result.requests,
  };
}

function unitOf(target: Target): string {
  return (target.perUnit ?? 1) > 1 ? 'flows/s' : 'req/s';
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1 (got "${raw}")`);
  return value;
}

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown CPU';
  } catch {
    return cpus()[0]?.model ?? 'unknown CPU';
  }
}
