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
 * saves. Here the signatures a loop turn asks for travel to a thread in one message and come
 * back in one, so the event loop pays a few microseconds per batch instead.
 *
 * There are as many threads as cores, at most `maxSigningThreads`: ES256 keeps one of them busy
 * a fraction of the time, while RS256 signing is what limits its rate, and the event loop has
 * little else to do then. A turn's signatures are split among the threads, each part going to the
 * thread with the fewest signatures in flight.
 * Threads start on first use and keep the process alive only while signatures are in flight. If
 * one dies, the signatures it was computing fail (the caller answers `server_error`) and the next
 * batch starts a new one. Private keys are sent to each thread once per key id, as `KeyObject`s
 * (cloned by `postMessage`, never serialized to text).
 */
export class SigningThreads {
  readonly #slots: Slot[];
  /** Signatures asked for in this loop turn, sent together at its check phase. */
  #queued: Job[] = [];
  #nextBatch = 0;
  #closed = false;

  constructor(threads = Math.min(maxSigningThreads, availableParallelism())) {
    this.#slots = Array.from({ length: Math.max(1, threads) }, () => ({ worker: undefined, sentKeys: new Set(), inFlight: new Map() }));
  }

  /**
   * A JWS in compact serialization (RFC 7515 §7.1) of `payloadJson` under `encodedHeader`, signed
   * with `key` per RFC 7518 §3.3 (RS256) or §3.4 (ES256), and its SHA-256: everything but the
   * JSON is done on a signing thread.
   */
  signJwt(alg: SigningAlgorithm, kid: string, key: KeyObject, encodedHeader: string, payloadJson: string): Promise<SignedJwt> {
    if (this.#closed) return Promise.reject(new Error('the signing threads have been stopped'));
    return new Promise<SignedJwt>((resolve, reject) => {
      if (this.#queued.length === 0) setImmediate(this.#flush);
      this.#queued.push({ alg, kid, key, encodedHeader, payloadJson, resolve, reject });
    });
  }

  /** Stops the threads; signatures still in flight fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const stopped = new Error('the signing threads have been stopped');
    for (const job of this.#queued) job.reject(stopped);
    this.#queued = [];
    await Promise.all(
      this.#slots.map(async (slot) => {
        const worker = slot.worker;
        slot.worker = undefined;
        if (worker !== undefined) await worker.terminate();
        this.#failSlot(slot, stopped);
      }),
    );
  }

  readonly #flush = (): void => {
    const queued = this.#queued;
    if (queued.length === 0) return;
    this.#queued = [];
    // The turn's signatures are shared among the threads: under steady load the same requests
    // come back together turn after turn, and one batch would keep one thread busy and the others
    // idle. A part is worth its message only with enough signing in it (RSA, or many ECDSA).
    let work = 0;
    for (const job of queued) work += signingMicroseconds[job.alg];
    const parts = Math.max(1, Math.min(this.#slots.length, queued.length, Math.floor(work / smallestPartMicroseconds)));
    const size = Math.ceil(queued.length / parts);
    for (let start = 0; start < queued.length; start += size) this.#send(queued.slice(start, start + size));
  };

  /** Sends one batch to the thread with the fewest signatures in flight. */
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

/** Rough CPU cost of one signature (bench/README.md), to decide how to split a turn's batch. */
const signingMicroseconds: Record<SigningAlgorithm, number> = { ES256: 25, RS256: 400 };

/** Least signing work worth a message of its own. */
const smallestPartMicroseconds = 1000;

interface Slot {
  worker: Worker | undefined;
  /** Key ids its current worker has been sent. */
  sentKeys: Set<string>;
  inFlight: Map<number, Job[]>;
}

/** Signatures in flight on the slot's thread. */
function pendingOf(slot: Slot): number {
  let pending = 0;
  for (const jobs of slot.inFlight.values()) pending += jobs.length;
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
