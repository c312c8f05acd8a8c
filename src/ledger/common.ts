/**
 * What the SQLite and PostgreSQL stores share: the row shape, its mapping to `FileRecord`, input
 * checks, and the one decision procedure behind `observe` (so both stores agree on every case).
 * Internal to src/ledger; not re-exported.
 */
import { InvalidArgumentError } from '../errors.js';
import type { FileRecord, FileState, ListedFile, StateCounts } from './ledger.js';
import { FILE_STATES } from './ledger.js';

/**
 * One row as a driver returns it. better-sqlite3 gives numbers; pg gives BIGINT columns as
 * strings (they may exceed 2^53 in general, never in ours), hence `number | string`.
 */
export interface FileRow {
  id: number | string;
  source: string;
  remote_path: string;
  size: number | string;
  mtime: number | string | null;
  state: string;
  attempts: number | string;
  last_error: string | null;
  next_attempt_at: number | string | null;
  local_path: string | null;
  callback_error: string | null;
  first_seen_at: number | string;
  updated_at: number | string;
  downloaded_at: number | string | null;
  processed_at: number | string | null;
}

/** The columns of a version that `observe` needs to decide. */
export interface VersionRow {
  id: number | string;
  remote_path: string;
  size: number | string;
  mtime: number | string | null;
  state: string;
}

function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}
function numOrNull(v: number | string | null): number | null {
  return v === null ? null : num(v);
}

export function toRecord(row: FileRow): FileRecord {
  return {
    id: num(row.id),
    source: row.source,
    remotePath: row.remote_path,
    size: num(row.size),
    mtime: numOrNull(row.mtime),
    state: row.state as FileState,
    attempts: num(row.attempts),
    lastError: row.last_error,
    nextAttemptAt: numOrNull(row.next_attempt_at),
    localPath: row.local_path,
    callbackError: row.callback_error,
    firstSeenAt: num(row.first_seen_at),
    updatedAt: num(row.updated_at),
    downloadedAt: numOrNull(row.downloaded_at),
    processedAt: numOrNull(row.processed_at),
  };
}

export function emptyCounts(): StateCounts {
  const counts = {} as StateCounts;
  for (const s of FILE_STATES) counts[s] = 0;
  return counts;
}

/**
 * The identity key of a missing mtime. Both stores index `coalesce(mtime, -1)` so that two
 * listings without mtime still collide on (source, path, size) — a plain UNIQUE treats NULLs as
 * distinct. No real file has an mtime of -1 ms.
 */
export const NO_MTIME = -1;

export function mtimeKey(mtime: number | null): number {
  return mtime ?? NO_MTIME;
}

/** Checks a listing and keeps the last entry per path (a listing names each path once). */
export function normalizeListing(files: readonly ListedFile[]): ListedFile[] {
  const byPath = new Map<string, ListedFile>();
  files.forEach((f, i) => {
    if (typeof f.remotePath !== 'string' || f.remotePath === '') {
      throw new InvalidArgumentError(`files[${i}].remotePath`, 'must be a non-empty string');
    }
    if (!Number.isSafeInteger(f.size) || f.size < 0) {
      throw new InvalidArgumentError(`files[${i}].size`, `must be a non-negative integer, got ${f.size}`);
    }
    if (f.mtime !== null && (!Number.isSafeInteger(f.mtime) || f.mtime < 0)) {
      throw new InvalidArgumentError(
        `files[${i}].mtime`,
        `must be epoch ms (integer ≥ 0) or null, got ${f.mtime}`,
      );
    }
    byPath.delete(f.remotePath); // keep insertion order of the last occurrence
    byPath.set(f.remotePath, { remotePath: f.remotePath, size: f.size, mtime: f.mtime });
  });
  return [...byPath.values()];
}

export function checkSource(source: string): void {
  if (typeof source !== 'string' || source === '') {
    throw new InvalidArgumentError('source', 'must be a non-empty string');
  }
}

export function checkLimit(limit: number, option = 'limit'): void {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new InvalidArgumentError(option, `must be a non-negative integer, got ${limit}`);
  }
}

/** What one listing asks the store to write. Every write is conditional on what was read. */
export interface ObservePlan {
  /** `seen` rows listed again with the same size+mtime: -> ready. */
  toReady: { id: number; size: number; mtime: number | null }[];
  /** `seen` rows whose size or mtime changed: updated in place (a growing upload). */
  toUpdate: {
    id: number;
    oldSize: number;
    oldMtime: number | null;
    size: number;
    mtime: number | null;
    state: 'seen' | 'ready';
  }[];
  /** New paths, and new versions of paths whose latest row has left `seen`. */
  toInsert: { remotePath: string; size: number; mtime: number | null; state: 'seen' | 'ready' }[];
}

/**
 * Decides what a listing changes, given every stored version of the listed paths.
 *
 * - exact identity known: `seen` -> ready (stable across two listings); later states untouched;
 * - else latest version still `seen`: the upload is still growing, update that row in place;
 * - else (no row, or latest version past `seen`): insert a new row (a new file or new version).
 * A new or updated row is ready at once when its mtime is older than `minAgeMs`.
 */
export function planObserve(
  listed: readonly ListedFile[],
  versionsByPath: ReadonlyMap<string, readonly VersionRow[]>,
  now: number,
  minAgeMs: number,
): ObservePlan {
  const plan: ObservePlan = { toReady: [], toUpdate: [], toInsert: [] };
  const oldEnough = (mtime: number | null): boolean => mtime !== null && now - mtime > minAgeMs;
  for (const f of listed) {
    const versions = versionsByPath.get(f.remotePath) ?? [];
    let exact: VersionRow | undefined;
    let latest: VersionRow | undefined;
    for (const v of versions) {
      if (num(v.size) === f.size && numOrNull(v.mtime) === f.mtime) exact = v;
      if (latest === undefined || num(v.id) > num(latest.id)) latest = v;
    }
    if (exact !== undefined) {
      if (exact.state === 'seen') plan.toReady.push({ id: num(exact.id), size: f.size, mtime: f.mtime });
      continue;
    }
    const state = oldEnough(f.mtime) ? 'ready' : 'seen';
    if (latest !== undefined && latest.state === 'seen') {
      plan.toUpdate.push({
        id: num(latest.id),
        oldSize: num(latest.size),
        oldMtime: numOrNull(latest.mtime),
        size: f.size,
        mtime: f.mtime,
        state,
      });
    } else {
      plan.toInsert.push({ remotePath: f.remotePath, size: f.size, mtime: f.mtime, state });
    }
  }
  return plan;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
