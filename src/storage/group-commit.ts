import type BetterSqlite3 from 'better-sqlite3';

/** The commit of one batch: every logical transaction in it waits for this before it returns. */
interface Batch {
  committed: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The physical transaction a batch lost: SQLite ended it on its own (a disk-full or I/O error
 * rolls the whole transaction back), or its COMMIT failed. Every logical transaction of the batch
 * fails with it, with SQLite's error as the cause; the code makes it a 503 (storage/database-unavailable.ts).
 */
export class GroupCommitLost extends Error {
  readonly code = 'GATEHOUSE_GROUP_COMMIT_LOST';
  constructor(cause: unknown) {
    super(`the database did not commit this transaction: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Group commit for SQLite's single connection: the logical transactions of concurrent requests
 * share one physical transaction, and none of them returns before that transaction has committed.
 *
 * Why: a SQLite commit in WAL mode costs far more than the row it writes (the WAL frame of every
 * page touched, once per commit). Under load many token requests arrive in the same turn of the
 * event loop; committing them together costs one WAL write instead of dozens.
 *
 * How:
 * - Logical transactions run one at a time (a FIFO lock), each inside a SAVEPOINT, so a throw
 *   rolls back exactly its own work (`ROLLBACK TO`) and leaves its neighbours' in place.
 * - The first logical transaction of a batch opens it with `BEGIN IMMEDIATE` and schedules the
 *   commit for the check phase of the event loop (`setImmediate`): after every request whose bytes
 *   arrived in this turn has had its chance to join.
 * - The commit takes the same lock, so it never lands in the middle of a logical transaction.
 *   A commit that fails fails every logical transaction of its batch: nothing is acknowledged that
 *   is not on disk (a token the client holds always survives `kill -9`).
 * - If SQLite ends the physical transaction on its own, the batch fails for everyone in it, and
 *   the next logical transaction opens a new one. `assertWritable` lets the writer refuse to go on
 *   after that, so no later statement of the failed work slips into autocommit.
 *
 * Which transaction is open is tracked here (`#state`), set only by the statements this class
 * runs, never guessed from `inTransaction` alone: a read must never take a lost batch's place.
 *
 * Reads outside any transaction run at once on the same connection and may see writes that have
 * not committed yet: of a batch, or of a logical transaction still running that may yet roll back
 * (a code consumed by a request of another client, which is then refused). Such a row has been
 * acknowledged to nobody; at worst introspection calls a token active that no client holds. Writes
 * never see them: they wait for the lock.
 *
 * Reads outside a batch share one read transaction per turn of the event loop (`beginRead`): in
 * WAL mode every statement outside a transaction opens and closes one of its own, which costs as
 * much as the lookup. The snapshot lasts until the check phase of the same turn; a write batch
 * ends it first (it has nothing to commit), so a writer always starts from the newest data.
 * Nothing else may open a transaction on this connection while one is open: Kysely's own
 * transactions (only migrations use them) must `flush()` first, as `SqliteStorage.migrate` does.
 */
export class GroupCommit {
  readonly #database: BetterSqlite3.Database;
  readonly #begin: BetterSqlite3.Statement;
  readonly #beginRead: BetterSqlite3.Statement;
  readonly #commit: BetterSqlite3.Statement;
  readonly #rollback: BetterSqlite3.Statement;
  readonly #savepoint: BetterSqlite3.Statement;
  readonly #release: BetterSqlite3.Statement;
  readonly #rollbackToSavepoint: BetterSqlite3.Statement;
  readonly #dataVersion: BetterSqlite3.Statement<[], number>;
  #lastDataVersion: number | undefined;
  /** Told when data read before may be stale: see `onStale`. */
  readonly #staleListeners: Array<() => void> = [];
  #locked = false;
  readonly #waiting: Array<() => void> = [];
  /** The physical transaction this class has open: none, this turn's read snapshot, or a batch. */
  #state: 'idle' | 'reading' | 'writing' = 'idle';
  /** The batch being filled; set exactly while `#state` is 'writing'. */
  #batch: Batch | undefined;
  #batchSize = 0;
  /** Largest number of logical transactions one commit carried, for the benchmark's report. */
  #largestBatch = 0;
  #closed = false;

  constructor(database: BetterSqlite3.Database) {
    this.#database = database;
    this.#begin = database.prepare('begin immediate');
    this.#beginRead = database.prepare('begin deferred');
    this.#commit = database.prepare('commit');
    this.#rollback = database.prepare('rollback');
    this.#savepoint = database.prepare('savepoint gatehouse_logical');
    this.#release = database.prepare('release gatehouse_logical');
    this.#rollbackToSavepoint = database.prepare('rollback to gatehouse_logical');
    this.#dataVersion = database.prepare<[], number>('pragma data_version').pluck();
  }

  /**
   * Registers `listener` for the moments when something read earlier may no longer be true:
   * another connection (the CLI, another process) committed since the last transaction began
   * (SQLite's `data_version`), or a logical transaction or a batch rolled back (its writes may
   * have been read meanwhile). A cache of rows drops its entries then.
   */
  onStale(listener: () => void): void {
    this.#staleListeners.push(listener);
  }

  #stale(): void {
    for (const listener of this.#staleListeners) listener();
  }

  /** Right after this class begins a transaction: has anyone else committed since the last one? */
  #checkDataVersion(): void {
    const version = this.#dataVersion.get();
    if (version !== this.#lastDataVersion) {
      this.#lastDataVersion = version;
      this.#stale();
    }
  }

  get largestBatch(): number {
    return this.#largestBatch;
  }

  /**
   * Runs `work` as one logical transaction; resolves with its result once its batch has committed.
   * `singleStatement` work (one INSERT or UPDATE) runs without a savepoint: SQLite backs out a
   * statement that fails by itself, so there is nothing to roll back to, and the savepoint and
   * its release were two of the three statements of a client_credentials token (~1.6 µs).
   */
  async run<T>(work: () => Promise<T>, singleStatement = false): Promise<T> {
    const waiting = this.#lock();
    if (waiting !== undefined) await waiting;
    let batch: Batch;
    let result: T;
    try {
      if (this.#closed) throw new Error('the database is closed');
      batch = this.#currentBatch();
      if (!singleStatement) this.#savepoint.run();
      this.#batchSize += 1;
      try {
        result = await work();
        if (!singleStatement) this.#release.run();
      } catch (error) {
        if (singleStatement) this.#statementFailed(batch, error);
        else this.#undo(batch, error);
        throw error;
      }
    } finally {
      this.#unlock();
    }
    await batch.committed;
    return result;
  }

  /**
   * For every write inside a logical transaction: throws once the batch is lost, so that the rest
   * of a work that caught SQLite's error cannot write outside any transaction.
   */
  assertWritable(): void {
    if (this.#state !== 'writing' || !this.#database.inTransaction) {
      throw new GroupCommitLost(new Error('the transaction was rolled back by the database'));
    }
  }

  /**
   * Called before a read outside any logical transaction: joins the open batch or read
   * transaction, or opens a read transaction that ends in this turn's check phase.
   */
  beginRead(): void {
    // Any transaction open on the connection serves (a batch, even a lost one, reads in
    // autocommit); one that is not ours (a migration) must not be touched.
    if (this.#state !== 'idle' || this.#database.inTransaction) return;
    this.#beginRead.run();
    this.#state = 'reading';
    setImmediate(this.#endRead);
    this.#checkDataVersion();
  }

  readonly #endRead = (): void => {
    if (this.#state !== 'reading') return;
    this.#state = 'idle';
    if (this.#database.inTransaction) this.#commit.run();
  };

  /** Lets every logical transaction already waiting finish, and commits (before a migration). */
  async flush(): Promise<void> {
    const waiting = this.#lock();
    if (waiting !== undefined) await waiting;
    try {
      this.#endRead();
      if (this.#batch !== undefined) this.#commitNow(this.#batch);
    } catch {
      // The batch's members have heard why.
    } finally {
      this.#unlock();
    }
  }

  /** `flush()`, then refuses new logical transactions (before the database is closed). */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  /**
   * A FIFO lock. Free, it is taken at once, without a promise (the common case: one logical
   * transaction runs to its end before the next request is even parsed); taken, the caller waits
   * in line and is handed the lock by the one before it.
   */
  #lock(): Promise<void> | undefined {
    if (!this.#locked) {
      this.#locked = true;
      return undefined;
    }
    return new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  readonly #unlock = (): void => {
    const next = this.#waiting.shift();
    if (next === undefined) this.#locked = false;
    else next(); // stays locked: handed over
  };

  #currentBatch(): Batch {
    if (this.#batch !== undefined && !this.#database.inTransaction) {
      // SQLite rolled the whole physical transaction back: everything the batch held so far is
      // gone, so everyone who wrote into it must hear so.
      this.#fail(this.#batch, new GroupCommitLost(new Error('the database rolled the transaction back')));
    }
    if (this.#batch === undefined) {
      this.#endRead();
      this.#begin.run();
      this.#state = 'writing';
      this.#checkDataVersion();
      const batch = newBatch();
      this.#batch = batch;
      this.#batchSize = 0;
      setImmediate(() => void this.#commitBatch(batch));
    }
    return this.#batch;
  }

  async #commitBatch(batch: Batch): Promise<void> {
    const waiting = this.#lock();
    if (waiting !== undefined) await waiting;
    try {
      if (this.#batch === batch) this.#commitNow(batch);
    } catch {
      // #commitNow failed the batch; its members hear it through `committed`.
    } finally {
      this.#unlock();
    }
  }

  /** Commits the current batch; the lock is held. */
  #commitNow(batch: Batch): void {
    this.#largestBatch = Math.max(this.#largestBatch, this.#batchSize);
    if (!this.#database.inTransaction) {
      this.#fail(batch, new GroupCommitLost(new Error('the database rolled the transaction back')));
      return;
    }
    try {
      this.#commit.run();
    } catch (error) {
      this.#fail(batch, new GroupCommitLost(error));
      throw error;
    }
    this.#batch = undefined;
    this.#state = 'idle';
    batch.resolve();
  }

  /** Undoes one logical transaction; if that cannot be done, the whole batch fails. */
  #undo(batch: Batch, error: unknown): void {
    if (this.#batch !== batch) return; // the batch has already failed
    if (!this.#database.inTransaction) {
      this.#fail(batch, new GroupCommitLost(error));
      return;
    }
    this.#stale();
    try {
      this.#rollbackToSavepoint.run();
      this.#release.run();
    } catch (undoError) {
      this.#fail(batch, new GroupCommitLost(undoError));
    }
  }

  /** A single statement failed: SQLite has backed it out, unless it took the whole transaction. */
  #statementFailed(batch: Batch, error: unknown): void {
    if (this.#batch !== batch) return;
    if (!this.#database.inTransaction) this.#fail(batch, new GroupCommitLost(error));
  }

  /** Ends the batch: rolls back what is left of it and rejects every member. */
  #fail(batch: Batch, error: unknown): void {
    this.#stale();
    if (this.#batch === batch) {
      this.#batch = undefined;
      this.#state = 'idle';
      if (this.#database.inTransaction) this.#rollback.run();
    }
    batch.reject(error);
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const committed = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  // Awaited by every member; this keeps a batch whose members all failed on their own from
  // becoming an unhandled rejection.
  committed.catch(() => {});
  return { committed, resolve, reject };
}
