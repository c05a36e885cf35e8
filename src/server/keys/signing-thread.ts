import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { SigningAlgorithm } from '../../storage/storage.ts';
import type { SignedJwt } from './jws.ts';

/**
 * JWS signatures computed on a worker thread, so that a second core does the ECDSA or RSA
 * arithmetic while the event loop goes on serving requests.
 *
 * Signing is the largest single cost of a JWT access token (an ES256 signature is ~25 µs of CPU,
 * RS256 several times that). `crypto.sign` with a callback also runs on another thread, but
 * each such call costs the event loop ~7–13 µs to set up (bench/README.md), about half of what it
 * saves. Here the signatures a loop turn asks for travel to the thread in one message and come
 * back in one, so the event loop pays a few microseconds per batch instead.
 *
 * The thread is started on first use and keeps the process alive only while signatures are in
 * flight. If it dies, the
 * signatures it was computing fail (the caller answers `server_error`) and the next one starts a
 * new thread. Private keys are sent to it once per key id, as `KeyObject`s (cloned by
 * `postMessage`, never serialized to text).
 */
export class SigningThread {
  #worker: Worker | undefined;
  /** Key ids the current worker has been sent. */
  #sentKeys = new Set<string>();
  /** Signatures asked for in this loop turn, sent together at its check phase. */
  #queued: Job[] = [];
  #keysToSend: { kid: string; key: KeyObject }[] = [];
  #inFlight = new Map<number, Job[]>();
  #nextBatch = 0;
  #closed = false;

  /**
   * A JWS in compact serialization (RFC 7515 §7.1) of `payloadJson` under `encodedHeader`, signed
   * with `key` per RFC 7518 §3.3 (RS256) or §3.4 (ES256), and its SHA-256: everything but the
   * JSON is done on the thread.
   */
  signJwt(alg: SigningAlgorithm, kid: string, key: KeyObject, encodedHeader: string, payloadJson: string): Promise<SignedJwt> {
    if (this.#closed) return Promise.reject(new Error('the signing thread has been stopped'));
    if (!this.#sentKeys.has(kid)) {
      this.#sentKeys.add(kid);
      this.#keysToSend.push({ kid, key });
    }
    return new Promise<SignedJwt>((resolve, reject) => {
      if (this.#queued.length === 0) setImmediate(this.#flush);
      this.#queued.push({ alg, kid, encodedHeader, payloadJson, resolve, reject });
    });
  }

  /** Stops the thread; signatures still in flight fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) await worker.terminate();
    this.#failAll(new Error('the signing thread has been stopped'));
  }

  readonly #flush = (): void => {
    const jobs = this.#queued;
    if (jobs.length === 0) return;
    this.#queued = [];
    const keys = this.#keysToSend;
    this.#keysToSend = [];
    const batch = this.#nextBatch++;
    this.#inFlight.set(batch, jobs);
    try {
      const worker = this.#thread();
      // Held while signatures are on their way, so that a script awaiting one does not exit.
      if (this.#inFlight.size === 1) worker.ref();
      const message: BatchRequest = {
        batch,
        keys,
        jobs: jobs.map(({ alg, kid, encodedHeader, payloadJson }) => ({ alg, kid, encodedHeader, payloadJson })),
      };
      worker.postMessage(message);
    } catch (error) {
      this.#inFlight.delete(batch);
      for (const job of jobs) job.reject(error);
    }
  };

  #thread(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    // No inherited flags: the code is plain CommonJS, and `--input-type=module` would make it ESM.
    const worker = new Worker(threadSource, { eval: true, execArgv: [] });
    worker.unref();
    worker.on('message', (reply: BatchReply) => this.#settle(reply));
    const lost = (error: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#sentKeys.clear();
      this.#failAll(error);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the signing thread exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  #settle(reply: BatchReply): void {
    const jobs = this.#inFlight.get(reply.batch);
    if (jobs === undefined) return;
    this.#inFlight.delete(reply.batch);
    if (this.#inFlight.size === 0) this.#worker?.unref();
    jobs.forEach((job, index) => {
      const signed = reply.signed[index];
      if (signed !== null && signed !== undefined) job.resolve({ jwt: signed[0], sha256: signed[1] });
      else job.reject(new Error(`signing failed on the signing thread: ${reply.errors[index] ?? 'no signature'}`));
    });
  }

  #failAll(error: Error): void {
    for (const jobs of this.#inFlight.values()) for (const job of jobs) job.reject(error);
    this.#inFlight.clear();
    // Keys queued for a thread that is gone are sent again to the next one.
    for (const job of this.#queued) job.reject(error);
    this.#queued = [];
    this.#keysToSend = [];
  }
}

interface JobRequest {
  alg: SigningAlgorithm;
  kid: string;
  encodedHeader: string;
  payloadJson: string;
}

interface Job extends JobRequest {
  resolve(signed: SignedJwt): void;
  reject(error: unknown): void;
}

interface BatchRequest {
  batch: number;
  keys: { kid: string; key: KeyObject }[];
  jobs: JobRequest[];
}

interface BatchReply {
  batch: number;
  /** One per job: [the JWT, its SHA-256], or null where `errors` says why. */
  signed: ([string, string] | null)[];
  errors: (string | null)[];
}

/**
 * The thread's code, plain CommonJS so that it runs the same under tsx and compiled: it keeps
 * the keys it was sent by key id and signs every job of a batch synchronously. ES256 signatures
 * are R || S (ieee-p1363), as JWS requires (RFC 7518 §3.4). The SHA-256 is that of
 * secrets/opaque-secret.ts (`hashSecret`): base64url of the digest of the token's UTF-8.
 */
const threadSource = `
const { parentPort } = require('node:worker_threads');
const { createHash, sign } = require('node:crypto');
const keys = new Map();
parentPort.on('message', ({ batch, keys: sent, jobs }) => {
  for (const { kid, key } of sent) keys.set(kid, key);
  const signed = [];
  const errors = [];
  for (const { alg, kid, encodedHeader, payloadJson } of jobs) {
    try {
      const key = keys.get(kid);
      if (key === undefined) throw new Error('unknown key ' + kid);
      const signingInput = encodedHeader + '.' + Buffer.from(payloadJson, 'utf8').toString('base64url');
      const data = Buffer.from(signingInput, 'ascii');
      const signature = alg === 'ES256' ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', data, key);
      const jwt = signingInput + '.' + signature.toString('base64url');
      signed.push([jwt, createHash('sha256').update(jwt, 'utf8').digest('base64url')]);
      errors.push(null);
    } catch (error) {
      signed.push(null);
      errors.push(String((error && error.message) || error));
    }
  }
  parentPort.postMessage({ batch, signed, errors });
});
`;
