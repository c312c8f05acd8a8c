/**
 * The ledger: everything the daemon knows that must survive a restart.
 *
 * One row per *version* of a remote file, identified by (source, remotePath, size, mtime): a file
 * replaced on the server by another size/mtime is a new version and is taken again. Never a
 * "newest timestamp seen" watermark, so a file that appears late in an old folder is still taken.
 *
 * Life of a row:
 *
 *   seen ──(same size+mtime on the next listing, or older than minAge)──> ready
 *   ready ──claim──> downloading ──complete──> downloaded ──callback ok──> processed
 *                         │                                   └─callback threw──> processed (callbackError set)
 *                         └──fail──> ready (nextAttemptAt = backoff)  ...after maxAttempts──> failed
 *   failed ──retryFailed──> ready
 *
 * While a row is `seen` its size/mtime may still change (the upload is growing): the row is
 * updated in place, it is not a new version. Once a row has left `seen`, a listing that shows the
 * same path with another size/mtime creates a new `seen` row (a new version).
 *
 * Implementations: `SqliteLedger` (default, one file, WAL) and `PostgresLedger` (several daemon
 * instances share work through claims with leases). Both pass `test/ledger/contract.ts`.
 * All methods are async so both stores share one interface; times are epoch milliseconds.
 */

export type FileState = 'seen' | 'ready' | 'downloading' | 'downloaded' | 'processed' | 'failed';

/** Every {@link FileState}, in the order a file goes through them. */
export const FILE_STATES: readonly FileState[] = [
  'seen',
  'ready',
  'downloading',
  'downloaded',
  'processed',
  'failed',
];

/** One remote file as a listing reported it. */
export interface ListedFile {
  remotePath: string;
  size: number;
  /** Modification time in epoch ms, or null when the server gave none. */
  mtime: number | null;
}

export interface FileRecord extends ListedFile {
  id: number;
  source: string;
  state: FileState;
  /** Download attempts made so far. */
  attempts: number;
  /** Last download error (message with its code), for `failed` rows and retried ones. */
  lastError: string | null;
  /** Earliest time the next download attempt may start (backoff), or null. */
  nextAttemptAt: number | null;
  /** Final local path once downloaded. */
  localPath: string | null;
  /** Error of the user's callback, when it threw. */
  callbackError: string | null;
  firstSeenAt: number;
  updatedAt: number;
  downloadedAt: number | null;
  processedAt: number | null;
}

/** Options of {@link Ledger.observe}: the time and the stability rules. */
export interface ObserveOptions {
  /** Current time (epoch ms). */
  now: number;
  /**
   * A file whose mtime is older than this is ready at once, without a second listing. Files
   * without mtime never are; `Infinity` always requires two equal listings.
   */
  minAgeMs: number;
}

/** What one {@link Ledger.observe} call changed. */
export interface ObserveResult {
  /** Rows created by this listing (new files or new versions). */
  added: number;
  /** Rows that became `ready` during this call. */
  becameReady: number;
}

/** A claim on a ready row: only the holder of `token` may complete or fail it. */
export interface Claim {
  record: FileRecord;
  token: string;
  /** When the lease ends unless renewed (epoch ms). */
  leaseUntil: number;
}

/** Options of {@link Ledger.fail}: when to retry, or park the file as `failed`. */
export interface FailOptions {
  now: number;
  /** When the next attempt may start; null parks the row as `failed` (attempts exhausted). */
  retryAt: number | null;
}

/** How many files a source has in each state. */
export type StateCounts = Record<FileState, number>;

/**
 * The persistent record of every file the daemon has seen: what is ready, claimed, downloaded,
 * processed or failed. Two stores implement it (SQLite, PostgreSQL) and pass one contract suite.
 * Open one with {@link openLedger}. See docs/LEDGER.md.
 */
export interface Ledger {
  /** Which store this is, for logs and the status page. */
  readonly backend: 'sqlite' | 'postgres';

  /**
   * Records one listing of `source`. New paths become `seen` rows (or `ready` when older than
   * minAge); `seen` rows whose size+mtime are unchanged become `ready`; `seen` rows whose size or
   * mtime changed are updated in place; known versions in any later state are left alone; a
   * path whose latest version is past `seen` but listed with another size/mtime gets a new row.
   * Must cost O(entries), never O(rows in the ledger).
   */
  observe(source: string, files: readonly ListedFile[], options: ObserveOptions): Promise<ObserveResult>;

  /**
   * Claims up to `limit` ready rows of `source` whose nextAttemptAt has passed, oldest first,
   * moving them to `downloading` with a fresh token and a lease of `leaseMs`.
   */
  claimReady(
    source: string,
    limit: number,
    options: { now: number; leaseMs: number; owner: string },
  ): Promise<Claim[]>;

  /** Extends a claim's lease (updating `claim.leaseUntil`); false when the claim is no longer ours. */
  renewLease(claim: Claim, options: { now: number; leaseMs: number }): Promise<boolean>;

  /**
   * Records a committed download (`downloaded`, attempts + 1). Throws `LeaseLostError` when the
   * token is no longer the row's: the caller must then neither keep the file nor fire the callback.
   */
  complete(claim: Claim, localPath: string, options: { now: number }): Promise<FileRecord>;

  /** Records a failed attempt (attempts + 1, lastError). False when the claim was lost. */
  fail(claim: Claim, error: string, options: FailOptions): Promise<boolean>;

  /** Records the user's callback outcome for a downloaded row (`processed`). */
  markProcessed(id: number, callbackError: string | null, options: { now: number }): Promise<void>;

  /** Rows downloaded but not yet processed (their callback must run, e.g. after a crash). */
  pendingCallbacks(source: string, limit: number): Promise<FileRecord[]>;

  /** Returns `downloading` rows whose lease has expired to `ready` (a dead instance's work). */
  reclaimExpired(options: { now: number }): Promise<number>;

  /** Moves `failed` rows (of one source, or all) back to `ready` with attempts reset. */
  retryFailed(source?: string): Promise<number>;

  /** Counts by state, of one source or all. */
  counts(source?: string): Promise<StateCounts>;

  /** Most recently updated rows in the given states, newest first. */
  recent(options: { states?: readonly FileState[]; source?: string; limit: number }): Promise<FileRecord[]>;

  /** Looks up one row by id. */
  get(id: number): Promise<FileRecord | null>;

  /**
   * Runs `fn` while holding the right to list `source` (one lister per source across instances).
   * Returns null without running `fn` when another instance holds it.
   */
  withSourceLock<T>(source: string, fn: () => Promise<T>): Promise<T | null>;

  /** Closes the store (connections, file handles). The ledger is unusable afterwards. */
  close(): Promise<void>;
}
