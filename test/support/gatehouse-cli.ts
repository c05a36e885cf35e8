import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './listening-server.ts';

/** The checkout, and the command a user runs (`npx gatehouse …`). */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const gatehouseBin = join(repoRoot, 'bin', 'gatehouse.js');

export interface CliRun {
  /** null when the command was killed (by the deadline, or by a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The command's whole environment: nothing of the test runner's leaks in unless given here. */
  env: NodeJS.ProcessEnv;
  /** Written to the command's standard input, which is then closed. */
  stdin?: string;
  /**
   * A command still running after this long is killed and its run ends with code null, so that a
   * `start` that wrongly succeeds fails its test instead of hanging it.
   */
  timeoutMs?: number;
}

/** Runs `gatehouse ARGS` as a child process from the checkout and collects its output. */
export function runGatehouse(args: string[], { env, stdin = '', timeoutMs = 60_000 }: CliOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [gatehouseBin, ...args], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command that fails before reading its input closes the pipe; its exit code tells why.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

/** An environment of only PATH and `variables` (an undefined value leaves a variable out). */
export function onlyEnv(variables: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [name, value] of Object.entries(variables)) if (value !== undefined) env[name] = value;
  return env;
}

/** Resolves with the exit code once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface RunningGatehouse {
  child: ChildProcess;
  issuer: string;
  /** Everything the server printed so far. */
  output(): string;
}

/**
 * `gatehouse start` as a child process on a free port of 127.0.0.1, with `env` plus its PORT, HOST
 * and GATEHOUSE_ISSUER; resolves once it prints that it is listening. The test ends it (SIGTERM,
 * then SIGKILL after 10 s). Generous by default, because the server competes for the CPU with
 * the rest of the suite and its migration may wait for another one in the same database.
 */
export async function startGatehouse(t: TestContext, env: NodeJS.ProcessEnv, readyTimeoutMs = 60_000): Promise<RunningGatehouse> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [gatehouseBin, 'start'], {
    cwd: repoRoot,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_ISSUER: issuer },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    try {
      await withTimeout(exited(child), 10_000, 'gatehouse to stop');
    } catch {
      child.kill('SIGKILL');
      await exited(child);
    }
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes(`listening on ${issuer}`)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`gatehouse start exited with ${code} before listening: ${stderr}`)));
    child.once('error', reject);
  });
  try {
    await withTimeout(listening, readyTimeoutMs, `"listening on ${issuer}" from gatehouse start`);
  } catch (error) {
    throw new Error(`${(error as Error).message}; stdout: ${stdout}; stderr: ${stderr}`);
  }
  return { child, issuer, output: () => stdout };
}

/** A command that worked: exit code 0 and nothing on stderr. */
export function assertSucceeded(run: CliRun, what: string): void {
  assert.equal(run.code, 0, `${what} failed: ${run.stderr}`);
  assert.equal(run.stderr, '', `${what} wrote to stderr`);
}

/** The contract for bad input: exactly one line on stderr, prefixed, nothing on stdout, exit ≠ 0. */
export function assertOneLineError(run: CliRun, message: RegExp): void {
  assert.notEqual(run.code, 0, `expected a non-zero exit code; stdout: ${run.stdout}`);
  assert.match(run.stderr, /^gatehouse: [^\n]+\n$/, `stderr must be one "gatehouse: " line, got ${JSON.stringify(run.stderr)}`);
  assert.match(run.stderr, message);
  assert.equal(run.stdout, '');
}
