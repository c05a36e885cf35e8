import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SigningAlgorithm } from '../../storage/storage.ts';
import type { SignedJwt } from './jws.ts';

/**
 * JWS signatures computed on worker threads, so that other cores do the ECDSA or RSA arithmetic
 * while the event loop goes on serving requests.
 *
 * Signing is the largest single cost of a JWT access token (an ES256 signature is ~25 µs of CPU,
 * RS256 several times that). `crypto.sign` with a callback also runs on another thread, but
 * each such call costs the event loop ~7–13 µs to set up (bench/README.md), about half of what it
 * saves. Here signatures travel to a thread a few at a time, in one message per batch and one
 * back, so the event loop pays a few microseconds per batch instead.
 *
 * A batch leaves as soon as it holds `batchMicroseconds` of signing (eight ES256 signatures, one
 * RS256), while the event loop is still reading the other requests of its turn; the rest of a
 * turn's signatures leave at its check phase. Sending a whole turn at once made a convoy: under
 * steady load the event loop sat idle while a thread signed everything it had just read (a third
 * of its time with 32 connections), then the thread sat idle while the loop stored and answered.
 * Small batches keep both busy, and the answers go out as their signatures come back.
 *
 * There are as many threads as cores, at most `maxSigningThreads`, unless the `signingThreads`
 * option says otherwise (config/defaults.ts): ES256 keeps one of them busy
 * a fraction of the time, while RS256 signing is what limits its rate, and the event loop has
 * little else to do then. Each batch goes to the thread with the least signing in flight.
 * Threads start on first use and keep the process alive only while signatures are in flight. If
 * one dies, the signatures it was computing fail (the caller answers `server_error`) and the next
 * batch starts a new one. Private keys are sent to each thread once per key id, as `KeyObject`s
 * (cloned by `postMessage`, never serialized to text).
 */
export class SigningThreads {
  readonly #slots: Slot[];
  /** Signatures asked for and not yet sent: the next batch. */
  #queued: Job[] = [];
  /** Microseconds of signing in `#queued` (`signingMicroseconds`). */
  #queuedWork = 0;
  /** A flush is due at this turn's check phase. */
  #flushScheduled = false;
  #nextBatch = 0;
  #closed = false;

  /** `threads`: how many; 0 (the `signingThreads` default) is one per core, at most `maxSigningThreads`. */
  constructor(threads = 0) {
    const count = threads > 0 ? threads : Math.min(maxSigningThreads, availableParallelism());
    this.#slots = Array.from({ length: count }, () => ({ worker: undefined, sentKeys: new Set(), inFlight: new Map() }));
  }

  /**
   * A JWS in compact serialization (RFC 7515 §7.1) of `payloadJson` under `encodedHeader`, signed
   * with `key` per RFC 7518 §3.3 (RS256) or §3.4 (ES256), and its SHA-256: everything but the
   * JSON is done on a signing thread.
   */
  signJwt(alg: SigningAlgorithm, kid: string, key: KeyObject, encodedHeader: string, payloadJson: string): Promise<SignedJwt> {
    if (this.#closed) return Promise.reject(new Error('the signing threads have been stopped'));
    return new Promise<SignedJwt>((resolve, reject) => {
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flushAtCheck);
      }
      this.#queued.push({ alg, kid, key, encodedHeader, payloadJson, resolve, reject });
      this.#queuedWork += signingMicroseconds[alg];
      if (this.#queuedWork >= batchMicroseconds) this.#flush();
    });
  }

  /** Stops the threads; signatures still in flight fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const stopped = new Error('the signing threads have been stopped');
    for (const job of this.#queued) job.reject(stopped);
    this.#queued = [];
    this.#queuedWork = 0;
    await Promise.all(
      this.#slots.map(async (slot) => {
        const worker = slot.worker;
        slot.worker = undefined;
        if (worker !== undefined) await worker.terminate();
        this.#failSlot(slot, stopped);
      }),
    );
  }

  readonly #flushAtCheck = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };

  #flush(): void {
    const queued = this.#queued;
    if (queued.length === 0) return;
    this.#queued = [];
    this.#queuedWork = 0;
    this.#send(queued);
  }

  /** Sends one batch to the thread with the least signing in flight. */
  #send(jobs: Job[]): void {
    const slot = this.#slots.reduce((least, candidate) => (pendingOf(candidate) < pendingOf(least) ? candidate : least));
    const batch = this.#nextBatch++;
    try {
      const worker = this.#workerOf(slot);
      const keys: { kid: string; key: KeyObject }[] = [];
      for (const job of jobs) {
        if (slot.sentKeys.has(job.kid)) continue;
        slot.sentKeys.add(job.kid);
        keys.push({ kid: job.kid, key: job.key });
      }
      const message: BatchRequest = {
        batch,
        keys,
        jobs: jobs.map(({ alg, kid, encodedHeader, payloadJson }) => ({ alg, kid, encodedHeader, payloadJson })),
      };
      worker.postMessage(message);
      slot.inFlight.set(batch, jobs);
      // Held while signatures are on their way, so that a script awaiting one does not exit.
      if (slot.inFlight.size === 1) worker.ref();
    } catch (error) {
      for (const job of jobs) job.reject(error);
    }
  }

  #workerOf(slot: Slot): Worker {
    if (slot.worker !== undefined) return slot.worker;
    // No inherited flags: the code is plain CommonJS, and `--input-type=module` would make it ESM.
    const worker = new Worker(threadSource, { eval: true, execArgv: [] });
    worker.unref();
    worker.on('message', (reply: BatchReply) => this.#settle(slot, reply));
    const lost = (error: Error) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      this.#failSlot(slot, error);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`a signing thread exited with code ${code}`)));
    slot.worker = worker;
    return worker;
  }

  #settle(slot: Slot, reply: BatchReply): void {
    const jobs = slot.inFlight.get(reply.batch);
    if (jobs === undefined) return;
    slot.inFlight.delete(reply.batch);
    if (slot.inFlight.size === 0) slot.worker?.unref();
    jobs.forEach((job, index) => {
      const signed = reply.signed[index];
      if (signed !== null && signed !== undefined) job.resolve({ jwt: signed[0], sha256: signed[1] });
      else job.reject(new Error(`signing failed on a signing thread: ${reply.errors[index] ?? 'no signature'}`));
    });
  }

  /** Fails what the slot's thread was computing; its successor is sent every key again. */
  #failSlot(slot: Slot, error: Error): void {
    for (const jobs of slot.inFlight.values()) for (const job of jobs) job.reject(error);
    slot.inFlight.clear();
    slot.sentKeys.clear();
  }
}

/** Most signing threads, whatever the number of cores. */
const maxSigningThreads = 4;

/** Rough CPU cost of one signature (bench/README.md), to decide when a batch is full. */
const signingMicroseconds: Record<SigningAlgorithm, number> = { ES256: 25, RS256: 400 };

/** Signing work that fills a batch: enough to be worth a message, small enough to start early. */
const batchMicroseconds = 200;

interface Slot {
  worker: Worker | undefined;
  /** Key ids its current worker has been sent. */
  sentKeys: Set<string>;
  inFlight: Map<number, Job[]>;
}

/**
 * Microseconds of signing in flight on the slot's thread: one RS256 signature weighs as much as
 * sixteen ES256 ones.
 */
function pendingOf(slot: Slot): number {
  let pending = 0;
  for (const jobs of slot.inFlight.values()) for (const job of jobs) pending += signingMicroseconds[job.alg];
  return pending;
}

interface JobRequest {
  alg: SigningAlgorithm;
  kid: string;
  encodedHeader: string;
  payloadJson: string;
}

interface Job extends JobRequest {
  key: KeyObject;
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
 * keys/opaque-secret.ts (`hashSecret`): base64url of the digest of the token's UTF-8.
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
