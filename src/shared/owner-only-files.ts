import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, statSync } from 'node:fs';

/**
 * Files that hold secrets (the SQLite database with its hashed tokens and encrypted signing keys,
 * its WAL, the development key-encryption key, the client's token vault) are readable by their
 * owner only, whatever the process umask: under the common umask 022 a file created without care
 * is 0644, readable by every local user.
 */

/** Told when a file's mode was narrowed, so the operator learns that it had been readable by others. */
export type Warn = (message: string) => void;

/** Node's channel for warnings of a library, for callers that pass no logger of their own. */
export const emitWarning: Warn = (message) => process.emitWarning(message);

/** Creates `dir` and any missing parents with mode 0700; a folder that exists is left as it is. */
export function makeOwnerOnlyDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Creates `file` empty with mode 0600 unless it exists. The explicit chmod makes the mode
 * independent of the umask, which `open`'s mode argument is not.
 */
export function createOwnerOnlyFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}

/**
 * An existing `file` that group or others may access is narrowed to 0600 and reported (chmod
 * rather than refuse: the file was created by an earlier Gatehouse, or copied, not made open on
 * purpose). A missing file is no error.
 */
export function narrowToOwnerOnly(file: string, warn: Warn): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if ((mode & 0o077) === 0) return;
  chmodSync(file, 0o600);
  warn(`${file} was readable by others (mode ${octal(mode)}); changed it to 0600 because it holds secrets`);
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
