/**
 * One benchmark server as a child process: `node --import tsx bench/servers/NAME.ts` on
 * 127.0.0.1, its stdout sent to /dev/null (Gatehouse logs there, as in production), its stderr
 * to a log file, and its CPU time and peak memory read from /proc. Every process started here is
 * ended by `stopAll` (also on exit, SIGINT and SIGTERM of the driver), and each server exits by
 * itself when the driver's IPC channel closes, so a crashed driver leaves no orphans either.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ReadyMessage, ServerMessage } from '../servers/protocol.ts';

export interface ServerSpec {
  /** Short name, used in progress lines and the log file name. */
  name: string;
  /** File under bench/servers/. */
  script: string;
  env?: Record<string, string>;
}

const serversDir = new URL('../servers/', import.meta.url).pathname;
const running = new Set<ServerProcess>();

/** Clock ticks per second of /proc/PID/stat's utime and stime. */
export const clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export class ServerProcess {
  readonly spec: ServerSpec;
  readonly child: ChildProcess;
  readonly logFile: string;
  ready!: ReadyMessage;
  /** From spawn (tsx compiling included) to the ready message. */
  spawnToReadyMs = 0;
  #exited = false;

  private constructor(spec: ServerSpec, child: ChildProcess, logFile: string) {
    this.spec = spec;
    this.child = child;
    this.logFile = logFile;
    child.once('exit', () => {
      this.#exited = true;
      running.delete(this);
    });
  }

  static async start(spec: ServerSpec, logDir: string, onProgress: (text: string) => void, timeoutMs = 15 * 60_000): Promise<ServerProcess> {
    const logFile = join(logDir, `${spec.name}.log`);
    const stderr = openSync(logFile, 'a');
    const stdout = process.env.BENCH_SERVER_STDOUT === '1' ? stderr : openSync('/dev/null', 'w');
    const started = performance.now();
    // BENCH_CPU_PROF=DIR: V8 CPU profiles of every server in DIR/NAME/, written when it ends; the
    // largest file is the main thread's (tsx's loader thread writes a small one). Summarise it with
    // `node --import tsx bench/profile-summary.ts FILE`.
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(process.env.BENCH_CPU_PROF, spec.name)}`] : [];
    const child = spawn(process.execPath, [...profile, '--import', 'tsx', resolve(serversDir, spec.script)], {
      stdio: ['ignore', stdout, stderr, 'ipc'],
      env: { ...process.env, ...spec.env },
    });
    closeSync(stderr);
    if (stdout !== stderr) closeSync(stdout);
    const server = new ServerProcess(spec, child, logFile);
    running.add(server);
    server.ready = await new Promise<ReadyMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${spec.name} was not ready after ${timeoutMs / 1000} s (log: ${logFile})`)), timeoutMs);
      child.on('message', (message: ServerMessage) => {
        if (message.type === 'progress') onProgress(message.text);
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(message);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${spec.name} exited before it was ready (${signal ?? `code ${code}`}); see ${logFile}:\n${tail(logFile)}`));
      });
    });
    server.spawnToReadyMs = performance.now() - started;
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** User plus system CPU time of the whole process (all its threads), in clock ticks. */
  cpuTicks(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  }

  /** Resets VmHWM to the current RSS (Linux `clear_refs` 5), so the next peak is this measurement's. */
  resetPeakRss(): boolean {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }

  /** Peak resident set size in kB (VmHWM). */
  peakRssKb(): number {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]);
  }

  get alive(): boolean {
    return !this.#exited;
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
}

function killAllNow(): void {
  for (const server of running) server.child.kill('SIGKILL');
}

process.once('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllNow();
    process.exit(130);
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}
