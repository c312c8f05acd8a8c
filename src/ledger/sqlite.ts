/**
 * The default ledger: one SQLite file, opened by one daemon process (plus short-lived CLI
 * readers such as `radarlib status`).
 *
 * - WAL, so readers (status page, CLI) never block the daemon's writes and a crash at any point
 *   leaves the last committed transaction intact.
 * - Schema versioned with `PRAGMA user_version`; migrations run at open, each in a transaction.
 * - Every statement is prepared once, in the constructor (undici's sqlite-cache-store manner).
 * - Indexes make every hot call cost O(its own rows), never O(ledger): `observe` does one
 *   indexed lookup per listed path, `claimReady`/`pendingCallbacks` read a queue index in order.
 *
 * better-sqlite3 is synchronous; the methods are async only to share the `Ledger` interface.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database as Db, Statement } from 'better-sqlite3';
import { loadBetterSqlite3 } from './sqlite-binding.js';
import { LeaseLostError, LedgerError, RadarlibError } from '../errors.js';
import {
  checkLimit,
  checkSource,
  emptyCounts,
  errorMessage,
  folderOf,
  mtimeKey,
  normalizeListing,
  planObserve,
  sqlStates,
  SUPERSEDABLE_STATES,
  toRecord,
  VANISHABLE_STATES,
  VERSION_COLUMNS,
} from './common.js';
import type { FileRow, VersionRow } from './common.js';
import { FILE_STATES } from './ledger.js';
import { LedgerProcessLock } from './process-lock.js';
import type {
  Claim,
  Completion,
  FailOptions,
  FileRecord,
  FileState,
  Ledger,
  ListedFile,
  ObserveOptions,
  ObserveResult,
  StateCounts,
} from './ledger.js';

/**
 * Schema migrations, in order; `user_version` is the number applied. Append only: a released
 * migration is never edited, a change is a new entry.
 */
const MIGRATIONS: readonly string[] = [
  // 1: one row per version of a remote file.
  `CREATE TABLE files (
     id              INTEGER PRIMARY KEY,
     source          TEXT    NOT NULL,
     remote_path     TEXT    NOT NULL,
     size            INTEGER NOT NULL,
     mtime           INTEGER,
     state           TEXT    NOT NULL CHECK (state IN ('seen','ready','downloading','downloaded','processed','failed')),
     attempts        INTEGER NOT NULL DEFAULT 0,
     last_error      TEXT,
     next_attempt_at INTEGER,
     local_path      TEXT,
     callback_error  TEXT,
     lease_token     TEXT,
     lease_owner     TEXT,
     lease_until     INTEGER,
     first_seen_at   INTEGER NOT NULL,
     updated_at      INTEGER NOT NULL,
     downloaded_at   INTEGER,
     processed_at    INTEGER
   ) STRICT;
   -- Identity of a version. coalesce(): a plain UNIQUE would let NULL mtimes repeat. Its
   -- (source, remote_path) prefix also serves "all versions of this path" for observe.
   CREATE UNIQUE INDEX files_identity ON files (source, remote_path, size, coalesce(mtime, -1));
   -- Work queue: claimReady (ready, due first) and pendingCallbacks (downloaded) read it in order.
   CREATE INDEX files_queue ON files (source, state, coalesce(next_attempt_at, 0), id);
   -- Status: recent(), counts(); and reclaimExpired(), which reads the few 'downloading' rows.
   CREATE INDEX files_recent ON files (state, updated_at, id);`,
  // 2: states superseded and vanished (SQLite cannot alter a CHECK: the table is rebuilt), the
  // precision of mtime, the settle period's start and the ready stage timestamp.
  `CREATE TABLE files_v2 (
     id                 INTEGER PRIMARY KEY,
     source             TEXT    NOT NULL,
     remote_path        TEXT    NOT NULL,
     size               INTEGER NOT NULL,
     mtime              INTEGER,
     mtime_precision_ms INTEGER NOT NULL DEFAULT 1000,
     state              TEXT    NOT NULL CHECK (state IN ('seen','ready','downloading','downloaded','processed','failed','superseded','vanished')),
     attempts           INTEGER NOT NULL DEFAULT 0,
     last_error         TEXT,
     next_attempt_at    INTEGER,
     local_path         TEXT,
     callback_error     TEXT,
     lease_token        TEXT,
     lease_owner        TEXT,
     lease_until        INTEGER,
     first_seen_at      INTEGER NOT NULL,
     stable_since       INTEGER,
     ready_at           INTEGER,
     updated_at         INTEGER NOT NULL,
     downloaded_at      INTEGER,
     processed_at       INTEGER
   ) STRICT;
   INSERT INTO files_v2 (id, source, remote_path, size, mtime, state, attempts, last_error, next_attempt_at,
                         local_path, callback_error, lease_token, lease_owner, lease_until, first_seen_at,
                         stable_since, ready_at, updated_at, downloaded_at, processed_at)
   SELECT id, source, remote_path, size, mtime, state, attempts, last_error, next_attempt_at,
          local_path, callback_error, lease_token, lease_owner, lease_until, first_seen_at,
          updated_at, CASE WHEN state = 'ready' THEN updated_at END, updated_at, downloaded_at, processed_at
     FROM files;
   DROP TABLE files;
   ALTER TABLE files_v2 RENAME TO files;
   CREATE UNIQUE INDEX files_identity ON files (source, remote_path, size, coalesce(mtime, -1));
   CREATE INDEX files_queue ON files (source, state, coalesce(next_attempt_at, 0), id);
   CREATE INDEX files_recent ON files (state, updated_at, id);`,
  // 3: the zone offset a LIST time was corrected with, so that identity can use the server's own
  // reading (an offset learned later must not make a known file new).
  `ALTER TABLE files ADD COLUMN zone_offset_ms INTEGER NOT NULL DEFAULT 0;`,
];

export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

const CLAIM_ORDER = 'coalesce(next_attempt_at, 0), id';

/**
 * The SQLite ledger (the default): one file, WAL, an fsync for each commit of downloads (and of
 * `retryFailed`), none for the rest (see `open`); one process at a time. The
 * native binding (better-sqlite3) loads on the first open.
 */
export class SqliteLedger implements Ledger {
  readonly backend = 'sqlite' as const;
  /** The database file (or `:memory:`). */
  readonly path: string;

  readonly #db: Db;
  /** Held by a daemon (`exclusive`), so that no second daemon works on the same file. */
  readonly #lock: LedgerProcessLock | null;
  #closed = false;
  /** Sources being listed in this process (see withSourceLock). */
  readonly #listing = new Set<string>();

  readonly #versions: Statement<[string, string], VersionRow>;
  readonly #unfinished: Statement<[string], VersionRow>;
  readonly #setReady: Statement<[number, number, number, number, number]>;
  readonly #updateSeen: Statement<
    [number, number | null, number, number, string, number, number | null, number, number, number, number]
  >;
  readonly #rekey: Statement<[number | null, number, number, number]>;
  readonly #insert: Statement<
    [string, string, number, number | null, number, number, string, number, number, number | null, number]
  >;
  readonly #supersede: Statement<[number, number]>;
  readonly #vanish: Statement<[number, number]>;
  readonly #revive: Statement<[number, number, number]>;
  readonly #pickReady: Statement<[string, number, number], { id: number }>;
  readonly #claimOne: Statement<[string, string, number, number, number], FileRow>;
  readonly #renew: Statement<[number, number, string]>;
  readonly #complete: Statement<[string, number, number, number, string], FileRow>;
  readonly #fail: Statement<[string, string, number | null, number, number, string]>;
  readonly #requeue: Statement<[string, number, number, number, string]>;
  readonly #markProcessed: Statement<[string | null, number, number, number]>;
  readonly #pending: Statement<[string, number], FileRow>;
  readonly #reclaim: Statement<[number, number]>;
  readonly #retryAll: Statement<[number]>;
  readonly #retrySource: Statement<[number, string]>;
  readonly #countAll: Statement<[], { state: string; n: number }>;
  readonly #countSource: Statement<[string], { state: string; n: number }>;
  readonly #recentAll: Statement<[string, number], FileRow>;
  readonly #recentSource: Statement<[string, string, number], FileRow>;
  readonly #get: Statement<[number], FileRow>;

  private constructor(db: Db, path: string, lock: LedgerProcessLock | null) {
    this.#db = db;
    this.path = path;
    this.#lock = lock;
    this.#versions = db.prepare(`SELECT ${VERSION_COLUMNS} FROM files WHERE source = ? AND remote_path = ?`);
    // Reads the queue index: unfinished rows are few, whatever the ledger's history.
    this.#unfinished = db.prepare(
      `SELECT ${VERSION_COLUMNS} FROM files WHERE source = ? AND state IN (${sqlStates(VANISHABLE_STATES)})`,
    );
    this.#setReady = db.prepare(
      `UPDATE files SET state = 'ready', ready_at = ?, updated_at = ?
        WHERE id = ? AND state = 'seen' AND size = ? AND coalesce(mtime, -1) = ?`,
    );
    this.#updateSeen = db.prepare(
      `UPDATE files SET size = ?, mtime = ?, mtime_precision_ms = ?, zone_offset_ms = ?, state = ?,
              stable_since = ?, ready_at = ?, updated_at = ?
        WHERE id = ? AND state = 'seen' AND size = ? AND coalesce(mtime, -1) = ?`,
    );
    // OR IGNORE: a ledger that already holds the re-keyed identity keeps both rows as they are.
    this.#rekey = db.prepare(
      `UPDATE OR IGNORE files SET mtime = ?, zone_offset_ms = ? WHERE id = ? AND coalesce(mtime, -1) = ?`,
    );
    this.#insert = db.prepare(
      `INSERT INTO files (source, remote_path, size, mtime, mtime_precision_ms, zone_offset_ms, state,
                          first_seen_at, stable_since, ready_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    // Clearing the lease fences a running download of the old version: its complete() fails.
    this.#supersede = db.prepare(
      `UPDATE files SET state = 'superseded', updated_at = ?, next_attempt_at = NULL,
              lease_token = NULL, lease_owner = NULL, lease_until = NULL
        WHERE id = ? AND state IN (${sqlStates(SUPERSEDABLE_STATES)})`,
    );
    this.#vanish = db.prepare(
      `UPDATE files SET state = 'vanished', updated_at = ?, next_attempt_at = NULL
        WHERE id = ? AND state IN (${sqlStates(VANISHABLE_STATES)})`,
    );
    this.#revive = db.prepare(
      `UPDATE files SET state = 'seen', stable_since = ?, updated_at = ? WHERE id = ? AND state = 'vanished'`,
    );
    this.#pickReady = db.prepare(
      `SELECT id FROM files
        WHERE source = ? AND state = 'ready' AND coalesce(next_attempt_at, 0) <= ?
        ORDER BY ${CLAIM_ORDER} LIMIT ?`,
    );
    this.#claimOne = db.prepare(
      `UPDATE files SET state = 'downloading', lease_token = ?, lease_owner = ?, lease_until = ?, updated_at = ?
        WHERE id = ? AND state = 'ready' RETURNING *`,
    );
    this.#renew = db.prepare(
      `UPDATE files SET lease_until = ? WHERE id = ? AND state = 'downloading' AND lease_token = ?`,
    );
    this.#complete = db.prepare(
      `UPDATE files SET state = 'downloaded', attempts = attempts + 1, local_path = ?, downloaded_at = ?,
              updated_at = ?, next_attempt_at = NULL, lease_token = NULL, lease_owner = NULL, lease_until = NULL
        WHERE id = ? AND state = 'downloading' AND lease_token = ? RETURNING *`,
    );
    this.#fail = db.prepare(
      `UPDATE files SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?,
              lease_token = NULL, lease_owner = NULL, lease_until = NULL
        WHERE id = ? AND state = 'downloading' AND lease_token = ?`,
    );
    this.#requeue = db.prepare(
      `UPDATE files SET state = 'seen', last_error = ?, stable_since = ?, ready_at = NULL, updated_at = ?,
              next_attempt_at = NULL, lease_token = NULL, lease_owner = NULL, lease_until = NULL
        WHERE id = ? AND state = 'downloading' AND lease_token = ?`,
    );
    this.#markProcessed = db.prepare(
      `UPDATE files SET state = 'processed', callback_error = ?, processed_at = ?, updated_at = ?
        WHERE id = ? AND state IN ('downloaded', 'processed')`,
    );
    this.#pending = db.prepare(
      `SELECT * FROM files WHERE source = ? AND state = 'downloaded' ORDER BY ${CLAIM_ORDER} LIMIT ?`,
    );
    this.#reclaim = db.prepare(
      `UPDATE files SET state = 'ready', next_attempt_at = NULL, updated_at = ?,
              last_error = 'lease of ' || coalesce(lease_owner, '?') || ' expired during download',
              lease_token = NULL, lease_owner = NULL, lease_until = NULL
        WHERE state = 'downloading' AND lease_until <= ?`,
    );
    const retry = `UPDATE files SET state = 'ready', attempts = 0, next_attempt_at = NULL, updated_at = ?
                    WHERE state = 'failed'`;
    this.#retryAll = db.prepare(retry);
    this.#retrySource = db.prepare(`${retry} AND source = ?`);
    this.#countAll = db.prepare('SELECT state, count(*) AS n FROM files GROUP BY state');
    this.#countSource = db.prepare('SELECT state, count(*) AS n FROM files WHERE source = ? GROUP BY state');
    this.#recentAll = db.prepare(
      'SELECT * FROM files WHERE state = ? ORDER BY updated_at DESC, id DESC LIMIT ?',
    );
    this.#recentSource = db.prepare(
      'SELECT * FROM files WHERE state = ? AND source = ? ORDER BY updated_at DESC, id DESC LIMIT ?',
    );
    this.#get = db.prepare('SELECT * FROM files WHERE id = ?');
  }

  /**
   * Opens (or creates) the ledger at `path`, creating missing folders, and applies pending
   * schema migrations. `:memory:` gives a throwaway ledger.
   *
   * Rows left `downloading` by a process that died stay so until their lease ends; then
   * `reclaimExpired` returns them to `ready`. Nothing is lost across restarts.
   *
   * `exclusive` (what the daemon uses) also takes the ledger's process lock until `close()`: a
   * second exclusive open, from this or any other process, throws `LedgerLockedError` naming
   * the file and the holder's pid. Non-exclusive opens (`radarlib status`, `retry-failed`) work
   * alongside.
   */
  static open(path: string, options: { exclusive?: boolean } = {}): SqliteLedger {
    let db: Db;
    let lock: LedgerProcessLock | null = null;
    const onDisk = path !== ':memory:' && path !== '';
    try {
      if (onDisk) mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      throw new LedgerError('sqlite', `cannot open ${path}: ${errorMessage(err)}`, { cause: err });
    }
    if (onDisk && options.exclusive === true) lock = LedgerProcessLock.acquire(path);
    try {
      db = new (loadBetterSqlite3())(path);
    } catch (err) {
      lock?.release();
      throw new LedgerError('sqlite', `cannot open ${path}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL by default, FULL for the commits that must outlive a power cut (see #durably).
      // In WAL mode NORMAL survives a process crash (SIGKILL) entirely; a power cut may lose
      // the last NORMAL commits, which only repeats work: a claim or a lease renewal (the
      // restarted daemon reclaims every lease), a listing (listed again), a callback outcome
      // (the callback runs again: at least once). Each FULL commit was a synchronous fsync on the
      // event loop; four per file were about half the daemon's time (issue 15).
      db.pragma('synchronous = NORMAL');
      // `radarlib status` / `retry-failed` may open the file while the daemon writes.
      db.pragma('busy_timeout = 5000');
      // 8 MiB page cache: the recent part of the indexes stays hot; RSS stays flat with history.
      db.pragma('cache_size = -8192');
      migrate(db, path);
      return new SqliteLedger(db, path, lock);
    } catch (err) {
      db.close();
      lock?.release();
      if (err instanceof RadarlibError) throw err;
      throw new LedgerError('sqlite', `cannot open ${path}: ${errorMessage(err)}`, { cause: err });
    }
  }

  async observe(
    source: string,
    files: readonly ListedFile[],
    options: ObserveOptions,
  ): Promise<ObserveResult> {
    checkSource(source);
    const listed = normalizeListing(files);
    const { now, minAgeMs } = options;
    const settleMs = options.settleMs ?? 0;
    const folders = new Set(options.completeFolders ?? []);
    return this.#run('observe', () =>
      this.#db
        .transaction((): ObserveResult => {
          const versions = new Map<string, VersionRow[]>();
          for (const f of listed) versions.set(f.remotePath, this.#versions.all(source, f.remotePath));
          const unfinished =
            folders.size === 0
              ? []
              : this.#unfinished.all(source).filter((r) => folders.has(folderOf(r.remote_path)));
          const plan = planObserve(listed, versions, { now, minAgeMs, settleMs }, unfinished);
          const result: ObserveResult = {
            added: 0,
            becameReady: 0,
            superseded: 0,
            vanished: 0,
            settleDueAt: plan.settleDueAt,
          };
          for (const r of plan.toReady) {
            result.becameReady += this.#setReady.run(now, now, r.id, r.size, mtimeKey(r.mtime)).changes;
          }
          for (const u of plan.toUpdate) {
            const ready = u.state === 'ready';
            const changes = this.#updateSeen.run(
              u.size,
              u.mtime,
              u.mtimePrecisionMs,
              u.zoneOffsetMs,
              u.state,
              now,
              ready ? now : null,
              now,
              u.id,
              u.oldSize,
              mtimeKey(u.oldMtime),
            ).changes;
            if (ready) result.becameReady += changes;
          }
          // After toReady, whose writes check the stored mtime.
          for (const k of plan.toRekey) this.#rekey.run(k.mtime, k.zoneOffsetMs, k.id, mtimeKey(k.oldMtime));
          for (const id of plan.toSupersede) result.superseded += this.#supersede.run(now, id).changes;
          for (const n of plan.toInsert) {
            const ready = n.state === 'ready';
            const changes = this.#insert.run(
              source,
              n.remotePath,
              n.size,
              n.mtime,
              n.mtimePrecisionMs,
              n.zoneOffsetMs,
              n.state,
              now,
              now,
              ready ? now : null,
              now,
            ).changes;
            result.added += changes;
            if (ready) result.becameReady += changes;
          }
          for (const id of plan.toVanish) result.vanished += this.#vanish.run(now, id).changes;
          for (const id of plan.toRevive) this.#revive.run(now, now, id);
          return result;
        })
        .immediate(),
    );
  }

  async claimReady(
    source: string,
    limit: number,
    options: { now: number; leaseMs: number; owner: string },
  ): Promise<Claim[]> {
    checkSource(source);
    checkLimit(limit);
    const { now, leaseMs, owner } = options;
    const leaseUntil = now + leaseMs;
    return this.#run('claimReady', () =>
      this.#db
        .transaction((): Claim[] => {
          const claims: Claim[] = [];
          for (const { id } of this.#pickReady.all(source, now, limit)) {
            const token = randomUUID();
            const row = this.#claimOne.get(token, owner, leaseUntil, now, id);
            if (row !== undefined) claims.push({ record: toRecord(row), token, leaseUntil });
          }
          return claims;
        })
        .immediate(),
    );
  }

  async renewLease(claim: Claim, options: { now: number; leaseMs: number }): Promise<boolean> {
    const leaseUntil = options.now + options.leaseMs;
    const ok = this.#run(
      'renewLease',
      () => this.#renew.run(leaseUntil, claim.record.id, claim.token).changes === 1,
    );
    if (ok) claim.leaseUntil = leaseUntil;
    return ok;
  }

  async complete(claim: Claim, localPath: string, options: { now: number }): Promise<FileRecord> {
    const { now } = options;
    const row = this.#run('complete', () =>
      this.#durably(() => this.#complete.get(localPath, now, now, claim.record.id, claim.token)),
    );
    if (row === undefined) throw new LeaseLostError(claim.record.remotePath);
    return toRecord(row);
  }

  async completeMany(
    completions: readonly Completion[],
    options: { now: number },
  ): Promise<(FileRecord | null)[]> {
    if (completions.length === 0) return [];
    const { now } = options;
    return this.#run('completeMany', () =>
      this.#durably(() =>
        this.#db
          .transaction(() =>
            completions.map(({ claim, localPath }) => {
              const row = this.#complete.get(localPath, now, now, claim.record.id, claim.token);
              return row === undefined ? null : toRecord(row);
            }),
          )
          .immediate(),
      ),
    );
  }

  async fail(claim: Claim, error: string, options: FailOptions): Promise<boolean> {
    const state: FileState = options.retryAt === null ? 'failed' : 'ready';
    return this.#run(
      'fail',
      () =>
        this.#fail.run(state, error, options.retryAt, options.now, claim.record.id, claim.token).changes ===
        1,
    );
  }

  async requeue(claim: Claim, reason: string, options: { now: number }): Promise<boolean> {
    const { now } = options;
    return this.#run(
      'requeue',
      () => this.#requeue.run(reason, now, now, claim.record.id, claim.token).changes === 1,
    );
  }

  async markProcessed(id: number, callbackError: string | null, options: { now: number }): Promise<void> {
    const { now } = options;
    const changes = this.#run(
      'markProcessed',
      () => this.#markProcessed.run(callbackError, now, now, id).changes,
    );
    if (changes === 0) {
      const row = this.#run('markProcessed', () => this.#get.get(id));
      throw new LedgerError(
        'sqlite',
        row === undefined
          ? `markProcessed: no row ${id}`
          : `markProcessed: row ${id} (${row.remote_path}) is ${row.state}, not downloaded`,
      );
    }
  }

  async pendingCallbacks(source: string, limit: number): Promise<FileRecord[]> {
    checkSource(source);
    checkLimit(limit);
    return this.#run('pendingCallbacks', () => this.#pending.all(source, limit).map(toRecord));
  }

  async reclaimExpired(options: { now: number }): Promise<number> {
    return this.#run('reclaimExpired', () => this.#reclaim.run(options.now, options.now).changes);
  }

  async retryFailed(source?: string): Promise<number> {
    const now = Date.now();
    return this.#run('retryFailed', () =>
      this.#durably(() =>
        source === undefined ? this.#retryAll.run(now).changes : this.#retrySource.run(now, source).changes,
      ),
    );
  }

  async counts(source?: string): Promise<StateCounts> {
    const rows = this.#run('counts', () =>
      source === undefined ? this.#countAll.all() : this.#countSource.all(source),
    );
    const counts = emptyCounts();
    for (const r of rows) counts[r.state as FileState] = r.n;
    return counts;
  }

  async recent(options: {
    states?: readonly FileState[];
    source?: string;
    limit: number;
  }): Promise<FileRecord[]> {
    const { source, limit } = options;
    checkLimit(limit);
    const states = [...new Set(options.states ?? FILE_STATES)];
    // One indexed, ordered read per state, merged: cost O(states × limit), not O(rows).
    const rows = this.#run('recent', () =>
      states.flatMap((s) =>
        source === undefined ? this.#recentAll.all(s, limit) : this.#recentSource.all(s, source, limit),
      ),
    );
    return rows
      .map(toRecord)
      .sort((a, b) => b.updatedAt - a.updatedAt || b.id - a.id)
      .slice(0, limit);
  }

  async get(id: number): Promise<FileRecord | null> {
    const row = this.#run('get', () => this.#get.get(id));
    return row === undefined ? null : toRecord(row);
  }

  /**
   * SQLite serves one daemon process (see `exclusive`), so there is no other instance to exclude. The lock still
   * refuses a second concurrent lister of the same source *in this process* (null), so callers
   * see the same behaviour as with PostgreSQL.
   */
  async withSourceLock<T>(source: string, fn: () => Promise<T>): Promise<T | null> {
    checkSource(source);
    if (this.#closed) throw new LedgerError('sqlite', 'withSourceLock: ledger is closed');
    if (this.#listing.has(source)) return null;
    this.#listing.add(source);
    try {
      return await fn();
    } finally {
      this.#listing.delete(source);
    }
  }

  /** Closes the database. Idempotent; later calls fail with LedgerError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#db.close();
    } finally {
      this.#lock?.release();
    }
  }

  /**
   * Runs `fn` (one transaction) with `synchronous = FULL`: its commit fsyncs the WAL before it
   * returns, which also makes every earlier NORMAL commit durable (the WAL is written in order).
   * For the commits a power cut must not undo: downloads recorded (the file would be fetched
   * again) and an operator's `retryFailed`.
   */
  #durably<T>(fn: () => T): T {
    this.#db.pragma('synchronous = FULL');
    try {
      return fn();
    } finally {
      this.#db.pragma('synchronous = NORMAL');
    }
  }

  /** Runs a store operation, turning driver failures into LedgerError with the operation named. */
  #run<T>(what: string, fn: () => T): T {
    if (this.#closed) throw new LedgerError('sqlite', `${what}: ledger is closed`);
    try {
      return fn();
    } catch (err) {
      if (err instanceof RadarlibError) throw err;
      throw new LedgerError('sqlite', `${what} on ${this.path}: ${errorMessage(err)}`, { cause: err });
    }
  }
}

function migrate(db: Db, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new LedgerError(
      'sqlite',
      `${path} has schema version ${current}, newer than this radarlib understands (${MIGRATIONS.length}); upgrade radarlib`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    const sql = MIGRATIONS[v] as string;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
