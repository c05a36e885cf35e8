import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { signJwtOnThread } from '../../src/server/keys/jws.ts';
import { hashSecret } from '../../src/server/keys/opaque-secret.ts';
import { SigningThreads } from '../../src/server/keys/signing-threads.ts';

const es256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rs256 = generateKeyPairSync('rsa', { modulusLength: 2048 });

test('JWTs signed on the signing threads verify with jose, for both algorithms and many at once, with the SHA-256 they are stored under', async (t) => {
  const thread = new SigningThreads();
  t.after(() => thread.close());
  const jobs = Array.from({ length: 200 }, (_, i) => {
    const [alg, pair] = i % 4 === 0 ? (['RS256', rs256] as const) : (['ES256', es256] as const);
    const header = { alg, kid: `${alg}-key`, typ: 'at+jwt' } as const;
    return signJwtOnThread(header, { jti: String(i), sub: `client-${i}` }, pair.privateKey, thread).then((signed) => ({ ...signed, i, pair }));
  });
  for (const { jwt, sha256, i, pair } of await Promise.all(jobs)) {
    const { payload } = await compactVerify(jwt, pair.publicKey);
    // The jti is not time-ordered here, so the stored key is the hash alone.
    assert.equal(sha256, hashSecret(jwt));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), { jti: String(i), sub: `client-${i}` });
    assert.equal(decodeProtectedHeader(jwt).alg, i % 4 === 0 ? 'RS256' : 'ES256');
  }
});

test('a signature made with one key never verifies with another key sent under a different kid', async (t) => {
  const thread = new SigningThreads();
  t.after(() => thread.close());
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const [{ jwt: first }, { jwt: second }] = await Promise.all([
    signJwtOnThread({ alg: 'ES256', kid: 'one', typ: 'JWT' }, { n: 1 }, es256.privateKey, thread),
    signJwtOnThread({ alg: 'ES256', kid: 'two', typ: 'JWT' }, { n: 2 }, other.privateKey, thread),
  ]);
  await compactVerify(first, es256.publicKey);
  await compactVerify(second, other.publicKey);
  await assert.rejects(compactVerify(second, es256.publicKey));
});

/**
 * Asks for `count` signatures, closes the threads, and returns how each ended. The signatures are
 * awaited before close() fails them, as the server's callers do.
 */
async function outcomesOfClose(count: number, alg: 'ES256' | 'RS256'): Promise<{ thread: SigningThreads; outcomes: PromiseSettledResult<unknown>[] }> {
  const thread = new SigningThreads();
  const key = alg === 'ES256' ? es256.privateKey : rs256.privateKey;
  const settled = Promise.allSettled(Array.from({ length: count }, () => thread.signJwt(alg, 'k', key, 'e30', '{}')));
  await thread.close();
  return { thread, outcomes: await settled };
}

test('close() stops the thread: signatures in flight and later ones fail instead of hanging', async () => {
  // Each RS256 signature leaves for a thread at once.
  const { thread, outcomes } = await outcomesOfClose(50, 'RS256');
  // Some may have been signed before the thread stopped; none may be left pending.
  assert.equal(outcomes.length, 50);
  assert.ok(outcomes.some((outcome) => outcome.status === 'rejected'));
  await assert.rejects(thread.signJwt('ES256', 'k', es256.privateKey, 'e30', '{}'), /stopped/);
});

test('close() fails signatures still waiting for their batch to fill, at once', async () => {
  // Fewer ES256 signatures than fill a batch: none has left for a thread when close() is called.
  const { outcomes } = await outcomesOfClose(3, 'ES256');
  assert.deepEqual(
    outcomes.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : 'signed')),
    Array.from({ length: 3 }, () => 'Error: the signing threads have been stopped'),
  );
});

test('the thread keeps a script alive while a signature is on its way, and not after', () => {
  const script = `
    import { generateKeyPairSync } from 'node:crypto';
    import { SigningThreads } from ${JSON.stringify(fileURLToPath(new URL('../../src/server/keys/signing-threads.ts', import.meta.url)))};
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const thread = new SigningThreads();
    // The second signature goes to a thread that is already running and idle.
    await thread.signJwt('ES256', 'k', privateKey, 'e30', '{}');
    thread.signJwt('ES256', 'k', privateKey, 'e30', '{"n":2}').then(({ jwt }) => console.log('signed', jwt.split('.')[2].length));
  `;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.status, 0, result.stderr);
  // 64 bytes of R || S, base64url: 86 characters.
  assert.match(result.stdout, /^signed 86$/m);
});

test('batches in flight together go to different threads, and each thread is sent the keys it needs', async (t) => {
  const threads = new SigningThreads(3);
  t.after(() => threads.close());
  const header = { alg: 'RS256', kid: 'shared', typ: 'JWT' } as const;
  // Three loop turns of eight RS256 signatures, each signature a batch of its own, sent while the
  // ones before it are still being signed.
  const batches: Promise<{ jwt: string }[]>[] = [];
  for (let turn = 0; turn < 3; turn++) {
    batches.push(Promise.all(Array.from({ length: 8 }, (_, i) => signJwtOnThread(header, { turn, i }, rs256.privateKey, threads))));
    await new Promise((resolve) => setImmediate(resolve));
  }
  for (const [turn, signed] of (await Promise.all(batches)).entries()) {
    for (const [i, { jwt }] of signed.entries()) {
      const { payload } = await compactVerify(jwt, rs256.publicKey);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), { turn, i });
    }
  }
});
