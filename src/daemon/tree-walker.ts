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

/**
 * Lists one remote folder (an `AsyncFTPClient.listDir`, or a stand-in in tests). `onDataEnd`,
 * when the client can: the entries as soon as they have arrived, before the server confirmed
 * the listing (see `ListDirOptions.onDataEnd`).
 */
export type ListDirFn = (
  path: string,
  options: { signal?: AbortSignal; onDataEnd?: (entries: TreeDirEntry[]) => void },
) => Promise<TreeDirEntry[]>;

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

/** `ListDirFn`'s options, without the ones not given. */
function listDirOptions(
  signal: AbortSignal | undefined,
  onDataEnd: ((entries: TreeDirEntry[]) => void) | undefined,
): Parameters<ListDirFn>[1] {
  return {
    ...(signal === undefined ? {} : { signal }),
    ...(onDataEnd === undefined ? {} : { onDataEnd }),
  };
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
    const list: ListFolderFn = (path, allowMissing, onDataEnd) =>
      slot(async () => {
        listings++;
        try {
          return await this.#listDir(path, listDirOptions(signal, onDataEnd));
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
  async #radarsUnder(root: string, list: ListFolderFn): Promise<string[]> {
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
    list: ListFolderFn,
    folderErrors: FolderError[],
  ): Promise<RadarWalk> {
    const run = new RadarWalkRun(root, memory, options, list, folderErrors);
    // What the last walk listed and must list again (recent branches, and folders whose time is
    // unknown or whose listing failed) starts now, beside the radar folder, not level by level.
    run.visit(root);
    run.revisitRemembered();
    await run.settle();
    // Minute folders listed before and older than the last horizon: recent again only if the
    // horizon (now that every minute folder is known) still reaches them.
    const horizon = recentHorizon(memory.minuteFolders.values(), options.recentFolders);
    run.visitRecentMinutes(horizon);
    await run.settle();
    return run.finish(horizon);
  }
}

/**
 * Lists one folder for a walk; `allowMissing` turns a missing folder into an empty listing.
 * `onDataEnd`: see ListDirFn.
 */
type ListFolderFn = (
  path: string,
  allowMissing: boolean,
  onDataEnd?: (entries: TreeDirEntry[]) => void,
) => Promise<TreeDirEntry[]>;

/**
 * One radar's part of one walk: the folders it scheduled, the listings running, what they found.
 * Folders are marked listed in the radar's memory only by `finish`, once the whole walk
 * succeeded, so a failed cycle is redone.
 */
class RadarWalkRun {
  readonly #previousHorizon: number;
  readonly #now: () => number;
  readonly #listedNow: TreeNode[] = [];
  readonly #minuteCandidates: TreeNode[] = [];
  readonly #files: TreeDirEntry[] = [];
  readonly #completeFolders: string[] = [];
  readonly #scheduled = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  #minuteFoldersListed = 0;
  /** The first failure above the minute level: the radar's walk fails, nothing new starts. */
  #failure: { error: unknown } | null = null;

  constructor(
    private readonly root: TreeNode,
    private readonly memory: TreeMemory,
    private readonly options: TreeWalkOptions,
    private readonly list: ListFolderFn,
    private readonly folderErrors: FolderError[],
  ) {
    this.#previousHorizon = memory.horizon;
    this.#now = options.now ?? Date.now;
  }

  /** Lists `node` (once per walk) beside the listings already running. */
  visit(node: TreeNode): void {
    if (this.#failure !== null || this.#scheduled.has(node.path)) return;
    this.#scheduled.add(node.path);
    if (node.level === 'minute') this.#minuteFoldersListed++;
    const job = (node.level === 'minute' ? this.#listMinute(node) : this.#listFolder(node))
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#running.delete(job));
    this.#running.add(job);
  }

  /**
   * Visits what an earlier walk knew and must be listed again. Year, day and minute folders with a
   * time wait for their parent's listing, which says if they changed (when the parent is listed
   * this walk).
   */
  revisitRemembered(): void {
    const { memory, options, root } = this;
    for (const path of [...memory.listed.keys(), ...memory.minuteFolders.keys()]) {
      const node = nodeAt(root, path);
      if (node === null || !inWindow(node, options.windowStart)) continue;
      if (!mustList(node, memory, this.#previousHorizon)) continue;
      if (TIME_DECIDES.has(node.level) && memory.folderTimes.get(path)?.mtime != null) {
        const parent =
          nodeAt(root, path.slice(0, path.lastIndexOf('/'))) ?? (node.level === 'year' ? root : null);
        if (parent !== null && mustList(parent, memory, this.#previousHorizon)) continue;
      }
      this.visit(node);
    }
  }

  /** Visits the minute folders seen this walk that `horizon` makes recent. */
  visitRecentMinutes(horizon: number): void {
    for (const node of this.#minuteCandidates) if (this.#mustListTimed(node, horizon)) this.visit(node);
  }

  /** Waits for every listing, including those they started; throws the first failure. */
  async settle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
    if (this.#failure !== null) throw this.#failure.error;
  }

  /** Records the walk in the radar's memory; the files and folders in path (= time) order. */
  finish(horizon: number): RadarWalk {
    for (const node of this.#listedNow)
      if (node.level !== 'radar') this.memory.listed.set(node.path, node.end);
    this.memory.horizon = horizon;
    // Listings complete in any order.
    this.#files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    this.#completeFolders.sort();
    return {
      files: this.#files,
      minuteFoldersListed: this.#minuteFoldersListed,
      completeFolders: this.#completeFolders,
    };
  }

  /**
   * A recent year, day or minute folder is listed again only when its time (in its parent's
   * listing) shows a change its last listing does not cover (see TIME_DECIDES).
   */
  #mustListTimed(node: TreeNode, horizon: number): boolean {
    return mustList(node, this.memory, horizon) && !folderCovered(this.memory.folderTimes.get(node.path));
  }

  /**
   * Lists a folder above the minute level and visits its sub-folders from the first sight of its
   * entries: at the listing's data end, a round trip before the server confirms it (ProFTPD),
   * as `listFiles` does (ftp/walk.ts). A sub-folder seen there exists; if the listing then
   * fails, the radar's walk fails and nothing of it is marked listed (see `finish`).
   */
  async #listFolder(node: TreeNode): Promise<void> {
    const startedAt = this.#now();
    let seen = false;
    const descend = (entries: TreeDirEntry[]): void => {
      if (seen) return;
      seen = true;
      this.#visitChildren(node, entries);
    };
    const entries = await this.list(node.path, true, descend);
    this.#listedNow.push(node);
    noteFolderListed(this.memory, node.path, startedAt);
    descend(entries);
  }

  /** Notes the sub-folders' times and visits those this walk must list. */
  #visitChildren(node: TreeNode, entries: readonly TreeDirEntry[]): void {
    const { memory, options } = this;
    const seenAt = this.#now();
    for (const e of entries) {
      if (e.type !== 'dir') continue;
      const child = childNode(node, e.name);
      if (child === null || !inWindow(child, options.windowStart)) continue;
      if (child.level === 'minute') {
        memory.minuteFolders.set(child.path, child.start);
        this.#minuteCandidates.push(child);
      }
      if (!TIME_DECIDES.has(child.level)) {
        if (mustList(child, memory, this.#previousHorizon)) this.visit(child);
        continue;
      }
      noteFolderTime(memory, child.path, shownTime(e), seenAt, true);
      if (this.#mustListTimed(child, this.#previousHorizon)) this.visit(child);
    }
  }

  /** A minute folder that fails is recorded and listed again next cycle; its siblings go on. */
  async #listMinute(node: TreeNode): Promise<void> {
    let entries: TreeDirEntry[];
    const startedAt = this.#now();
    try {
      entries = await this.list(node.path, true);
    } catch (err) {
      if (this.options.signal?.aborted === true) throw err;
      this.folderErrors.push({ path: node.path, error: err instanceof Error ? err : new Error(String(err)) });
      return;
    }
    this.#listedNow.push(node);
    noteFolderListed(this.memory, node.path, startedAt);
    this.#completeFolders.push(node.path);
    for (const e of entries) if (e.type === 'file' && this.options.acceptFile(e.name)) this.#files.push(e);
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
