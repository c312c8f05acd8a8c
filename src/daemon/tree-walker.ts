/**
 * Walks radar date trees (`<root>/<RADAR>/YYYY/MM/DD/HH/MMSS/`) level by level, listing only:
 *  - branches inside the time window (lookback / start time);
 *  - folders not listed since the last full rescan (the first walk covers the whole window);
 *  - folders reaching the recent horizon (the N most recent minute folders and their parents).
 * So the first cycle costs O(window) listings and an idle cycle O(N), whatever the history.
 *
 * The decisions are the pure functions of src/radar/tree.ts; this file adds the listing calls
 * (injected, so it runs against any client) and bounded parallelism.
 */
import { FtpReplyError } from '../errors.js';
import {
  childNode,
  createTreeMemory,
  inWindow,
  mustList,
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
   * LIST commands it took.
   */
  async walk(options: TreeWalkOptions): Promise<TreeWalkResult> {
    const signal = options.signal;
    let listings = 0;
    const list = async (path: string, allowMissing: boolean): Promise<TreeDirEntry[]> => {
      listings++;
      try {
        return await this.#listDir(path, signal === undefined ? {} : { signal });
      } catch (err) {
        if (allowMissing && isMissing(err)) return [];
        throw err;
      }
    };

    let root = options.root;
    let radars: readonly string[];
    if (options.radars !== null) {
      radars = options.radars;
    } else if (this.#singleRadar !== null && this.#singleRadar.configured === options.root) {
      root = this.#singleRadar.root;
      radars = [this.#singleRadar.radar];
    } else {
      const entries = await list(root, false);
      const dirs = entries.filter((e) => e.type === 'dir' && !e.name.startsWith('.')).map((e) => e.name);
      const trimmed = root.replace(/\/+$/, '');
      const base = remoteBaseName(trimmed);
      if (dirs.length > 0 && dirs.every((d) => /^\d{4}$/.test(d)) && base !== '') {
        // `remotePath` is one radar's folder (`/L2/RMA11`): its children are years.
        root = trimmed.slice(0, trimmed.lastIndexOf('/')) || '/';
        radars = [base];
        this.#singleRadar = { configured: options.root, root, radar: base };
      } else {
        radars = dirs;
      }
    }

    const folderErrors: FolderError[] = [];
    const radarFailures: Error[] = [];
    // Radars are independent: walked side by side (the pool bounds the listings at once).
    const perRadar = await mapLimit(radars, options.concurrency, async (radar) => {
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
    });
    // No radar could be walked at all: the server is the problem, not a folder.
    if (radars.length > 0 && radarFailures.length === radars.length) throw radarFailures[0];
    const files = perRadar.flatMap((r) => r.files);
    const completeFolders = perRadar.flatMap((r) => r.completeFolders);
    const minuteFoldersListed = perRadar.reduce((n, r) => n + r.minuteFoldersListed, 0);
    return { files, listings, minuteFoldersListed, completeFolders, folderErrors };
  }

  async #walkRadar(
    root: TreeNode,
    memory: TreeMemory,
    options: TreeWalkOptions,
    list: (path: string, allowMissing: boolean) => Promise<TreeDirEntry[]>,
    folderErrors: FolderError[],
  ): Promise<{ files: TreeDirEntry[]; minuteFoldersListed: number; completeFolders: string[] }> {
    const previousHorizon = memory.horizon;
    // Folders are marked listed only once the whole walk succeeded, so a failed cycle is redone.
    const listedNow: TreeNode[] = [];
    const minuteCandidates: TreeNode[] = [];
    let frontier: TreeNode[] = [root];
    while (frontier.length > 0) {
      const listingsOfLevel = await mapLimit(frontier, options.concurrency, (node) => list(node.path, true));
      const next: TreeNode[] = [];
      frontier.forEach((node, i) => {
        listedNow.push(node);
        for (const e of listingsOfLevel[i] ?? []) {
          if (e.type !== 'dir') continue;
          const child = childNode(node, e.name);
          if (child === null || !inWindow(child, options.windowStart)) continue;
          if (child.level === 'minute') {
            memory.minuteFolders.set(child.path, child.start);
            minuteCandidates.push(child);
          } else if (mustList(child, memory, previousHorizon)) {
            next.push(child);
          }
        }
      });
      frontier = next;
    }

    const horizon = recentHorizon(memory.minuteFolders.values(), options.recentFolders);
    const toList = minuteCandidates.filter((m) => mustList(m, memory, horizon));
    // A minute folder that fails is recorded and listed again next cycle; its siblings go on.
    const listed = await mapLimit(toList, options.concurrency, async (node) => {
      try {
        return await list(node.path, true);
      } catch (err) {
        if (options.signal?.aborted === true) throw err;
        folderErrors.push({ path: node.path, error: err instanceof Error ? err : new Error(String(err)) });
        return null;
      }
    });
    const files: TreeDirEntry[] = [];
    const completeFolders: string[] = [];
    toList.forEach((node, i) => {
      const entries = listed[i];
      if (entries === null || entries === undefined) return;
      listedNow.push(node);
      completeFolders.push(node.path);
      for (const e of entries) if (e.type === 'file' && options.acceptFile(e.name)) files.push(e);
    });
    for (const node of listedNow) if (node.level !== 'radar') memory.listed.set(node.path, node.end);
    memory.horizon = horizon;
    return { files, minuteFoldersListed: toList.length, completeFolders };
  }
}
