/**
 * The ledger: everything the daemon knows that must survive a restart.
 *
 * One row per *version* of a remote file, identified by (source, remotePath, size, mtime): a file
 * replaced on the server by another size/mtime is a new version and is taken again. Never a
 * "newest timestamp seen" watermark, so a file that appears late in an old folder is still taken.
 *
 * Times are compared at the precision the listing gave (`mtimePrecisionMs`): LIST shows minutes
 * for recent files and only the day for files older than six months, MLSD shows seconds. Two
 * readings of one path with the same size are the same version when the finer time falls inside
 * the coarser one's interval, so a file crossing LIST's six-month mark is not taken again. What
 * LIST cannot show, a same-size replacement within the same minute, stays invisible to it.
 * A LIST time is also compared as the server rendered it (`mtime + zoneOffsetMs`), so learning
 * the server's zone later (or again after a restart) re-keys a row, never makes a second version.
 *
 * Life of a row:
 *
 *   seen ──(unchanged size+mtime across listings `settleMs` apart, or older than minAge)──> ready
 *   ready ──claim──> downloading ──complete──> downloaded ──callback ok──> processed
 *                         │                                   └─callback threw──> processed (callbackError set)
 *                         ├──fail──> ready (nextAttemptAt = backoff)  ...after maxAttempts──> failed
 *                         └──requeue (download incomplete or stale)──> seen (settles again, never on minAge)
 *   failed ──retryFailed──> ready
 *   seen/ready/downloading/failed ──a newer version of the path is listed──> superseded
 *   seen/ready/failed ──gone from a complete listing of its folder──> vanished ──listed again──> seen
 *
 * While a row is `seen` its size/mtime may still change (the upload is growing): the row is
 * updated in place, it is not a new version. Once a row has left `seen`, a listing that shows the
 * same path with another size/mtime creates a new `seen` row (a new version), and any older
 * version not yet downloaded is `superseded` (a `downloading` one loses its claim, so its
 * download can never be committed over the newer file). `superseded` is final; `vanished` too
 * unless the same version shows up again (a listing that briefly missed it).
 *
 * Implementations: `SqliteLedger` (default, one file, WAL) and `PostgresLedger` (several daemon
 * instances share work through claims with leases). Both pass `test/ledger/contract.ts`.
 * All methods are async so both stores share one interface; times are epoch milliseconds.
 */

export type FileState =
  'seen' | 'ready' | 'downloading' | 'downloaded' | 'processed' | 'failed' | 'superseded' | 'vanished';

/** Every {@link FileState}, in the order a file goes through them. */
export const FILE_STATES: readonly FileState[] = [
  'seen',
  'ready',
  'downloading',
  'downloaded',
  'processed',
  'failed',
  'superseded',
  'vanished',
];

/** Precisions a listing gives its times in (ms). */
export const MTIME_PRECISION = {
  /** MLSD/MDTM (RFC 3659): seconds or finer. */
  second: 1000,
  /** LIST of a file younger than about six months: `Jun 04 21:19`. */
  minute: 60_000,
  /** LIST of an older file: `Jun 04  2026`. */
  day: 86_400_000,
} as const;

/** One remote file as a listing reported it. */
export interface ListedFile {
  remotePath: string;
  size: number;
  /**
   * Modification time in epoch ms, already corrected to UTC (see `serverTimeZone`), or null when
   * the server gave none. It is the start of an interval of `mtimePrecisionMs`.
   */
  mtime: number | null;
  /** Precision of `mtime` in ms (see `MTIME_PRECISION`). @default 1000 */
  mtimePrecisionMs?: number;
  /**
   * For a LIST time the server rendered in its own zone: the offset (ms) subtracted from the
   * server's wall-clock reading to give `mtime` (a server in UTC-3: -10 800 000). A version is
   * recognised by the server's own reading (`mtime + zoneOffsetMs`) as well as by `mtime`, so an
   * offset learned or corrected later (or learned again after a restart) never makes a known file
   * look new; the row's `mtime` is then corrected in place. @default 0
   */
  zoneOffsetMs?: number;
  /**
   * How much later than `mtime` the file may really have changed: while the server's zone is not
   * known for sure, a LIST time may be hours off. `minAge` counts from `mtime` plus this, so a file
   * still being written is not taken on its apparent age. Not stored. @default 0
   */
  mtimeUncertaintyMs?: number;
}

/** One ledger row: a version of a remote file as listed, and what has happened to it. */
export interface FileRecord extends Omit<ListedFile, 'mtimeUncertaintyMs'> {
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
  /** Precision of `mtime` in ms, as the listing that created the row gave it. */
  mtimePrecisionMs: number;
  /** The zone offset `mtime` was corrected with (0 for UTC times), see {@link ListedFile}. */
  zoneOffsetMs: number;
  /** When the row was first listed (stage timestamp). */
  firstSeenAt: number;
  /** When the current size+mtime was first listed: the start of the settle period. */
  stableSince: number;
  /** When the row became ready (stage timestamp), or null before (or for rows older than v2). */
  readyAt: number | null;
  updatedAt: number;
  /** When the download was committed (stage timestamp). */
  downloadedAt: number | null;
  /** When the callback finished (stage timestamp). */
  processedAt: number | null;
}

/** Options of {@link Ledger.observe}: the time and the stability rules. */
export interface ObserveOptions {
  /** Current time (epoch ms). */
  now: number;
  /**
   * A file whose (corrected) mtime, plus its `mtimeUncertaintyMs`, is older than this is ready
   * at once, without a second listing; `0` makes every file with an mtime ready at once, whatever
   * its uncertainty. Files without mtime never are, nor is a row requeued as incomplete (it was
   * being written although it looked old: only the settle period readies it again); `Infinity`
   * always requires the settle period.
   */
  minAgeMs: number;
  /**
   * Quiet period: a `seen` row becomes ready when a listing shows it unchanged at least this long
   * after the listing that first showed its current size+mtime. @default 0 (any later listing)
   */
  settleMs?: number;
  /**
   * Folders this listing covered completely. A `seen`, `ready` or `failed` row of this source in
   * one of them that the listing no longer shows is recorded `vanished`. @default none
   */
  completeFolders?: readonly string[];
}

/** What one {@link Ledger.observe} call changed. */
export interface ObserveResult {
  /** Rows created by this listing (new files or new versions). */
  added: number;
  /** Rows that became `ready` during this call. */
  becameReady: number;
  /** Older versions recorded `superseded` by a new version in this listing. */
  superseded: number;
  /** Rows recorded `vanished` (gone from a complete listing of their folder). */
  vanished: number;
  /**
   * Earliest time a `seen` row of this listing may have settled (re-list then), or null when
   * none is waiting.
   */
  settleDueAt: number | null;
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

/** One committed download of a group (see {@link Ledger.completeMany}). */
export interface Completion {
  claim: Claim;
  /** Final local path: the file and its folder entry are already durable. */
  localPath: string;
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

  /**
   * Group commit: records several committed downloads as `complete` does each, in ONE
   * transaction (one commit, one fsync, for files made durable at the same moment). All or
   * nothing: when the store fails, none is recorded and the call throws `LedgerError`. A lost
   * claim is not a failure of the group: its result is null (where `complete` throws
   * `LeaseLostError`) and the others are recorded. Results are in the order of `completions`;
   * an empty group costs no transaction.
   */
  completeMany(completions: readonly Completion[], options: { now: number }): Promise<(FileRecord | null)[]>;

  /** Records a failed attempt (attempts + 1, lastError). False when the claim was lost. */
  fail(claim: Claim, error: string, options: FailOptions): Promise<boolean>;

  /**
   * Puts a claimed row back to `seen` without spending an attempt: its download proved
   * incomplete or stale (a file still being uploaded), so it waits for the settle period again.
   * False when the claim was lost.
   */
  requeue(claim: Claim, reason: string, options: { now: number }): Promise<boolean>;

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
