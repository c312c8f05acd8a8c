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
  /** Horizon computed at the end of the previous walk. */
  horizon: number;
}

export function createTreeMemory(): TreeMemory {
  return { listed: new Map(), minuteFolders: new Map(), horizon: -Infinity };
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
  for (const [path, end] of memory.listed) if (end <= start) memory.listed.delete(path);
  for (const [path, t] of memory.minuteFolders) if (t + 1000 <= start) memory.minuteFolders.delete(path);
}

/** Forgets what was listed (not the minute folders), so the next walk covers the whole window. */
export function resetTreeMemory(memory: TreeMemory): void {
  memory.listed.clear();
}
