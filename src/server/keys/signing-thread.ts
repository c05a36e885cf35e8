import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { SigningAlgorithm } from '../../storage/storage.ts';

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

  /** The signature (base64url) of `signingInput` with `key`, per RFC 7518 §3.3 (RS256) or §3.4 (ES256). */
  sign(alg: SigningAlgorithm, kid: string, key: KeyObject, signingInput: string): Promise<string> {
    if (this.#closed) return Promise.reject(new Error('the signing thread has been stopped'));
    if (!this.#sentKeys.has(kid)) {
      this.#sentKeys.add(kid);
      this.#keysToSend.push({ kid, key });
    }
    return new Promise<string>((resolve, reject) => {
      if (this.#queued.length === 0) setImmediate(this.#flush);
      this.#queued.push({ alg, kid, signingInput, resolve, reject });
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
      const message: BatchRequest = { batch, keys, jobs: jobs.map(({ alg, kid, signingInput }) => ({ alg, kid, signingInput })) };
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
      const signature = reply.signatures[index];
      if (typeof signature === 'string') job.resolve(signature);
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

interface Job {
  alg: SigningAlgorithm;
  kid: string;
  signingInput: string;
  resolve(signature: string): void;
  reject(error: unknown): void;
}

interface BatchRequest {
  batch: number;
  keys: { kid: string; key: KeyObject }[];
  jobs: { alg: SigningAlgorithm; kid: string; signingInput: string }[];
}

interface BatchReply {
  batch: number;
  /** One per job: the base64url signature, or null where `errors` says why. */
  signatures: (string | null)[];
  errors: (string | null)[];
}

/**
 * The thread's code, plain CommonJS so that it runs the same under tsx and compiled: it keeps
 * the keys it was sent by key id and signs every job of a batch synchronously. ES256 signatures
 * are R || S (ieee-p1363), as JWS requires (RFC 7518 §3.4).
 */
const threadSource = `
const { parentPort } = require('node:worker_threads');
const { sign } = require('node:crypto');
const keys = new Map();
parentPort.on('message', ({ batch, keys: sent, jobs }) => {
  for (const { kid, key } of sent) keys.set(kid, key);
  const signatures = [];
  const errors = [];
  for (const { alg, kid, signingInput } of jobs) {
    try {
      const key = keys.get(kid);
      if (key === undefined) throw new Error('unknown key ' + kid);
      const data = Buffer.from(signingInput, 'ascii');
      const signature = alg === 'ES256' ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', data, key);
      signatures.push(signature.toString('base64url'));
      errors.push(null);
    } catch (error) {
      signatures.push(null);
      errors.push(String(error && error.message || error));
    }
  }
  parentPort.postMessage({ batch, signatures, errors });
});
`;
