/**
 * Turns measurements into the printed report: one Markdown table per workload (medians over the
 * rounds), the ratios between servers, and the targets with whether this run meets them.
 */
import type { ResultTable } from '../workloads.ts';

export interface Measurement {
  /** Units (requests or flows) per second. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU time (user + system) per unit, in microseconds. */
  cpuUsPerUnit: number;
  /** Peak RSS during the measurement (or since start, when it cannot be reset), in MB. */
  peakRssMb: number;
  errors: number;
  errorDetail: string;
  requests: number;
}

export interface Row {
  label: string;
  rate: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerUnit: number;
  peakRssMb: number;
  errors: number;
  requests: number;
  rounds: number;
}

export interface TableResult {
  table: ResultTable;
  rows: Row[];
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(label: string, measurements: Measurement[]): Row {
  return {
    label,
    rate: median(measurements.map((m) => m.rate)),
    p50Ms: median(measurements.map((m) => m.p50Ms)),
    p99Ms: median(measurements.map((m) => m.p99Ms)),
    cpuUsPerUnit: median(measurements.map((m) => m.cpuUsPerUnit)),
    peakRssMb: Math.max(...measurements.map((m) => m.peakRssMb)),
    errors: measurements.reduce((sum, m) => sum + m.errors, 0),
    requests: measurements.reduce((sum, m) => sum + m.requests, 0),
    rounds: measurements.length,
  };
}

export function ratio(result: TableResult, numerator: string, denominator: string): number {
  const a = result.rows.find((row) => row.label === numerator);
  const b = result.rows.find((row) => row.label === denominator);
  return a === undefined || b === undefined ? Number.NaN : a.rate / b.rate;
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a');
const thousands = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en') : 'n/a');

export function formatTable(result: TableResult): string {
  const { table, rows } = result;
  const floor = table.floor === undefined ? undefined : rows.find((row) => row.label === table.floor);
  const unit = table.unit;
  const per = unit === 'flows/s' ? 'flow' : 'req';
  const header = ['server', unit, 'p50 ms', 'p99 ms', `CPU µs/${per}`, 'peak RSS MB', 'errors', ...(floor ? ['× floor'] : [])];
  const lines = [
    `### ${table.title}`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => {
      const cells = [
        row.label,
        thousands(row.rate),
        fixed(row.p50Ms, 2),
        fixed(row.p99Ms, 2),
        thousands(row.cpuUsPerUnit),
        fixed(row.peakRssMb, 0),
        row.errors === 0 ? '0' : `${row.errors} of ${row.requests}`,
        ...(floor ? [times(row.rate / floor.rate)] : []),
      ];
      return `| ${cells.join(' | ')} |`;
    }),
    '',
  ];
  for (const [a, b] of table.comparisons) lines.push(`- ${a} ÷ ${b}: **${times(ratio(result, a, b))}**`);
  for (const note of table.notes) lines.push(`- ${note}`);
  lines.push('');
  return lines.join('\n');
}

export interface TargetCheck {
  what: string;
  measured: string;
  met: boolean | undefined;
}

/** The targets (issue 6, "What it must show"), evaluated on this run's tables. */
export function checkTargets(results: TableResult[], gatehouseStartMs: number[]): TargetCheck[] {
  const find = (key: string) => results.find((result) => result.table.key === key);
  const checks: TargetCheck[] = [];
  const ratioCheck = (key: string, a: string, b: string, what: string, atLeast: number) => {
    const result = find(key);
    if (result === undefined) return;
    const value = ratio(result, a, b);
    checks.push({ what, measured: `${times(value)} (${a} ÷ ${b})`, met: Number.isFinite(value) ? value >= atLeast : undefined });
  };
  ratioCheck('issuance', 'Gatehouse', 'oidc-provider', 'token issuance ≥ 3× oidc-provider', 3);
  ratioCheck('issuance', 'Gatehouse', 'node-oauth2-server', 'token issuance ≥ 1.0× node-oauth2-server (in memory)', 1);
  ratioCheck('introspection', 'Gatehouse', 'oidc-provider', 'introspection ≥ 5× oidc-provider', 5);
  ratioCheck('jwt', 'Gatehouse ES256', 'oidc-provider ES256', 'JWT access tokens (ES256) ≥ 3× oidc-provider JWT, same algorithm', 3);
  ratioCheck('jwt', 'Gatehouse ES256', 'oidc-provider RS256', 'JWT access tokens (ES256) ≥ 3× oidc-provider JWT in RS256 (the issue\'s reference mode)', 3);
  for (const key of ['growth-issuance', 'growth-introspection']) {
    const result = find(key);
    if (result === undefined || result.table.comparisons[0] === undefined) continue;
    const [large, small] = result.table.comparisons[0];
    const value = ratio(result, large, small);
    const name = key === 'growth-issuance' ? 'issuance' : 'introspection';
    checks.push({ what: `${name} at the large database within 10% of 10k`, measured: `${times(value)} (${large} ÷ ${small})`, met: Number.isFinite(value) ? value >= 0.9 : undefined });
  }
  const issuance = find('issuance');
  if (issuance !== undefined) {
    const gatehouse = issuance.rows.find((row) => row.label === 'Gatehouse');
    const oidc = issuance.rows.find((row) => row.label === 'oidc-provider');
    if (gatehouse !== undefined && oidc !== undefined) {
      checks.push({
        what: 'peak RSS under load ≤ oidc-provider (issuance)',
        measured: `${gatehouse.peakRssMb.toFixed(0)} MB vs ${oidc.peakRssMb.toFixed(0)} MB`,
        met: gatehouse.peakRssMb <= oidc.peakRssMb,
      });
    }
  }
  if (gatehouseStartMs.length > 0) {
    const slowest = Math.max(...gatehouseStartMs);
    checks.push({
      what: 'start to ready < 1 s (startServer on an existing database, keys present)',
      measured: `median ${median(gatehouseStartMs).toFixed(0)} ms, slowest ${slowest.toFixed(0)} ms over ${gatehouseStartMs.length} starts`,
      met: slowest < 1000,
    });
  }
  return checks;
}

export function formatTargets(checks: TargetCheck[]): string {
  return [
    '### Issue 6 targets',
    '',
    '| target | this run | met |',
    '|---|---|:---:|',
    ...checks.map((check) => `| ${check.what} | ${check.measured} | ${check.met === undefined ? 'n/a' : check.met ? 'yes' : 'no'} |`),
    '',
  ].join('\n');
}

/** The peers' ratios to the floor next to the ones the issue reports, as a check of the harness. */
export function formatReferenceRatios(results: TableResult[]): string {
  const references: Array<[string, string, string, number]> = [
    ['issuance', 'oidc-provider', 'issuance', 0.12],
    ['introspection', 'oidc-provider', 'introspection', 0.12],
    ['jwt', 'oidc-provider RS256', 'RS256 JWT issuance', 0.05],
    ['issuance', 'node-oauth2-server', 'issuance', 0.42],
    ['issuance', 'floor + SQLite', 'issuance', 0.4],
  ];
  const lines = ['### Peers ÷ floor, this run and the issue\'s reference', '', '| server | workload | this run | issue |', '|---|---|---:|---:|'];
  for (const [key, label, workload, reference] of references) {
    const result = results.find((candidate) => candidate.table.key === key);
    if (result === undefined || result.table.floor === undefined) continue;
    lines.push(`| ${label} | ${workload} | ${times(ratio(result, label, result.table.floor))} | ${times(reference)} |`);
  }
  lines.push('');
  return lines.join('\n');
}
