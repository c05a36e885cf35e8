import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
