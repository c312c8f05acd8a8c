/**
 * The lister of one source: turns the source's layout (flat folder, recursive glob, radar date
 * tree) into the list of files the ledger observes this cycle, with every LIST time corrected to
 * UTC by the source's server clock and its precision kept, the folders it saw completely (for
 * vanished files), and the folders that failed (each on its own: the others are still listed).
 */
import type { Logger } from 'pino';
import type { RemoteEntry } from '../ftp/types.js';
import type { ListedFile } from '../ledger/ledger.js';
import { silentLogger } from '../observe/log.js';
import { relativeRemoteDir } from '../radar/template.js';
import { windowStart } from '../radar/tree.js';
import type { SourceConfig } from './config.js';
import { makeFileFilter, type FileFilter } from './filters.js';
import { ServerClock, UNKNOWN_ZONE_SPAN_MS } from './server-clock.js';
import { RadarTreeWalker, type FolderError, type ListDirFn } from './tree-walker.js';

/** The part of `AsyncFTPClient` the daemon uses (so tests and other clients can stand in). */
export interface DaemonFtpClient {
  listDir: ListDirFn;
  /** Files under `path` matching `pattern` (recursively when asked), with size and mtime. */
  listEntries(
    path: string,
    options: {
      pattern?: string | RegExp;
      recursive?: boolean;
      prepareConnections?: boolean;
      signal?: AbortSignal;
    },
  ): Promise<ListedEntry[]>;
  /**
   * Present on AsyncFTPClient: logs `connections` connections in at once (see `ConnectOptions`).
   * A walk that lists the whole window calls it without waiting, as the library's recursive walk
   * does: the logins (a greeting and a round trip or two each) overlap its first levels instead
   * of holding up the level where the tree widens.
   */
  connect?(options: { connections?: number; signal?: AbortSignal }): Promise<void>;
  /**
   * Present on AsyncFTPClient: until the returned function is called, the pool logs connections
   * in up to its cap and readies idle ones' data connections for the next listings (see
   * `AsyncFTPClient.expectListings`). Only for walks that list the whole window.
   */
  expectListings?(): () => void;
  /** MDTM (UTC), null without MDTM support; lets `serverTimeZone: 'auto'` learn LIST's zone. */
  lastModified?(path: string, options: { signal?: AbortSignal }): Promise<Date | null>;
  /** Downloads one file into `localDir` atomically; resolves with its local path. */
  downloadFile(
    remote: { path: string; name: string; size: number; modifiedAt: Date | null },
    localDir: string,
    options: {
      localName?: string;
      expectedSize?: number;
      signal?: AbortSignal;
      onProgress?: (bytes: number) => void;
      /** See `DownloadOptions.partKey` / `beforeCommit` (a stand-in client must honour them). */
      partKey?: string;
      beforeCommit?: (partPath: string) => Promise<void>;
      /** See `DownloadOptions.onReceived` (optional for a stand-in: `beforeCommit` comes later). */
      onReceived?: () => void;
    },
  ): Promise<string>;
  /** Present on AsyncFTPClient: the pool's current cap (lowered after a 421), for 'auto'. */
  readonly poolStats?: { limit: number };
  /** Present on AsyncFTPClient: commands sent to the server so far (the load shown per source). */
  readonly commandsSent?: number;
  /** Closes every connection politely (QUIT). */
  disconnect(): Promise<void>;
  /** Closes every connection at once (when QUIT would hang). */
  destroy(): void;
}

/** A listed file as the client reports it (precision and zone flags when it knows them). */
export type ListedEntry = RemoteEntry;

export interface ListingResult {
  files: ListedFile[];
  /** LIST commands sent (tree layout; flat/recursive report the folders they walked as 0). */
  listings: number;
  /** Folders listed completely: their files missing from `files` are gone from the server. */
  completeFolders: string[];
  /** Folders that could not be listed this cycle (the rest were). */
  folderErrors: FolderError[];
}

/** One path's last listing, for the server clock (a change between listings pins its offset). */
interface Sighting {
  size: number;
  wall: number;
  at: number;
}

export class SourceLister {
  readonly #source: SourceConfig;
  readonly #client: DaemonFtpClient;
  readonly #filter: FileFilter;
  readonly #walker: RadarTreeWalker;
  readonly clock: ServerClock;
  #cycles = 0;
  /** The last listed size and LIST time (wall clock) per path, and when it was listed. */
  #previousWall = new Map<string, Sighting>();

  constructor(source: SourceConfig, client: DaemonFtpClient, log: Logger = silentLogger()) {
    this.#source = source;
    this.#client = client;
    this.#filter = makeFileFilter(source);
    this.#walker = new RadarTreeWalker((path, options) => client.listDir(path, options));
    const probe = client.lastModified?.bind(client);
    this.clock = new ServerClock(
      source.serverTimeZone,
      probe === undefined ? null : (path, signal) => probe(path, signal === undefined ? {} : { signal }),
      log,
    );
  }

  get walker(): RadarTreeWalker {
    return this.#walker;
  }

  /**
   * One full listing of the source at `now`. `clock`: the daemon's clock, for the folder times the
   * radar-tree walk remembers (hot rounds compare them with the same clock).
   */
  async list(now: number, signal?: AbortSignal, clock: () => number = Date.now): Promise<ListingResult> {
    const s = this.#source;
    const cycle = this.#cycles++;
    let entries: ListedEntry[];
    let listings = 0;
    let completeFolders: string[];
    let folderErrors: FolderError[] = [];
    if (s.layout === 'radar-tree') {
      const fullRescan = s.fullRescanEvery > 0 && cycle > 0 && cycle % s.fullRescanEvery === 0;
      const endListings = cycle === 0 || fullRescan ? this.#expectListings(signal) : () => undefined;
      const result = await this.#walker
        .walk({
          root: s.remotePath,
          radars: s.radars,
          windowStart: windowStart({ now, lookbackMs: s.lookback * 1000, startTime: s.startTime }),
          recentFolders: s.recentFolders,
          fullRescan,
          concurrency: s.maxConnections,
          acceptFile: (name) => this.#filter(name),
          now: clock,
          ...(signal === undefined ? {} : { signal }),
        })
        .finally(endListings);
      entries = result.files;
      listings = result.listings;
      completeFolders = result.completeFolders;
      folderErrors = result.folderErrors;
    } else {
      const listed = await this.#client.listEntries(s.remotePath, {
        pattern: s.filePattern,
        recursive: s.layout === 'recursive',
        // A quiet tree polled every cycle should not cost the server a full pool of logins.
        prepareConnections: false,
        ...(signal === undefined ? {} : { signal }),
      });
      entries = listed
        .filter((e) => {
          const rel = relativeRemoteDir(s.remotePath, e.path);
          return this.#filter(e.name, rel === '' ? e.name : `${rel}/${e.name}`);
        })
        .map((e) => ({ ...e, type: 'file' as const }));
      // A flat listing holds its folder completely; a recursive one the folders it found files in.
      const root = s.remotePath.replace(/\/+$/, '') || '/';
      completeFolders = s.layout === 'flat' ? [root] : [];
    }
    const files = await this.toListedFiles(entries, now, signal, true);
    return { files, listings, completeFolders, folderErrors };
  }

  /**
   * The first walk and a rescan list every folder of the window: every connection will be used,
   * so their logins start now, beside the first levels (a failure: the walk's listings report
   * it), and idle ones ready their next data connection (`expectListings`) until the walk ends.
   * A quiet cycle's few listings do neither: a server polled every minute should not pay a full
   * pool of logins and data connections each time.
   */
  #expectListings(signal: AbortSignal | undefined): () => void {
    const expect = this.#client.expectListings?.bind(this.#client);
    if (expect !== undefined) return expect();
    this.#client
      .connect?.({ connections: this.#source.maxConnections, ...(signal === undefined ? {} : { signal }) })
      .catch(() => undefined);
    return () => undefined;
  }

  /**
   * Entries as the ledger records them: one per path, LIST times corrected to UTC by the
   * server clock (which learns from them), precision kept. `replace`: the entries are a whole
   * listing round (the memory of earlier sightings is replaced); otherwise (a hot round's few
   * folders) they are added to it.
   */
  async toListedFiles(
    entries: readonly ListedEntry[],
    now: number,
    signal: AbortSignal | undefined,
    replace: boolean,
  ): Promise<ListedFile[]> {
    const map = new Map<string, ListedEntry>();
    for (const e of entries) map.set(e.path, e);
    const unique = [...map.values()];
    const inServerZone = (e: ListedEntry): boolean =>
      e.modifiedAtInServerZone === true && e.modifiedAt !== null;
    // A file that changed (size or time) since the previous listing was modified in between.
    const wallNow = replace ? new Map<string, Sighting>() : this.#previousWall;
    for (const e of unique) {
      if (!inServerZone(e) || e.modifiedAt === null) continue;
      const wall = e.modifiedAt.getTime();
      const before = this.#previousWall.get(e.path);
      if (before !== undefined && (before.wall !== wall || before.size !== e.size)) {
        this.clock.observeChange(wall, e.modifiedAtPrecisionMs ?? 1000, before.at, now);
      }
      wallNow.set(e.path, { size: e.size, wall, at: now });
    }
    this.#previousWall = wallNow;
    await this.clock.prepare(
      unique.filter(inServerZone).map((e) => ({
        remotePath: e.path,
        wallMs: (e.modifiedAt as Date).getTime(),
        precisionMs: e.modifiedAtPrecisionMs ?? 1000,
      })),
      now,
      signal,
    );
    return unique.map((e): ListedFile => {
      const precision = e.modifiedAtPrecisionMs ?? 1000;
      if (e.modifiedAt === null || !inServerZone(e)) {
        return {
          remotePath: e.path,
          size: e.size,
          mtime: e.modifiedAt?.getTime() ?? null,
          mtimePrecisionMs: precision,
        };
      }
      const wall = e.modifiedAt.getTime();
      const mtime = this.clock.toUtc(wall, now);
      return {
        remotePath: e.path,
        size: e.size,
        mtime,
        mtimePrecisionMs: precision,
        // The ledger knows the file by the server's own reading too: a zone learned later
        // re-keys the row instead of making the file look new.
        zoneOffsetMs: wall - mtime,
        // Unconfirmed zone: the file may be up to UTC-12's worth younger than it looks.
        mtimeUncertaintyMs: this.clock.confirmed ? 0 : Math.max(0, wall + UNKNOWN_ZONE_SPAN_MS - mtime),
      };
    });
  }
}
