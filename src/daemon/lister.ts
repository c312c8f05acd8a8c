/**
 * The lister of one source: turns the source's layout (flat folder, recursive glob, radar date
 * tree) into the list of files the ledger observes this cycle.
 */
import type { ListedFile } from '../ledger/ledger.js';
import { relativeRemoteDir } from '../radar/template.js';
import { windowStart } from '../radar/tree.js';
import type { SourceConfig } from './config.js';
import { makeFileFilter, type FileFilter } from './filters.js';
import { RadarTreeWalker, type ListDirFn, type TreeDirEntry } from './tree-walker.js';

/** The part of `AsyncFTPClient` the daemon uses (so tests and other clients can stand in). */
export interface DaemonFtpClient {
  listDir: ListDirFn;
  /** Files under `path` matching `pattern` (recursively when asked), with size and mtime. */
  listEntries(
    path: string,
    options: { pattern?: string | RegExp; recursive?: boolean; signal?: AbortSignal },
  ): Promise<{ path: string; name: string; size: number; modifiedAt: Date | null }[]>;
  /** Downloads one file into `localDir` atomically; resolves with its local path. */
  downloadFile(
    remote: { path: string; name: string; size: number; modifiedAt: Date | null },
    localDir: string,
    options: {
      localName?: string;
      expectedSize?: number;
      signal?: AbortSignal;
      onProgress?: (bytes: number) => void;
    },
  ): Promise<string>;
  /** Present on AsyncFTPClient: the pool's current cap (lowered after a 421), for 'auto'. */
  readonly poolStats?: { limit: number };
  /** Closes every connection politely (QUIT). */
  disconnect(): Promise<void>;
  /** Closes every connection at once (when QUIT would hang). */
  destroy(): void;
}

export interface ListingResult {
  files: ListedFile[];
  /** LIST commands sent (tree layout; flat/recursive report the folders they walked as 0). */
  listings: number;
}

export class SourceLister {
  readonly #source: SourceConfig;
  readonly #client: DaemonFtpClient;
  readonly #filter: FileFilter;
  readonly #walker: RadarTreeWalker;
  #cycles = 0;

  constructor(source: SourceConfig, client: DaemonFtpClient) {
    this.#source = source;
    this.#client = client;
    this.#filter = makeFileFilter(source);
    this.#walker = new RadarTreeWalker((path, options) => client.listDir(path, options));
  }

  get walker(): RadarTreeWalker {
    return this.#walker;
  }

  async list(now: number, signal?: AbortSignal): Promise<ListingResult> {
    const s = this.#source;
    const cycle = this.#cycles++;
    let entries: TreeDirEntry[];
    let listings = 0;
    if (s.layout === 'radar-tree') {
      const result = await this.#walker.walk({
        root: s.remotePath,
        radars: s.radars,
        windowStart: windowStart({ now, lookbackMs: s.lookback * 1000, startTime: s.startTime }),
        recentFolders: s.recentFolders,
        fullRescan: s.fullRescanEvery > 0 && cycle > 0 && cycle % s.fullRescanEvery === 0,
        concurrency: s.maxConnections,
        acceptFile: (name) => this.#filter(name),
        ...(signal === undefined ? {} : { signal }),
      });
      entries = result.files;
      listings = result.listings;
    } else {
      const listed = await this.#client.listEntries(s.remotePath, {
        pattern: s.filePattern,
        recursive: s.layout === 'recursive',
        ...(signal === undefined ? {} : { signal }),
      });
      entries = listed
        .filter((e) => {
          const rel = relativeRemoteDir(s.remotePath, e.path);
          return this.#filter(e.name, rel === '' ? e.name : `${rel}/${e.name}`);
        })
        .map((e) => ({ ...e, type: 'file' as const }));
    }
    const map = new Map<string, TreeDirEntry>();
    for (const e of entries) map.set(e.path, e);
    const files = [...map.values()].map((e) => ({
      remotePath: e.path,
      size: e.size,
      mtime: e.modifiedAt === null ? null : e.modifiedAt.getTime(),
    }));
    return { files, listings };
  }
}
