/**
 * The listing scheduler of one source: decides which folders to list when, lists them (in
 * parallel over the source's pooled connections) and records what it saw in the ledger.
 *
 *  - A **full round** (every `pollInterval`) is the source's lister: the flat folder, the
 *    recursive listing, or the radar-tree walk of src/daemon/tree-walker.ts.
 *  - A **hot round** (every `hotInterval`, or less often when the source's listing budget is
 *    spent elsewhere: src/daemon/listing-budget.ts) lists only the hot folders: the flat folder
 *    itself; in a radar tree the newest hour folder of each radar (new minute folders appear
 *    there), the minute folders in it that are new or whose modification time changed (a file was
 *    added), and every folder holding a file that is still changing, until it has settled. A
 *    minute folder that shows no change is not listed again: a volume costs a few listings.
 *    The folder times are the walker's (`TreeMemory.folderTimes`): what a hot round lists, the
 *    next full round need not list again.
 *  - **Quiet period**: the ledger makes a file ready only once it has stayed unchanged for
 *    `settle` (src/daemon/observe-listing.ts), however soon another round lists it again; so the
 *    gap between two listings is never what decides a file is complete. Its folder stays hot
 *    until then, and the ledger's `settleDueAt` says when to look again: a **settle round**
 *    (`settleRound`) lists only the folders of unsettled files, at that moment, so a file is ready
 *    `settle` after its last change whatever `hotInterval` is.
 *
 * The scheduler does not sleep: the daemon calls its rounds (see daemon.ts); it measures the
 * listings it sends so the server load is visible (status page, /metrics).
 */
import { FtpReplyError } from '../errors.js';
import type { Ledger, ListedFile } from '../ledger/ledger.js';
import {
  minuteFolderHot,
  minuteFolderStart,
  noteFolderListed,
  noteFolderTime,
  type TreeMemory,
} from '../radar/tree.js';
import { claimOrder } from './claim-order.js';
import { makeFileFilter, type FileFilter } from './filters.js';
import { logListingOutcome, observeOptions } from './observe-listing.js';
import { ListingBudget } from './listing-budget.js';
import { CounterRate, RateWindow } from './rate.js';
import type { SourceRuntime } from './source.js';
import { mapLimit, shownTime, type FolderError, type TreeDirEntry } from './tree-walker.js';

/** What one round did. */
export interface RoundResult {
  /** Files the listings returned (after filters). */
  listed: number;
  /** LIST commands sent. */
  listings: number;
  added: number;
  becameReady: number;
  /** Another instance holds the source's listing lock: nothing was listed. */
  skipped: boolean;
  /** Folders a full round could not list (the others were listed). */
  folderErrors: readonly FolderError[];
}

/** The last listing of one path, for the quiet period. */
interface Sighting {
  size: number;
  mtime: number | null;
  /** When this size+mtime was first listed. */
  since: number;
  /** Unchanged for the quiet period (or old enough to be ready at once): its folder may cool. */
  confirmed: boolean;
}

export interface ListingSchedulerOptions {
  ledger: Ledger;
  /** Clock (epoch ms). */
  now: () => number;
}

function parentOf(path: string, levels = 1): string {
  let p = path;
  for (let i = 0; i < levels; i++) p = p.slice(0, Math.max(0, p.lastIndexOf('/')));
  return p;
}

function hourPath(radarFolder: string, t: number): string {
  const d = new Date(t);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${radarFolder}/${p(d.getUTCFullYear(), 4)}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${p(d.getUTCHours())}`;
}

const HOUR_MS = 3_600_000;

/**
 * 550 on a folder that vanished means "empty"; so do 450 and 501 (some servers' answer to a
 * LIST/MLSD of a missing path), as in the full rounds' walk.
 */
function isMissing(err: unknown): boolean {
  return (
    err instanceof FtpReplyError && (err.replyCode === 550 || err.replyCode === 450 || err.replyCode === 501)
  );
}

export class ListingScheduler {
  readonly #src: SourceRuntime;
  readonly #ledger: Ledger;
  readonly #now: () => number;
  readonly #filter: FileFilter;
  readonly #sightings = new Map<string, Sighting>();
  /** Paths still changing (or not yet confirmed): their folders are hot. */
  readonly #unsettled = new Set<string>();
  readonly #listings = new RateWindow();
  /** Null when the client does not count its commands (SFTP, stand-ins). */
  readonly #commands: CounterRate | null;
  readonly #since: number;
  #settleDueAt: number | null = null;
  readonly #budget: ListingBudget;
  /** Hour folders the last hot round listed (what the next one will cost). */
  #hourFolders = 0;

  constructor(src: SourceRuntime, options: ListingSchedulerOptions) {
    this.#src = src;
    this.#ledger = options.ledger;
    this.#now = options.now;
    this.#filter = makeFileFilter(src.config);
    this.#since = Date.now();
    const sent = src.client.commandsSent;
    this.#commands = sent === undefined ? null : new CounterRate(this.#since, sent);
    this.#budget = new ListingBudget({
      perMinute: src.config.listingBudget,
      hotIntervalMs: src.config.hotInterval * 1000,
      pollIntervalMs: src.config.pollInterval * 1000,
    });
  }

  /**
   * Gap (ms) before the next hot round: `hotInterval`, or longer when the listing budget says so
   * (src/daemon/listing-budget.ts).
   */
  hotGapMs(): number {
    return this.#budget.hotGapMs(this.#hourFolders, this.#now());
  }

  /**
   * Hot rounds run: `hotInterval` > 0 and shorter than `pollInterval`, and a layout with hot
   * folders (a recursive listing has none: it is listed whole every `pollInterval`).
   */
  get hotEnabled(): boolean {
    const c = this.#src.config;
    return c.hotInterval > 0 && c.hotInterval < c.pollInterval && c.layout !== 'recursive';
  }

  /** Folders holding files not yet settled (re-listed by every hot round until they are). */
  get unsettledFolders(): number {
    return new Set([...this.#unsettled].map((p) => parentOf(p))).size;
  }

  /**
   * When the earliest file the last round left unsettled may have settled (the ledger's
   * `settleDueAt`), or null: a round then makes it ready without waiting for `pollInterval`.
   */
  get settleDueAt(): number | null {
    return this.#settleDueAt;
  }

  /** Listings per minute over the last minute (wall clock). */
  listingsPerMinute(): number {
    return this.#listings.perMinute(Date.now(), this.#since);
  }

  /**
   * Commands per minute sent to the server over the last minute, as the FTP client counted them:
   * listings, downloads, logins, health checks (null when the client does not count them).
   */
  commandsPerMinute(): number | null {
    const sent = this.#src.client.commandsSent;
    return sent === undefined || this.#commands === null ? null : this.#commands.perMinute(Date.now(), sent);
  }

  /** The source's full listing (`pollInterval`), under the ledger's listing lock. */
  async fullRound(signal: AbortSignal): Promise<RoundResult> {
    const src = this.#src;
    const result = await this.#ledger.withSourceLock(src.config.name, async () => {
      const listing = await src.lister.list(this.#now(), signal, this.#now);
      // Flat and recursive listings report 0 folders; they cost at least one LIST.
      const listings = Math.max(1, listing.listings);
      this.#count(listings);
      this.#budget.fullRound(listings);
      const observed = await this.#observe(listing.files, true, listing);
      return { listed: listing.files.length, listings, ...observed, folderErrors: listing.folderErrors };
    });
    return result === null ? { ...EMPTY, skipped: true } : { ...result, skipped: false };
  }

  /** The hot folders only (`hotInterval`), under the ledger's listing lock. */
  hotRound(signal: AbortSignal): Promise<RoundResult> {
    return this.#hotRound(signal, false);
  }

  /**
   * The folders holding unsettled files only (in a flat layout: the folder), when the ledger's
   * `settleDueAt` has passed: what makes those files ready.
   */
  settleRound(signal: AbortSignal): Promise<RoundResult> {
    return this.#hotRound(signal, true);
  }

  async #hotRound(signal: AbortSignal, unsettledOnly: boolean): Promise<RoundResult> {
    const src = this.#src;
    const result = await this.#ledger.withSourceLock(src.config.name, async () => {
      if (src.config.layout === 'flat') {
        const listing = await src.lister.list(this.#now(), signal, this.#now);
        this.#count(1);
        // The folder is what a hot round looks at: the budget paces it as a radar's hour folder.
        if (!unsettledOnly) this.#hourFolders = 1;
        const observed = await this.#observe(listing.files, true, listing);
        return { listed: listing.files.length, listings: 1, ...observed, folderErrors: listing.folderErrors };
      }
      return this.#hotTreeRound(signal, unsettledOnly);
    });
    return result === null ? { ...EMPTY, skipped: true } : { ...result, skipped: false };
  }

  async #hotTreeRound(signal: AbortSignal, unsettledOnly: boolean): Promise<Omit<RoundResult, 'skipped'>> {
    const src = this.#src;
    const now = this.#now();
    /** The hour folders to list, with the memory of their radar (shared with the full rounds). */
    const hours = new Map<string, TreeMemory>();
    /** Hour folders that may not exist yet (the next hour's): any refusal means "not yet". */
    const guessed = new Set<string>();
    for (const memory of unsettledOnly ? [] : src.lister.walker.memories.values()) {
      let newest: [string, number] | null = null;
      for (const entry of memory.minuteFolders) if (newest === null || entry[1] > newest[1]) newest = entry;
      if (newest === null) continue;
      hours.set(parentOf(newest[0]), memory);
      // Just after an hour turns, its folder may appear: look for it (not on servers whose folder
      // names are hours behind in local time: the gap is then more than one hour).
      const newestHour = Math.floor(newest[1] / HOUR_MS) * HOUR_MS;
      const gap = Math.floor(now / HOUR_MS) * HOUR_MS - newestHour;
      if (gap > 0 && gap <= HOUR_MS) {
        const next = hourPath(parentOf(newest[0], 5), now);
        hours.set(next, memory);
        guessed.add(next);
      }
    }
    /** Minute folders to list, with their radar's memory when a hot hour folder showed them. */
    const minutes = new Map<string, TreeMemory | null>();
    for (const path of this.#unsettled) minutes.set(parentOf(path), null);

    const concurrency = src.config.maxConnections;
    const list = (path: string): Promise<TreeDirEntry[]> =>
      src.client.listDir(path, { signal }).catch((err: unknown) => {
        // (ftp-srv answers a missing folder with 451 ENOENT: a guessed path must not fail the round)
        if (isMissing(err) || (guessed.has(path) && err instanceof FtpReplyError)) return [];
        throw err;
      });
    const hourList = [...hours.keys()];
    const hourEntries = await mapLimit(hourList, concurrency, list);
    const seenAt = this.#now();
    hourEntries.forEach((entries, i) => {
      const hour = hourList[i] ?? '';
      const memory = hours.get(hour);
      if (memory === undefined) return;
      for (const e of entries) {
        if (e.type !== 'dir' || !/^\d{4}$/.test(e.name)) continue;
        const path = `${hour}/${e.name}`;
        // New and changed folders are listed; folders a full round listed wait for a change.
        const state = noteFolderTime(memory, path, shownTime(e), seenAt, false);
        if (!memory.minuteFolders.has(path)) {
          // A new folder: the full rounds' walk learns it from here (horizon, newest hour).
          const start = minuteFolderStart(path);
          if (start !== null) memory.minuteFolders.set(path, start);
        }
        if (minuteFolderHot(state)) minutes.set(path, memory);
      }
    });
    // The listing of an unsettled file's folder counts for the full rounds too.
    for (const [path, memory] of minutes) {
      if (memory !== null) continue;
      for (const m of src.lister.walker.memories.values()) if (m.folderTimes.has(path)) minutes.set(path, m);
    }
    const minuteList = [...minutes.keys()];
    const startedAt = this.#now();
    const minuteEntries = await mapLimit(minuteList, concurrency, list);
    for (const [path, memory] of minutes) if (memory !== null) noteFolderListed(memory, path, startedAt);
    const entries = minuteEntries.flat().filter((e) => e.type === 'file' && this.#filter(e.name));
    // Times corrected as the full rounds correct them (one identity per version).
    const files = await src.lister.toListedFiles(entries, now, signal, false);
    // An unsettled file gone from its folder's listing is no longer waited for.
    const shown = new Set(files.map((f) => f.remotePath));
    for (const path of this.#unsettled) {
      if (minutes.has(parentOf(path)) && !shown.has(path)) this.#forget(path);
    }
    const listings = hourList.length + minuteList.length;
    this.#count(listings);
    if (!unsettledOnly) this.#hourFolders = hourList.length;
    this.#budget.followUps(minuteList.length, this.#now());
    // Each minute folder was listed whole (a missing one as empty): files gone from it vanished.
    const observed = await this.#observe(files, false, {
      completeFolders: minuteList,
      folderErrors: [],
    });
    return { listed: files.length, listings, ...observed, folderErrors: [] };
  }

  /** Records a round's listings, and samples the client's command counter (for its rate). */
  #count(listings: number): void {
    const now = Date.now();
    this.#listings.add(listings, now);
    const sent = this.#src.client.commandsSent;
    if (sent !== undefined) this.#commands?.sample(now, sent);
  }

  #forget(path: string): void {
    this.#sightings.delete(path);
    this.#unsettled.delete(path);
  }

  /**
   * Hands a listing to the ledger with the readiness model's options, and keeps the folders of
   * files not yet settled hot. `complete`: the listing covers every file the source tracks now (a
   * full round), so sightings of paths it no longer shows are forgotten (memory stays O(listing)).
   */
  async #observe(
    files: readonly ListedFile[],
    complete: boolean,
    listing: { completeFolders: readonly string[]; folderErrors: readonly FolderError[] },
  ): Promise<{ added: number; becameReady: number }> {
    const now = this.#now();
    const options = observeOptions(this.#src, now, listing.completeFolders);
    const minAgeMs = options.minAgeMs ?? 0;
    const settleMs = options.settleMs ?? 0;
    for (const f of files) {
      const prev = this.#sightings.get(f.remotePath);
      if (prev === undefined || prev.size !== f.size || prev.mtime !== f.mtime) {
        // As the ledger counts it: an unconfirmed server zone makes a LIST time uncertain.
        const uncertainty = minAgeMs > 0 ? (f.mtimeUncertaintyMs ?? 0) : 0;
        const old = f.mtime !== null && now - f.mtime - uncertainty >= minAgeMs;
        this.#sightings.set(f.remotePath, { size: f.size, mtime: f.mtime, since: now, confirmed: old });
        if (old) this.#unsettled.delete(f.remotePath);
        else this.#unsettled.add(f.remotePath);
      } else if (!prev.confirmed && now - prev.since >= settleMs) {
        prev.confirmed = true;
        this.#unsettled.delete(f.remotePath);
      }
    }
    if (complete) {
      // A radar-tree walk skips folders listed before: their settled files are forgotten, their
      // unsettled ones stay (hot rounds re-list their folders until they settle or go).
      const listed = new Set(files.map((f) => f.remotePath));
      const walk = this.#src.config.layout === 'radar-tree';
      for (const path of this.#sightings.keys()) {
        if (!listed.has(path) && !(walk && this.#unsettled.has(path))) this.#forget(path);
      }
    }
    if (files.length === 0 && listing.completeFolders.length === 0) {
      this.#settleDueAt = null;
      logListingOutcome(this.#src, listing.folderErrors, null);
      return { added: 0, becameReady: 0 };
    }
    // Every listed file goes to the ledger: one held back from a complete folder would be vanished.
    // New rows are claimed in the order they are recorded in (claim-order.ts).
    const observed = await this.#ledger.observe(this.#src.config.name, claimOrder(files), options);
    logListingOutcome(this.#src, listing.folderErrors, observed);
    this.#settleDueAt = observed.settleDueAt;
    return { added: observed.added, becameReady: observed.becameReady };
  }
}

const EMPTY: Omit<RoundResult, 'skipped'> = {
  listed: 0,
  listings: 0,
  added: 0,
  becameReady: 0,
  folderErrors: [],
};
