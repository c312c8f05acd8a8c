/**
 * Walks radar date trees (`<root>/<RADAR>/YYYY/MM/DD/HH/MMSS/`) level by level, listing only:
 *  - branches inside the time window (lookback / start time);
 *  - folders not listed since the last full rescan (the first walk covers the whole window);
 *  - folders reaching the recent horizon (the N most recent minute folders and their parents),
 *    except year, day and minute folders whose time, in their parent's listing, shows no change
 *    since a listing that covers it (`TIME_DECIDES`, `folderCovered` in src/radar/tree.ts).
 * So the first cycle costs O(window) listings and an idle cycle a few per radar (radar, recent
 * month and hour folders, in one wave), whatever the history.
 *
 * The decisions are the pure functions of src/radar/tree.ts; this file adds the listing calls
 * (injected, so it runs against any client) and bounded parallelism.
 */
import { FtpReplyError } from '../errors.js';
import {
  childNode,
  createTreeMemory,
  inWindow,
  folderCovered,
  mustList,
  nodeAt,
  TIME_DECIDES,
  noteFolderListed,
  noteFolderTime,
  pruneTreeMemory,
  radarNode,
  recentHorizon,
  resetTreeMemory,
  type TreeMemory,
  type TreeNode,
} from '../radar/tree.js';
import { remoteBaseName } from '../util/remote-path.js';

/** One listed entry (the shape of `AsyncFTPClient.listDir`). */
export interface TreeDirEntry {
  name: string;
  path: string;
  type: 'file' | 'dir';
  size: number;
  modifiedAt: Date | null;
  /** Precision of `modifiedAt` in ms (1000 for MLSD, 60 000 for LIST `hh:mm`), when known. */
  modifiedAtPrecisionMs?: number;
  /** `modifiedAt` is the server's wall clock read as UTC (a LIST time), when known. */
  modifiedAtInServerZone?: boolean;
}

/** Lists one remote folder (an `AsyncFTPClient.listDir`, or a stand-in in tests). */
export type ListDirFn = (path: string, options: { signal?: AbortSignal }) => Promise<TreeDirEntry[]>;

/** Options of {@link RadarTreeWalker.walk}: the root, the radars, the window and the re-listing rules. */
export interface TreeWalkOptions {
  /** Folder holding the radar folders (`/L2`), or one radar's folder (`/L2/RMA11`). */
  root: string;
  /** Radar folders to walk; null lists `root` for them. */
  radars: readonly string[] | null;
  /** Window start (epoch ms), from src/radar/tree.ts `windowStart`. */
  windowStart: number;
  /** Minute folders re-listed every cycle, per radar. */
  recentFolders: number;
  /** Walk the whole window again this cycle (catches late folders in old hours). */
  fullRescan: boolean;
  /** Listings at once. */
  concurrency: number;
  /** Which file names to keep (pattern, ignore, filters). */
  acceptFile: (name: string) => boolean;
  /** Our clock (epoch ms): when folder times were seen and listings started. */
  now?: () => number;
  signal?: AbortSignal;
}

/** What one {@link RadarTreeWalker.walk} found, and what it cost in LIST commands. */
export interface TreeWalkResult {
  files: TreeDirEntry[];
  /** LIST commands sent this walk (the cost of the cycle). */
  listings: number;
  /**
   * Minute folders whose listing this walk holds completely (a missing one counts, as empty):
   * a file of theirs that is not in `files` is gone from the server.
   */
  completeFolders: string[];
  /** Radars and folders that could not be listed; everything else was. */
  folderErrors: FolderError[];
  /** Minute folders listed this walk. */
  minuteFoldersListed: number;
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/**
 * A folder that vanished (or a configured radar that has none yet) means "empty": 550 is the
 * usual answer, some servers say 450 (busy/unavailable) and pyftpdlib answers MLSD with 501.
 */
const MISSING_FOLDER_REPLIES = new Set([450, 501, 550]);
function isMissing(err: unknown): boolean {
  return err instanceof FtpReplyError && MISSING_FOLDER_REPLIES.has(err.replyCode);
}

/** A folder whose listing failed this walk; the other folders and radars went on. */
export interface FolderError {
  path: string;
  error: Error;
}

/** Keeps the per-radar memory between cycles; one walker per source. */
export class RadarTreeWalker {
  readonly #memory = new Map<string, TreeMemory>();
  readonly #listDir: ListDirFn;
  /** Set once `root` turned out to be one radar's folder (no need to list it twice a cycle). */
  #singleRadar: { configured: string; root: string; radar: string } | null = null;

  constructor(listDir: ListDirFn) {
    this.#listDir = listDir;
  }

  /** Every radar's memory, by radar (the listing scheduler picks the hot folders from it). */
  get memories(): ReadonlyMap<string, TreeMemory> {
    return this.#memory;
  }

  /** Memory of one radar (for tests and the status page). */
  memoryOf(radar: string): TreeMemory | undefined {
    return this.#memory.get(radar);
  }

  /**
   * Lists the radar trees under `options.root` inside the window: the files found, and how many
   * LIST commands it took. Listings run `options.concurrency` at a time across every level and
   * radar: a folder's sub-folders are listed as soon as its own listing returns, and folders an
   * earlier walk knew (the recent branches, the recent minute folders, the radars) start at once,
   * so an idle walk is one wave of parallel listings rather than one level after another.
   */
  async walk(options: TreeWalkOptions): Promise<TreeWalkResult> {
    const signal = options.signal;
    let listings = 0;
    const slot = limiter(options.concurrency);
    const list = (path: string, allowMissing: boolean): Promise<TreeDirEntry[]> =>
      slot(async () => {
        listings++;
        try {
          return await this.#listDir(path, signal === undefined ? {} : { signal });
        } catch (err) {
          if (allowMissing && isMissing(err)) return [];
          throw err;
        }
      });

    const folderErrors: FolderError[] = [];
    const radarFailures: Error[] = [];
    const walkOne = async (root: string, radar: string): Promise<RadarWalk> => {
      let memory = this.#memory.get(radar);
      if (memory === undefined) {
        memory = createTreeMemory();
        this.#memory.set(radar, memory);
      }
      if (options.fullRescan) resetTreeMemory(memory);
      pruneTreeMemory(memory, options.windowStart);
      const node = radarNode(root, radar);
      try {
        return await this.#walkRadar(node, memory, options, list, folderErrors);
      } catch (err) {
        // One radar's trouble is that radar's: the others are still walked.
        if (signal?.aborted === true) throw err;
        const error = err instanceof Error ? err : new Error(String(err));
        radarFailures.push(error);
        folderErrors.push({ path: node.path, error });
        return { files: [], minuteFoldersListed: 0, completeFolders: [] };
      }
    };

    let walks: Promise<RadarWalk>[];
    let radarCount: number;
    if (options.radars !== null) {
      walks = options.radars.map((radar) => walkOne(options.root, radar));
      radarCount = options.radars.length;
    } else if (this.#singleRadar !== null && this.#singleRadar.configured === options.root) {
      walks = [walkOne(this.#singleRadar.root, this.#singleRadar.radar)];
      radarCount = 1;
    } else {
      // Radars of earlier walks are walked while the root is listed again; new ones join after.
      const early = new Map<string, Promise<RadarWalk>>();
      for (const radar of this.#memory.keys()) early.set(radar, walkOne(options.root, radar));
      let radars: string[];
      try {
        radars = await this.#radarsUnder(options.root, list);
      } catch (err) {
        await Promise.allSettled(early.values());
        throw err;
      }
      if (this.#singleRadar !== null) {
        // `root` is one radar's folder: radars remembered under it were not radars
        await Promise.allSettled(early.values());
        walks = [walkOne(this.#singleRadar.root, this.#singleRadar.radar)];
        radarCount = 1;
      } else {
        walks = radars.map((radar) => early.get(radar) ?? walkOne(options.root, radar));
        radarCount = radars.length;
        // A radar gone from the root: its early walk found nothing (550) and is left out, and
        // forgotten (not walked again, and no longer hot).
        const gone = [...early.keys()].filter((r) => !radars.includes(r));
        await Promise.allSettled(gone.map((r) => early.get(r)));
        for (const r of gone) this.#memory.delete(r);
      }
    }
    const settled = await Promise.allSettled(walks);
    const aborted = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (aborted !== undefined) throw aborted.reason;
    const perRadar = settled.map((r) => (r as PromiseFulfilledResult<RadarWalk>).value);
    // No radar could be walked at all: the server is the problem, not a folder.
    if (radarCount > 0 && radarFailures.length >= radarCount) throw radarFailures[0];
    const files = perRadar.flatMap((r) => r.files);
    const completeFolders = perRadar.flatMap((r) => r.completeFolders);
    const minuteFoldersListed = perRadar.reduce((n, r) => n + r.minuteFoldersListed, 0);
    return { files, listings, minuteFoldersListed, completeFolders, folderErrors };
  }

  /** The radar folders under `root`; notices when `root` is one radar's folder (children are years). */
  async #radarsUnder(
    root: string,
    list: (path: string, allowMissing: boolean) => Promise<TreeDirEntry[]>,
  ): Promise<string[]> {
    const entries = await list(root, false);
    const dirs = entries.filter((e) => e.type === 'dir' && !e.name.startsWith('.')).map((e) => e.name);
    const trimmed = root.replace(/\/+$/, '');
    const base = remoteBaseName(trimmed);
    if (dirs.length > 0 && dirs.every((d) => /^\d{4}$/.test(d)) && base !== '') {
      // `remotePath` is one radar's folder (`/L2/RMA11`): its children are years.
      this.#singleRadar = {
        configured: root,
        root: trimmed.slice(0, trimmed.lastIndexOf('/')) || '/',
        radar: base,
      };
      return [base];
    }
    return dirs;
  }

  async #walkRadar(
    root: TreeNode,
    memory: TreeMemory,
    options: TreeWalkOptions,
    list: (path: string, allowMissing: boolean) => Promise<TreeDirEntry[]>,
    folderErrors: FolderError[],
  ): Promise<RadarWalk> {
    const previousHorizon = memory.horizon;
    const now = options.now ?? Date.now;
    // A recent year, day or minute folder is listed again only when its time (in its parent's
    // listing) shows a change its last listing does not cover (see TIME_DECIDES).
    const mustListTimed = (node: TreeNode, horizon: number): boolean =>
      mustList(node, memory, horizon) && !folderCovered(memory.folderTimes.get(node.path));
    // Folders are marked listed only once the whole walk succeeded, so a failed cycle is redone.
    const listedNow: TreeNode[] = [];
    const minuteCandidates: TreeNode[] = [];
    const files: TreeDirEntry[] = [];
    const completeFolders: string[] = [];
    const scheduled = new Set<string>();
    let minuteFoldersListed = 0;
    const running = new Set<Promise<void>>();
    /** The first failure above the minute level: the radar's walk fails, nothing new starts. */
    let failure: { error: unknown } | null = null;

    const listFolder = async (node: TreeNode): Promise<void> => {
      const startedAt = now();
      const entries = await list(node.path, true);
      const seenAt = now();
      listedNow.push(node);
      noteFolderListed(memory, node.path, startedAt);
      for (const e of entries) {
        if (e.type !== 'dir') continue;
        const child = childNode(node, e.name);
        if (child === null || !inWindow(child, options.windowStart)) continue;
        if (child.level === 'minute') {
          memory.minuteFolders.set(child.path, child.start);
          minuteCandidates.push(child);
        }
        if (!TIME_DECIDES.has(child.level)) {
          if (mustList(child, memory, previousHorizon)) visit(child);
          continue;
        }
        noteFolderTime(memory, child.path, shownTime(e), seenAt, true);
        if (mustListTimed(child, previousHorizon)) visit(child);
      }
    };
    // A minute folder that fails is recorded and listed again next cycle; its siblings go on.
    const listMinute = async (node: TreeNode): Promise<void> => {
      let entries: TreeDirEntry[];
      const startedAt = now();
      try {
        entries = await list(node.path, true);
      } catch (err) {
        if (options.signal?.aborted === true) throw err;
        folderErrors.push({ path: node.path, error: err instanceof Error ? err : new Error(String(err)) });
        return;
      }
      listedNow.push(node);
      noteFolderListed(memory, node.path, startedAt);
      completeFolders.push(node.path);
      for (const e of entries) if (e.type === 'file' && options.acceptFile(e.name)) files.push(e);
    };
    const visit = (node: TreeNode): void => {
      if (failure !== null || scheduled.has(node.path)) return;
      scheduled.add(node.path);
      if (node.level === 'minute') minuteFoldersListed++;
      const job = (node.level === 'minute' ? listMinute(node) : listFolder(node))
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => running.delete(job));
      running.add(job);
    };
    const settle = async (): Promise<void> => {
      while (running.size > 0) await Promise.all([...running]);
      if (failure !== null) throw failure.error;
    };

    visit(root);
    // What the last walk listed and must list again (recent branches, and folders whose time is
    // unknown or whose listing failed) starts now, beside the radar folder, not level by level.
    // Year, day and minute folders with a time wait for their parent's listing, which says if
    // they changed (when the parent is listed this walk).
    for (const path of [...memory.listed.keys(), ...memory.minuteFolders.keys()]) {
      const node = nodeAt(root, path);
      if (node === null || !inWindow(node, options.windowStart)) continue;
      if (!mustList(node, memory, previousHorizon)) continue;
      if (TIME_DECIDES.has(node.level) && memory.folderTimes.get(path)?.mtime != null) {
        const parent =
          nodeAt(root, path.slice(0, path.lastIndexOf('/'))) ?? (node.level === 'year' ? root : null);
        if (parent !== null && mustList(parent, memory, previousHorizon)) continue;
      }
      visit(node);
    }
    await settle();
    // Minute folders listed before and older than the last horizon: recent again only if the
    // horizon (now that every minute folder is known) still reaches them.
    const horizon = recentHorizon(memory.minuteFolders.values(), options.recentFolders);
    for (const node of minuteCandidates) if (mustListTimed(node, horizon)) visit(node);
    await settle();

    for (const node of listedNow) if (node.level !== 'radar') memory.listed.set(node.path, node.end);
    memory.horizon = horizon;
    // Listings complete in any order: report in path (= time) order.
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    completeFolders.sort();
    return { files, minuteFoldersListed, completeFolders };
  }
}

/** A folder's time as its parent's listing shows it (see `FolderTime`). */
export function shownTime(e: TreeDirEntry): {
  mtime: number | null;
  precisionMs: number;
  inServerZone: boolean;
} {
  return {
    mtime: e.modifiedAt?.getTime() ?? null,
    precisionMs: e.modifiedAtPrecisionMs ?? 1000,
    inServerZone: e.modifiedAtInServerZone ?? true,
  };
}

/** One radar's part of a walk. */
interface RadarWalk {
  files: TreeDirEntry[];
  minuteFoldersListed: number;
  completeFolders: string[];
}

/** Runs at most `limit` of the functions given to it at once; the others wait their turn. */
function limiter(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  const max = Math.max(1, limit);
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter (or is freed).
      const next = waiting.shift();
      if (next === undefined) active--;
      else next();
    }
  };
}
