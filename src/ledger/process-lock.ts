/**
 * One daemon process per SQLite ledger.
 *
 * The lock is an OS file lock that SQLite itself takes: a small side database `<ledger>-lock`
 * kept inside an open `BEGIN IMMEDIATE` transaction for as long as the daemon runs. The kernel
 * releases it when the process ends, however it ends (kill -9, power loss), so a crashed daemon
 * never leaves a stale lock behind, and no pid-liveness guessing is needed. The ledger file
 * itself is not locked: `radarlib status` and `retry-failed` read and write it as before.
 *
 * Who holds the lock is written beside it (`<ledger>-lock.pid`) for the error message only.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Database as Db } from 'better-sqlite3';
import { loadBetterSqlite3 } from './sqlite-binding.js';
import { LedgerError, LedgerLockedError } from '../errors.js';
import { errorMessage } from './common.js';

export interface LockHolder {
  pid: number | null;
  host: string | null;
}

export class LedgerProcessLock {
  readonly #db: Db;
  readonly #pidPath: string;
  #released = false;

  private constructor(db: Db, pidPath: string) {
    this.#db = db;
    this.#pidPath = pidPath;
  }

  /**
   * Takes the lock of the ledger at `ledgerPath`, or throws `LedgerLockedError` naming the file
   * and the holder's pid. Never waits.
   */
  static acquire(ledgerPath: string): LedgerProcessLock {
    const lockPath = `${ledgerPath}-lock`;
    const pidPath = `${lockPath}.pid`;
    let db: Db;
    try {
      db = new (loadBetterSqlite3())(lockPath);
      db.pragma('busy_timeout = 0');
    } catch (err) {
      throw new LedgerError('sqlite', `cannot open the lock file ${lockPath}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      db.close();
      if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
        const holder = readHolder(pidPath);
        throw new LedgerLockedError(ledgerPath, holder.pid, holder.host);
      }
      throw new LedgerError('sqlite', `cannot lock ${lockPath}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      writeFileSync(pidPath, `${process.pid} ${hostname()}\n`);
    } catch {
      // Only the error message of a second daemon would miss the pid; the lock itself holds.
    }
    return new LedgerProcessLock(db, pidPath);
  }

  /** Releases the lock. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (readHolder(this.#pidPath).pid === process.pid) rmSync(this.#pidPath, { force: true });
    try {
      this.#db.exec('ROLLBACK');
    } finally {
      this.#db.close();
    }
  }
}

/** Reads `<ledger>-lock.pid`; nulls when it is missing or unreadable. */
export function readHolder(pidPath: string): LockHolder {
  try {
    const [pid, host] = readFileSync(pidPath, 'utf8').trim().split(/\s+/, 2);
    const n = Number(pid);
    return { pid: Number.isSafeInteger(n) && n > 0 ? n : null, host: host ?? null };
  } catch {
    return { pid: null, host: null };
  }
}
