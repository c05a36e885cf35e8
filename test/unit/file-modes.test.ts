import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { openStorage } from '../../src/storage/open-storage.ts';
import { assertSucceeded, onlyEnv, runGatehouse } from '../support/gatehouse-cli.ts';

/**
 * Issue 13, item 13: the SQLite database, its WAL and shared-memory files and the development
 * key-encryption key hold secrets (hashed tokens, encrypted signing keys, the key that decrypts
 * them), so they are readable by their owner only (0600), and a folder Gatehouse creates for them
 * is 0700, whatever the umask. The umask here is the common 022, under which a file created
 * without care is 0644, readable by every local user. Child processes inherit it.
 */

let umaskBefore: number;
before(() => {
  umaskBefore = process.umask(0o022);
});
after(() => {
  process.umask(umaskBefore);
});

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8).padStart(4, '0');
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-file-modes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * `gatehouse keys list|rotate` without a key-encryption key: both open the database, and both
 * need the development key (list to create the first signing keys, rotate to seal new ones).
 */
function keys(dir: string, command: 'list' | 'rotate') {
  const config = join(dir, 'gatehouse.json');
  writeFileSync(config, JSON.stringify({ keyEncryptionKeyFile: join(dir, 'secrets', 'dev.key') }));
  return runGatehouse(['--config', config, 'keys', command], { env: onlyEnv({ DATABASE_URL: `sqlite:${join(dir, 'data', 'g.db')}` }) });
}

describe('file modes under umask 022', { concurrency: true, timeout: 120_000 }, () => {
  test('the CLI creates the database 0600, the development key 0600 and their folders 0700', async (t) => {
    const dir = tempDir(t);
    assertSucceeded(await keys(dir, 'list'), 'keys list');
    assert.equal(mode(join(dir, 'data')), '0700');
    assert.equal(mode(join(dir, 'data', 'g.db')), '0600');
    assert.equal(mode(join(dir, 'secrets')), '0700');
    assert.equal(mode(join(dir, 'secrets', 'dev.key')), '0600');
  });

  test('an open database has its file, -wal and -shm all 0600 (SQLite copies the database file mode)', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'g.db');
    const storage = await openStorage(`sqlite:${file}`);
    try {
      // The migrations have written through the WAL, so both side files exist while it is open.
      for (const path of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(path), '0600', path);
    } finally {
      await storage.close();
    }
  });

  test('an existing database, -wal and -shm with wider modes are narrowed to 0600 on open, and each is reported', async (t) => {
    const dir = tempDir(t);
    const original = join(dir, 'original.db');
    const copy = join(dir, 'copy', 'g.db');
    mkdirSync(join(dir, 'copy'), { mode: 0o755 });
    const first = await openStorage(`sqlite:${original}`);
    try {
      // A copy taken while the database is open is what a crash leaves: a non-empty WAL beside it.
      for (const suffix of ['', '-wal', '-shm']) {
        copyFileSync(`${original}${suffix}`, `${copy}${suffix}`);
        chmodSync(`${copy}${suffix}`, 0o644);
      }
    } finally {
      await first.close();
    }
    const warnings: string[] = [];
    const storage = await openStorage(`sqlite:${copy}`, { warn: (message) => warnings.push(message) });
    try {
      for (const path of [copy, `${copy}-wal`, `${copy}-shm`]) assert.equal(mode(path), '0600', path);
      assert.equal(warnings.length, 3, warnings.join('\n'));
      for (const suffix of ['', '-wal', '-shm']) {
        assert.ok(warnings.some((w) => w.includes(`${copy}${suffix} `) && w.includes('0644') && w.includes('0600')), `${suffix}: ${warnings.join('\n')}`);
      }
      assert.deepEqual((await storage.schemaStatus()).pending, [], 'the narrowed copy is still a working database');
      assert.equal(mode(join(dir, 'copy')), '0755', 'a folder Gatehouse did not create is left as it is');
    } finally {
      await storage.close();
    }
  });

  test('the CLI narrows an existing 0644 database and development key to 0600 and says so on stderr', async (t) => {
    const dir = tempDir(t);
    assertSucceeded(await keys(dir, 'list'), 'keys list');
    const db = join(dir, 'data', 'g.db');
    const key = join(dir, 'secrets', 'dev.key');
    chmodSync(db, 0o644);
    chmodSync(key, 0o644);

    const again = await keys(dir, 'rotate');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(mode(db), '0600');
    assert.equal(mode(key), '0600');
    const lines = again.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, again.stderr);
    for (const path of [db, key]) {
      assert.ok(lines.some((line) => line.startsWith('gatehouse: warning: ') && line.includes(path) && line.includes('0644')), again.stderr);
    }
  });
});
