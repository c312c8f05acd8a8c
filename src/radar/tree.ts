/**
 * The radar date tree, as pure functions (no I/O):
 *
 *   <root>/<RADAR>/YYYY/MM/DD/HH/MMSS/<RADAR>_<STRATEGY>_<VOLNR>_<FIELD>_<YYYYMMDDTHHMMSSZ>.BUFR
 *   /L2   /RMA11  /2025/10/20/15/2828/RMA11_0315_01_DBZH_20251020T152828Z.BUFR
 *
 * Every folder below a radar covers a time range [start, end). The walker (src/daemon/tree-walker.ts)
 * uses these helpers to
 *  - prune: a branch whose range ends before the window start (lookback / start time) is never
 *    listed;
 *  - remember: a folder listed once is not listed again, unless its range reaches the "recent
 *    horizon" — the start of the N-th most recent minute folder — so late files in the N most recent
 *    minute folders are still found, and an idle cycle costs O(N) listings, not O(history).
 */

/** Levels below a radar folder, outermost first. `minute` folders (MMSS) hold the files. */
export const TREE_LEVELS = ['year', 'month', 'day', 'hour', 'minute'] as const;
/** A level of a radar date tree below the radar folder. */
export type TreeLevel = (typeof TREE_LEVELS)[number];

/** One folder of a radar's date tree, with the time range it covers (epoch ms, UTC). */
export interface TreeNode {
  /** Absolute remote path, no trailing slash. */
  path: string;
  level: TreeLevel | 'radar';
  /** Inclusive start of the range. */
  start: number;
  /** Exclusive end of the range. */
  end: number;
  /** Date parts so far: [year, month, day, hour, minute, second]. */
  parts: readonly number[];
}

const SEGMENT: Record<TreeLevel, RegExp> = {
  year: /^\d{4}$/,
  month: /^\d{2}$/,
  day: /^\d{2}$/,
  hour: /^\d{2}$/,
  minute: /^\d{4}$/,
};

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/** A radar's folder as the root node of its tree (covers all time). */
export function radarNode(root: string, radar: string): TreeNode {
  return {
    path: joinPath(root.replace(/\/+$/, '') || '/', radar),
    level: 'radar',
    start: -Infinity,
    end: Infinity,
    parts: [],
  };
}

/** The level below `level`, or null below minute folders. */
export function childLevel(level: TreeNode['level']): TreeLevel | null {
  if (level === 'radar') return 'year';
  const i = TREE_LEVELS.indexOf(level);
  return TREE_LEVELS[i + 1] ?? null;
}

/**
 * The node for folder `name` inside `parent`, or null when the name is not a valid date part at
 * that level (`13` as a month, `2460` as MMSS, `README`...), so stray folders are skipped.
 */
export function childNode(parent: TreeNode, name: string): TreeNode | null {
  const level = childLevel(parent.level);
  if (level === null || !SEGMENT[level].test(name)) return null;
  let parts: number[];
  if (level === 'minute') {
    const mi = Number(name.slice(0, 2));
    const s = Number(name.slice(2, 4));
    if (mi > 59 || s > 59) return null;
    parts = [...parent.parts, mi, s];
  } else {
    const v = Number(name);
    if (level === 'month' && (v < 1 || v > 12)) return null;
    if (level === 'day' && (v < 1 || v > daysInMonth(parent.parts[0] ?? 1970, parent.parts[1] ?? 1)))
      return null;
    if (level === 'hour' && v > 23) return null;
    parts = [...parent.parts, v];
  }
  const { start, end } = rangeOf(level, parts);
  return { path: joinPath(parent.path, name), level, start, end, parts };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The [start, end) range (epoch ms) covered by a folder at `level` with date `parts`. */
export function rangeOf(level: TreeLevel, parts: readonly number[]): { start: number; end: number } {
  const [y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0] = parts;
  switch (level) {
    case 'year':
      return { start: Date.UTC(y, 0, 1), end: Date.UTC(y + 1, 0, 1) };
    case 'month':
      return { start: Date.UTC(y, mo - 1, 1), end: Date.UTC(y, mo, 1) };
    case 'day':
      return { start: Date.UTC(y, mo - 1, d), end: Date.UTC(y, mo - 1, d + 1) };
    case 'hour':
      return { start: Date.UTC(y, mo - 1, d, h), end: Date.UTC(y, mo - 1, d, h + 1) };
    case 'minute': {
      // A minute folder is named after its volume's start; it is a point in time. Its range is one
      // second wide so that `end > windowStart` keeps a folder stamped exactly at the window start.
      const start = Date.UTC(y, mo - 1, d, h, mi, s);
      return { start, end: start + 1000 };
    }
  }
}

/**
 * The node of `path` inside `radar`'s tree (`<radar>/YYYY/MM/...`), or null when a segment is not
 * a valid date part or the path is not below `radar`.
 */
export function nodeAt(radar: TreeNode, path: string): TreeNode | null {
  if (!path.startsWith(`${radar.path}/`)) return null;
  let node: TreeNode | null = radar;
  for (const seg of path.slice(radar.path.length + 1).split('/')) {
    node = node === null ? null : childNode(node, seg);
  }
  return node;
}

/** The start (epoch ms) of the minute folder at `path` (`…/YYYY/MM/DD/HH/MMSS`), or null. */
export function minuteFolderStart(path: string): number | null {
  const segs = path.split('/').filter((x) => x !== '');
  if (segs.length < 5) return null;
  const parsed = parseRadarTreePath(['radar', ...segs.slice(-5)].join('/'));
  return parsed?.level === 'minute' && parsed.time !== null ? parsed.time.getTime() : null;
}

/** `<root>/<radar>/YYYY/MM/DD/HH/MMSS` for a volume time (UTC). */
export function radarTreeFolder(root: string, radar: string, time: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const base = root.replace(/\/+$/, '');
  return (
    `${base}/${radar}/${p(time.getUTCFullYear(), 4)}/${p(time.getUTCMonth() + 1)}/${p(time.getUTCDate())}` +
    `/${p(time.getUTCHours())}/${p(time.getUTCMinutes())}${p(time.getUTCSeconds())}`
  );
}

/** What a path inside a radar tree says: the radar, the deepest level reached and its start time. */
export interface RadarTreePath {
  radar: string;
  level: TreeNode['level'];
  /** Start of the deepest folder's range, or null for the radar folder itself. */
  time: Date | null;
  /** The file name, when the path goes below a minute folder. */
  fileName: string | null;
}

/**
 * Parses a path relative to the tree root (`RMA11/2025/10/20/15/2828/` or with a file name), or
 * an absolute path when `root` is given (`/L2/RMA11/2025/...` with root `/L2`). Null when a
 * segment is not a valid date part or the path is not under `root`.
 */
export function parseRadarTreePath(path: string, root = ''): RadarTreePath | null {
  let rel = path;
  const r = root.replace(/\/+$/, '');
  if (r !== '') {
    if (!path.startsWith(`${r}/`)) return null;
    rel = path.slice(r.length + 1);
  }
  const segs = rel.split('/').filter((s) => s !== '');
  const radar = segs.shift();
  if (radar === undefined) return null;
  let node = radarNode(r === '' ? '/' : r, radar);
  let fileName: string | null = null;
  for (const seg of segs) {
    if (node.level === 'minute') {
      if (fileName !== null) return null;
      fileName = seg;
      continue;
    }
    const next = childNode(node, seg);
    if (next === null) return null;
    node = next;
  }
  return { radar, level: node.level, time: node.level === 'radar' ? null : new Date(node.start), fileName };
}

/**
 * Start of the time window (epoch ms): `startTime` when set, even when it is older than
 * `now - lookbackMs` (a start time is how an operator asks for a backfill); else
 * `now - lookbackMs`; -Infinity when neither is set (walk everything).
 */
export function windowStart(options: {
  now: number;
  lookbackMs?: number | null;
  startTime?: Date | null;
}): number {
  if (options.startTime != null) return options.startTime.getTime();
  return options.lookbackMs == null ? -Infinity : options.now - options.lookbackMs;
}

/** True when a folder's range reaches into the window. */
export function inWindow(node: Pick<TreeNode, 'end'>, start: number): boolean {
  return node.end > start;
}

/**
 * The recent horizon: the start time of the `n`-th most recent minute folder, or -Infinity when
 * fewer than `n` are known (then every folder counts as recent).
 */
export function recentHorizon(minuteStarts: Iterable<number>, n: number): number {
  if (n <= 0) return Infinity;
  // Keep the n largest in a small sorted array: O(k log n) without sorting the whole set.
  const top: number[] = [];
  for (const t of minuteStarts) {
    if (top.length < n) {
      top.push(t);
      top.sort((a, b) => a - b);
    } else if (t > (top[0] ?? -Infinity)) {
      top[0] = t;
      top.sort((a, b) => a - b);
    }
  }
  return top.length < n ? -Infinity : (top[0] ?? -Infinity);
}

/** What the walker remembers about one radar's tree between cycles (in memory only). */
export interface TreeMemory {
  /** Folders whose whole subtree was listed since the last full rescan: path -> range end. */
  listed: Map<string, number>;
  /** Minute folders seen inside the window: path -> start. */
  minuteFolders: Map<string, number>;
  /**
   * Modification times of the folders at the levels a walk may skip ({@link TIME_DECIDES}) as
   * their parent's listing shows them, and when they were last listed (full and hot rounds share
   * it): a folder whose time has not changed since a listing that covers that time is not listed
   * again.
   */
  folderTimes: Map<string, FolderTime>;
  /** Horizon computed at the end of the previous walk. */
  horizon: number;
}

export function createTreeMemory(): TreeMemory {
  return { listed: new Map(), minuteFolders: new Map(), folderTimes: new Map(), horizon: -Infinity };
}

/**
 * Levels whose folders are listed only when their time (shown in their parent's listing) says
 * something was added since a listing that covers it: a year folder (a new month), a day folder
 * (a new hour), a minute folder (a new file). The levels between (radar, month, hour) are listed
 * whenever recent, from memory: their listings show the times of the levels below, and a late
 * file in a minute folder changes only that folder's time, shown in its hour's listing. So an
 * idle walk lists the radar, its recent month and hour folders, and one wave is enough.
 */
export const TIME_DECIDES: ReadonlySet<TreeLevel | 'radar'> = new Set<TreeLevel>(['year', 'day', 'minute']);

/**
 * One folder's modification time as listed in its parent (the server's own reading: only
 * compared for equality), and what our listings of the folder cover.
 *
 * A file added to a folder changes the folder's time, unless the change falls in the same
 * `precisionMs` period as the time shown (MLSD shows seconds, LIST `hh:mm` minutes). So a listing
 * that started at least `precisionMs` after the time shown last changed holds every file up to
 * that change, and any later file changes the time shown.
 */
export interface FolderTime {
  /** The time shown (ms), or null when the server shows none (then the folder is always listed). */
  mtime: number | null;
  precisionMs: number;
  /** Our clock at or after the moment the folder last changed (when the time shown was first seen). */
  changedAt: number;
  /** Our clock when the last successful listing of the folder started, or -Infinity. */
  listedAt: number;
  /**
   * First seen with this time by a full round, which listed it then: hot rounds leave it to the
   * full rounds until its time changes (a hot round lists only new or changed folders).
   */
  baseline: boolean;
}

/**
 * Allowance for the server's clock being ahead of ours, when a UTC folder time (MLSD) is compared
 * with our clock.
 */
export const CLOCK_SKEW_MARGIN_MS = 2000;

/**
 * Records the time a folder shows in its parent's listing, seen at `seenAt` (our clock, after
 * that listing returned). `inServerZone`: a LIST time (the server's wall clock, zone
 * unknown here); a UTC time (MLSD) also says when the change happened at the latest, so a folder
 * that last changed long ago is covered by the first listing.
 */
export function noteFolderTime(
  memory: TreeMemory,
  path: string,
  shown: { mtime: number | null; precisionMs: number; inServerZone: boolean },
  seenAt: number,
  byFullRound: boolean,
): FolderTime {
  const known = memory.folderTimes.get(path);
  if (known !== undefined && known.mtime === shown.mtime) return known;
  const changedAt =
    shown.mtime !== null && !shown.inServerZone
      ? Math.min(seenAt, shown.mtime + CLOCK_SKEW_MARGIN_MS)
      : seenAt;
  const state: FolderTime = {
    mtime: shown.mtime,
    precisionMs: shown.precisionMs,
    changedAt,
    listedAt: known?.listedAt ?? -Infinity,
    baseline: known === undefined && byFullRound,
  };
  memory.folderTimes.set(path, state);
  return state;
}

/** Records a successful listing of a folder that started at `startedAt` (our clock). */
export function noteFolderListed(memory: TreeMemory, path: string, startedAt: number): void {
  const known = memory.folderTimes.get(path);
  if (known !== undefined) known.listedAt = Math.max(known.listedAt, startedAt);
}

/**
 * Full rounds: true when the folder's last listing holds every entry it has now, as far as its
 * time shown says (a time shown, unchanged since a listing started `precisionMs` after it
 * changed). Such a folder need not be listed again, however recent.
 */
export function folderCovered(state: FolderTime | undefined): boolean {
  return state !== undefined && state.mtime !== null && state.listedAt >= state.changedAt + state.precisionMs;
}

/**
 * The longest a minute folder stays hot after its time changed: for servers whose folder times are
 * coarse (LIST `hh:mm`) or missing, a file added within the same minute does not change the time
 * shown, so hot rounds re-list the folder for this long, and leave the rest to the full rounds.
 */
export const HOT_FOLDER_MS = 15_000;

/**
 * Hot rounds: whether to list a minute folder of a hot hour folder. New and changed folders are
 * listed until a listing covers the change (at most {@link HOT_FOLDER_MS} after it); folders a full
 * round found and listed are left to the full rounds until their time changes.
 */
export function minuteFolderHot(state: FolderTime): boolean {
  if (state.baseline) return false;
  const window = state.mtime === null ? HOT_FOLDER_MS : Math.min(state.precisionMs, HOT_FOLDER_MS);
  return state.listedAt < state.changedAt + window;
}

/**
 * Whether the walker must list `node` this cycle: always for the radar folder, for any folder not
 * listed since the last full rescan, and for folders whose range reaches the recent horizon.
 */
export function mustList(node: TreeNode, memory: TreeMemory, horizon: number): boolean {
  if (node.level === 'radar') return true;
  if (!memory.listed.has(node.path)) return true;
  return node.level === 'minute' ? node.start >= horizon : node.end > horizon;
}

/** Forgets folders that left the window, so memory stays O(window), not O(history). */
export function pruneTreeMemory(memory: TreeMemory, start: number): void {
  for (const [path, end] of memory.listed) {
    if (end > start) continue;
    memory.listed.delete(path);
    memory.folderTimes.delete(path);
  }
  for (const [path, t] of memory.minuteFolders) {
    if (t + 1000 > start) continue;
    memory.minuteFolders.delete(path);
    memory.folderTimes.delete(path);
  }
}

/**
 * Forgets what was listed and the folder times (not the minute folders), so the next walk lists
 * the whole window again, every minute folder included.
 */
export function resetTreeMemory(memory: TreeMemory): void {
  memory.listed.clear();
  memory.folderTimes.clear();
}
