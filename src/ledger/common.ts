/**
 * What the SQLite and PostgreSQL stores share: the row shape, its mapping to `FileRecord`, input
 * checks, and the one decision procedure behind `observe` (so both stores agree on every case).
 * Internal to src/ledger; not re-exported.
 */
import { InvalidArgumentError } from '../errors.js';
import type { FileRecord, FileState, ListedFile, StateCounts } from './ledger.js';
import { FILE_STATES, MTIME_PRECISION } from './ledger.js';

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
  mtime_precision_ms: number | string;
  zone_offset_ms: number | string;
  first_seen_at: number | string;
  stable_since: number | string | null;
  ready_at: number | string | null;
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
  mtime_precision_ms: number | string;
  zone_offset_ms: number | string;
  stable_since: number | string | null;
  state: string;
  /** Set on a `seen` row that was requeued (its download proved incomplete). */
  last_error: string | null;
}

/** The columns `VersionRow` reads, for the stores' SELECTs. */
export const VERSION_COLUMNS =
  'id, remote_path, size, mtime, mtime_precision_ms, zone_offset_ms, stable_since, state, last_error';

/** States a newer version of the path supersedes: not yet downloaded. */
export const SUPERSEDABLE_STATES: readonly FileState[] = ['seen', 'ready', 'downloading', 'failed'];
/** States a file gone from its folder's listing leaves for `vanished` (not claimed, not done). */
export const VANISHABLE_STATES: readonly FileState[] = ['seen', 'ready', 'failed'];

/** SQL list of quoted states, for `state IN (...)` (the values are ours, never user input). */
export function sqlStates(states: readonly FileState[]): string {
  return states.map((s) => `'${s}'`).join(', ');
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
    mtimePrecisionMs: num(row.mtime_precision_ms),
    zoneOffsetMs: num(row.zone_offset_ms),
    firstSeenAt: num(row.first_seen_at),
    stableSince: numOrNull(row.stable_since) ?? num(row.first_seen_at),
    readyAt: numOrNull(row.ready_at),
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

/** A listed file after checks: its precision always set. */
export type NormalizedFile = Required<ListedFile>;

/**
 * True when two readings of a time name the same instant as far as their precisions tell: equal
 * at equal precision, else the finer one inside the coarser one's interval. (LIST's `Jun 04 21:19`
 * and, six months later, `Jun 04  2026` are one time; so are MLSD's seconds and LIST's minute.)
 */
export function compatibleTimes(
  a: number | null,
  precisionA: number,
  b: number | null,
  precisionB: number,
): boolean {
  if (a === null || b === null) return a === b;
  if (precisionA === precisionB) return a === b;
  const [coarse, precision, fine] = precisionA > precisionB ? [a, precisionA, b] : [b, precisionB, a];
  return fine >= coarse && fine < coarse + precision;
}

/** No zone is a day or more away from UTC. */
const MAX_ZONE_OFFSET_MS = 86_400_000;

/** The server's own reading of a time (its wall clock), which no learned offset changes. */
function serverReading(mtime: number | null, zoneOffsetMs: number): number | null {
  return mtime === null ? null : mtime + zoneOffsetMs;
}

/** Checks a listing and keeps the last entry per path (a listing names each path once). */
export function normalizeListing(files: readonly ListedFile[]): NormalizedFile[] {
  const byPath = new Map<string, NormalizedFile>();
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
    const precision = f.mtimePrecisionMs ?? MTIME_PRECISION.second;
    if (!Number.isSafeInteger(precision) || precision < 1) {
      throw new InvalidArgumentError(
        `files[${i}].mtimePrecisionMs`,
        `must be a positive integer (ms), got ${precision}`,
      );
    }
    const zoneOffsetMs = f.zoneOffsetMs ?? 0;
    if (!Number.isSafeInteger(zoneOffsetMs) || Math.abs(zoneOffsetMs) > MAX_ZONE_OFFSET_MS) {
      throw new InvalidArgumentError(
        `files[${i}].zoneOffsetMs`,
        `must be an integer within ±1 day (ms), got ${zoneOffsetMs}`,
      );
    }
    const uncertainty = f.mtimeUncertaintyMs ?? 0;
    if (!(uncertainty >= 0)) {
      throw new InvalidArgumentError(
        `files[${i}].mtimeUncertaintyMs`,
        `must be ≥ 0 (ms), got ${uncertainty}`,
      );
    }
    byPath.delete(f.remotePath); // keep insertion order of the last occurrence
    byPath.set(f.remotePath, {
      remotePath: f.remotePath,
      size: f.size,
      mtime: f.mtime,
      mtimePrecisionMs: precision,
      zoneOffsetMs,
      mtimeUncertaintyMs: uncertainty,
    });
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
  /** `seen` rows listed again unchanged after the settle period: -> ready (size+mtime as stored). */
  toReady: { id: number; size: number; mtime: number | null }[];
  /** `seen` rows whose size or mtime changed: updated in place (a growing upload). */
  toUpdate: {
    id: number;
    oldSize: number;
    oldMtime: number | null;
    size: number;
    mtime: number | null;
    mtimePrecisionMs: number;
    zoneOffsetMs: number;
    state: 'seen' | 'ready';
  }[];
  /**
   * Known versions whose time the listing corrects with another, confirmed zone offset (it was
   * learned since): same server reading, `mtime` and `zoneOffsetMs` rewritten.
   */
  toRekey: { id: number; oldMtime: number | null; mtime: number | null; zoneOffsetMs: number }[];
  /** New paths, and new versions of paths whose latest row has left `seen`. */
  toInsert: {
    remotePath: string;
    size: number;
    mtime: number | null;
    mtimePrecisionMs: number;
    zoneOffsetMs: number;
    state: 'seen' | 'ready';
  }[];
  /** Older versions of paths that get a new version, not yet downloaded: -> superseded. */
  toSupersede: number[];
  /** Rows of completely listed folders that the listing no longer shows: -> vanished. */
  toVanish: number[];
  /** `vanished` rows listed again (a listing that briefly missed them): -> seen, settling anew. */
  toRevive: number[];
  /** Earliest time a row left `seen` by this listing may have settled, or null. */
  settleDueAt: number | null;
}

export interface PlanOptions {
  now: number;
  minAgeMs: number;
  settleMs: number;
}

/** The folder part of a remote path (`/a/b/f` -> `/a/b`). */
export function folderOf(remotePath: string): string {
  const i = remotePath.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '') : remotePath.slice(0, i);
}

/**
 * Decides what a listing changes, given every stored version of the listed paths and (for
 * vanish detection) the unfinished rows of the source in the completely listed folders.
 *
 * - a version with the same size and a compatible time is known: `seen` -> ready once it has
 *   been unchanged for `settleMs`; `vanished` -> seen again (the listing that missed it was
 *   wrong or the file came back); other states untouched. Times are compared both as corrected
 *   (`mtime`) and as the server's own reading (`mtime + zoneOffsetMs`): a zone offset learned
 *   since the row was recorded re-keys the row instead of making a new version;
 * - else latest version still `seen`: the upload is still growing, update that row in place;
 * - else (no row, or latest version past `seen`): insert a new row (a new file or new version),
 *   and supersede older versions that were not downloaded yet.
 * A row is ready at once when its mtime plus its uncertainty is older than `minAgeMs`, unless it
 * was requeued as incomplete (it looked old and was still being written: only settle counts).
 */
export function planObserve(
  listed: readonly NormalizedFile[],
  versionsByPath: ReadonlyMap<string, readonly VersionRow[]>,
  options: PlanOptions,
  unfinishedInCompleteFolders: readonly VersionRow[] = [],
): ObservePlan {
  const { now, minAgeMs, settleMs } = options;
  const plan: ObservePlan = {
    toReady: [],
    toUpdate: [],
    toRekey: [],
    toInsert: [],
    toSupersede: [],
    toVanish: [],
    toRevive: [],
    settleDueAt: null,
  };
  const waitUntil = (at: number): void => {
    plan.settleDueAt = plan.settleDueAt === null ? at : Math.min(plan.settleDueAt, at);
  };
  const oldEnough = (f: NormalizedFile): boolean =>
    f.mtime !== null && now - f.mtime - (minAgeMs > 0 ? f.mtimeUncertaintyMs : 0) > minAgeMs;
  const requeued = (v: VersionRow | undefined): boolean => v?.state === 'seen' && v.last_error !== null;
  for (const f of listed) {
    const versions = versionsByPath.get(f.remotePath) ?? [];
    const reading = serverReading(f.mtime, f.zoneOffsetMs);
    let known: VersionRow | undefined;
    let latest: VersionRow | undefined;
    for (const v of versions) {
      const mtime = numOrNull(v.mtime);
      const precision = num(v.mtime_precision_ms);
      const sameVersion =
        num(v.size) === f.size &&
        (compatibleTimes(mtime, precision, f.mtime, f.mtimePrecisionMs) ||
          compatibleTimes(
            serverReading(mtime, num(v.zone_offset_ms)),
            precision,
            reading,
            f.mtimePrecisionMs,
          ));
      if (sameVersion) known = v;
      if (latest === undefined || num(v.id) > num(latest.id)) latest = v;
    }
    if (known !== undefined) {
      const knownMtime = numOrNull(known.mtime);
      const knownOffset = num(known.zone_offset_ms);
      // Only to a confirmed offset: a restart's not-yet-learned one must not undo a learned one.
      if (
        f.mtimeUncertaintyMs === 0 &&
        knownOffset !== f.zoneOffsetMs &&
        num(known.mtime_precision_ms) === f.mtimePrecisionMs &&
        serverReading(knownMtime, knownOffset) === reading
      ) {
        plan.toRekey.push({
          id: num(known.id),
          oldMtime: knownMtime,
          mtime: f.mtime,
          zoneOffsetMs: f.zoneOffsetMs,
        });
      }
      if (known.state === 'seen') {
        const since = numOrNull(known.stable_since) ?? now;
        if (now - since >= settleMs || (!requeued(known) && oldEnough(f))) {
          plan.toReady.push({ id: num(known.id), size: num(known.size), mtime: knownMtime });
        } else waitUntil(since + settleMs);
      } else if (known.state === 'vanished') {
        plan.toRevive.push(num(known.id));
        waitUntil(now + settleMs);
      }
      continue;
    }
    const growing = latest !== undefined && latest.state === 'seen';
    const state = oldEnough(f) && !(growing && requeued(latest)) ? 'ready' : 'seen';
    if (state === 'seen') waitUntil(now + settleMs);
    if (latest !== undefined && growing) {
      plan.toUpdate.push({
        id: num(latest.id),
        oldSize: num(latest.size),
        oldMtime: numOrNull(latest.mtime),
        size: f.size,
        mtime: f.mtime,
        mtimePrecisionMs: f.mtimePrecisionMs,
        zoneOffsetMs: f.zoneOffsetMs,
        state,
      });
    } else {
      plan.toInsert.push({
        remotePath: f.remotePath,
        size: f.size,
        mtime: f.mtime,
        mtimePrecisionMs: f.mtimePrecisionMs,
        zoneOffsetMs: f.zoneOffsetMs,
        state,
      });
      for (const v of versions) {
        if ((SUPERSEDABLE_STATES as readonly string[]).includes(v.state)) plan.toSupersede.push(num(v.id));
      }
    }
  }
  const listedPaths = new Set(listed.map((f) => f.remotePath));
  for (const row of unfinishedInCompleteFolders) {
    if (listedPaths.has(row.remote_path)) continue;
    if ((VANISHABLE_STATES as readonly string[]).includes(row.state)) plan.toVanish.push(num(row.id));
  }
  return plan;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
