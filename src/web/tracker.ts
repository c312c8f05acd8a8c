/**
 * What the status page knows beyond the ledger: per source, the last poll and its result, the
 * next poll, the last successful poll (for `/healthz`); per radar, the newest file and the latest
 * volume per field (for lag and quick-looks); the recent downloads with their throughput and the
 * recent retried failures. Fed by the daemon's typed events; seeded from the ledger's recent rows
 * after a restart. Holds no secrets: only the source fields listed in `SourceInfo` are copied.
 */
import type { EventEmitter } from 'node:events';
import type { CycleEvent, DaemonEvents, DownloadedEvent, FailedEvent } from '../daemon/daemon.js';
import type { FileRecord, Ledger } from '../ledger/ledger.js';
import { errorCode, errorText } from '../errors.js';
import { cappedRadar, MAX_RADARS_PER_SOURCE, OTHER_RADARS } from './metrics.js';
import { subscribe } from './subscribe.js';
import { fileDataTime, fileRadar, parseRadarFileName } from '../radar/filename.js';

/** The public facts of a source (never its user name or password). */
export interface SourceInfo {
  name: string;
  host: string;
  port: number;
  remotePath: string;
  layout: string;
  /** Seconds. */
  pollInterval: number;
}

/** The last poll cycle of one source, as the status page shows it. */
export interface PollInfo {
  /** End of the cycle, epoch ms. */
  at: number;
  ok: boolean;
  error: string | null;
  durationMs: number;
  listed: number;
  added: number;
  downloaded: number;
  failed: number;
  skippedListing: boolean;
  /** Folders the poll could not list (the others were listed), with the error text. */
  folderErrors: { path: string; error: string }[];
}

/** One recent download as the status page lists it (with its throughput). */
export interface RecentDownload {
  source: string;
  remotePath: string;
  size: number;
  /** Epoch ms. */
  at: number;
  /** Null for rows seeded from the ledger (the duration is not stored). */
  durationMs: number | null;
  bytesPerSecond: number | null;
}

/** One recent failed attempt that will be retried, as the status page lists it. */
export interface RecentRetry {
  source: string;
  remotePath: string;
  attempts: number;
  error: string;
  code: string;
  at: number;
  retryAt: number | null;
}

/** A volume on disk the quick-look can render: its source, radar, field and local path. */
export interface VolumeRef {
  source: string;
  radar: string;
  field: string;
  localPath: string;
  /** Ledger row id (changes with every new volume: used to cache-bust quick-looks). */
  id: number;
  /** Data time, epoch ms. */
  time: number;
}

/** One radar's freshness: its newest volume and how far behind real time it is. */
export interface RadarInfo {
  source: string;
  radar: string;
  /** Data time of the newest downloaded file, epoch ms. */
  newest: number;
  /** Latest volume per field. */
  latest: Map<string, VolumeRef>;
}

interface SourceState {
  info: SourceInfo;
  lastPoll: PollInfo | null;
  lastSuccessAt: number | null;
  cycles: number;
}

/** Whether a source is healthy (a successful poll within 3 poll intervals), and why not. */
export interface SourceHealth {
  source: string;
  healthy: boolean;
  /** Epoch ms of the last successful poll, or null when none yet. */
  lastSuccessAt: number | null;
  /** How long without a successful poll makes the source unhealthy, ms. */
  windowMs: number;
  reason: string | null;
}

/** Options of the {@link StatusTracker} constructor. */
export interface StatusTrackerOptions {
  sources: readonly SourceInfo[];
  /** @default Date.now */
  now?: () => number;
  /** Rows kept in the recent-downloads and recent-retries lists. @default 25 */
  recentLimit?: number;
  /**
   * A source is unhealthy after `max(3 * pollInterval, minHealthWindowMs)` without a successful
   * poll (counted from the tracker's start before the first one). The floor keeps sub-second test
   * intervals from flapping while a cycle downloads. @default 5000
   */
  minHealthWindowMs?: number;
  /** Radars shown per source before the rest are grouped as "other". @default MAX_RADARS_PER_SOURCE */
  maxRadarsPerSource?: number;
}

/**
 * What the status page shows that the ledger does not keep: the last polls, recent downloads
 * and retries, per-radar freshness. Fed by the daemon's events; bounded in memory.
 */
export class StatusTracker {
  readonly startedAt: number;
  readonly #now: () => number;
  readonly #limit: number;
  readonly #minWindowMs: number;
  readonly #sources = new Map<string, SourceState>();
  readonly #radars = new Map<string, RadarInfo>();
  /** Radar names per source, for the cap. */
  readonly #radarNames = new Map<string, Set<string>>();
  readonly #maxRadars: number;
  #downloads: RecentDownload[] = [];
  #retries: RecentRetry[] = [];
  #seeded = false;

  constructor(options: StatusTrackerOptions) {
    this.#now = options.now ?? Date.now;
    this.#limit = options.recentLimit ?? 25;
    this.#minWindowMs = options.minHealthWindowMs ?? 5000;
    this.#maxRadars = options.maxRadarsPerSource ?? MAX_RADARS_PER_SOURCE;
    this.startedAt = this.#now();
    for (const s of options.sources) {
      const info: SourceInfo = {
        name: s.name,
        host: s.host,
        port: s.port,
        remotePath: s.remotePath,
        layout: s.layout,
        pollInterval: s.pollInterval,
      };
      this.#sources.set(s.name, { info, lastPoll: null, lastSuccessAt: null, cycles: 0 });
    }
  }

  /** Subscribes to a daemon's events; returns a function that unsubscribes. */
  attach(daemon: EventEmitter<DaemonEvents>): () => void {
    return subscribe(daemon, {
      cycle: (e) => this.onCycle(e),
      downloaded: (e) => this.onDownloaded(e),
      retry: (e) => this.onRetry(e),
      failed: (e) => this.onRetry(e),
    });
  }

  /** The sources the page shows (public facts only: never user names or passwords). */
  get sources(): SourceInfo[] {
    return [...this.#sources.values()].map((s) => s.info);
  }

  /** Records a finished poll cycle. */
  onCycle(e: CycleEvent): void {
    const s = this.#sources.get(e.source);
    if (s === undefined) return;
    const at = this.#now();
    s.cycles++;
    s.lastPoll = {
      at,
      ok: e.error === null,
      error: e.error === null ? null : errorText(e.error),
      durationMs: e.durationMs,
      listed: e.listed,
      added: e.added,
      downloaded: e.downloaded,
      failed: e.failed,
      skippedListing: e.skippedListing,
      folderErrors: e.folderErrors.map((f) => ({ path: f.path, error: errorText(f.error) })),
    };
    if (e.error === null) s.lastSuccessAt = at;
  }

  /** Records a committed file (recent downloads, the radar's newest volume). */
  onDownloaded(e: DownloadedEvent): void {
    const r = e.record;
    const seconds = e.durationMs / 1000;
    this.#pushDownload({
      source: e.source,
      remotePath: r.remotePath,
      size: r.size,
      at: r.downloadedAt ?? this.#now(),
      durationMs: e.durationMs,
      bytesPerSecond: seconds > 0 ? r.size / seconds : null,
    });
    this.#retries = this.#retries.filter((x) => !(x.source === e.source && x.remotePath === r.remotePath));
    this.noteVolume({ ...r, localPath: e.localPath });
  }

  /** Records a failed attempt that will be retried. */
  onRetry(e: FailedEvent): void {
    const entry: RecentRetry = {
      source: e.source,
      remotePath: e.remotePath,
      attempts: e.attempts,
      error: errorText(e.error),
      code: errorCode(e.error),
      at: this.#now(),
      retryAt: e.retryAt,
    };
    this.#retries = [entry, ...this.#retries.filter((x) => x.remotePath !== e.remotePath)].slice(
      0,
      this.#limit,
    );
  }

  #pushDownload(d: RecentDownload): void {
    this.#downloads = [d, ...this.#downloads].slice(0, this.#limit);
  }

  /** Records a downloaded file as its radar's newest file and, if it is a volume, its latest. */
  noteVolume(r: Pick<FileRecord, 'id' | 'source' | 'remotePath' | 'mtime' | 'localPath'>): void {
    const t = fileDataTime(r.remotePath, r.mtime);
    if (t === null) return;
    let names = this.#radarNames.get(r.source);
    if (names === undefined) {
      names = new Set();
      this.#radarNames.set(r.source, names);
    }
    const radar = cappedRadar(names, fileRadar(r.source, r.remotePath), this.#maxRadars);
    names.add(radar);
    const key = `${r.source}\u0000${radar}`;
    let info = this.#radars.get(key);
    if (info === undefined) {
      info = { source: r.source, radar, newest: t, latest: new Map() };
      this.#radars.set(key, info);
    }
    if (t > info.newest) info.newest = t;
    const parsed = parseRadarFileName(r.remotePath);
    // "other" groups many radars: it has a lag, but no quick-look of its own.
    if (parsed !== null && r.localPath !== null && radar !== OTHER_RADARS) {
      const prev = info.latest.get(parsed.field);
      if (prev === undefined || t >= prev.time) {
        info.latest.set(parsed.field, {
          source: r.source,
          radar,
          field: parsed.field,
          localPath: r.localPath,
          id: r.id,
          time: t,
        });
      }
    }
  }

  /** Fills radars and recent downloads from the ledger once (after a restart). */
  async seed(ledger: Ledger, limit = 500): Promise<void> {
    if (this.#seeded) return;
    this.#seeded = true;
    const rows = await ledger.recent({ states: ['downloaded', 'processed'], limit });
    for (const r of [...rows].reverse()) this.noteVolume(r);
    if (this.#downloads.length === 0) {
      for (const r of rows.slice(0, this.#limit).reverse()) {
        this.#pushDownload({
          source: r.source,
          remotePath: r.remotePath,
          size: r.size,
          at: r.downloadedAt ?? r.updatedAt,
          durationMs: null,
          bytesPerSecond: null,
        });
      }
    }
  }

  /** True once {@link StatusTracker.seed} has filled the tracker from the ledger. */
  get seeded(): boolean {
    return this.#seeded;
  }

  /** The last poll cycle of a source, or null before its first. */
  lastPoll(source: string): PollInfo | null {
    return this.#sources.get(source)?.lastPoll ?? null;
  }

  /** Poll cycles of a source since the process started. */
  cycles(source: string): number {
    return this.#sources.get(source)?.cycles ?? 0;
  }

  /** When the next poll is due (end of the last one + interval), or null before the first. */
  nextPollAt(source: string): number | null {
    const s = this.#sources.get(source);
    if (s?.lastPoll == null) return null;
    return s.lastPoll.at + s.info.pollInterval * 1000;
  }

  /** Radars seen so far (of one source, or all), with their newest volume. */
  radars(source?: string): RadarInfo[] {
    return [...this.#radars.values()]
      .filter((r) => source === undefined || r.source === source)
      .sort((a, b) => a.radar.localeCompare(b.radar));
  }

  /** The latest volume of a radar in a field. */
  latestVolume(source: string, radar: string, field: string): VolumeRef | null {
    return this.#radars.get(`${source}\u0000${radar}`)?.latest.get(field) ?? null;
  }

  /** The most recent downloads, newest last. */
  recentDownloads(): RecentDownload[] {
    return [...this.#downloads];
  }

  /** The most recent retried failures, newest last. */
  recentRetries(): RecentRetry[] {
    return [...this.#retries];
  }

  /** Per-source health: unhealthy after 3 poll intervals (at least the floor) without a successful poll. */
  health(): SourceHealth[] {
    const now = this.#now();
    return [...this.#sources.values()].map((s) => {
      const windowMs = Math.max(3 * s.info.pollInterval * 1000, this.#minWindowMs);
      const since = s.lastSuccessAt ?? this.startedAt;
      const healthy = now - since <= windowMs;
      let reason: string | null = null;
      if (!healthy) {
        const ago = Math.round((now - since) / 1000);
        reason =
          s.lastSuccessAt === null
            ? `no successful poll since the start ${ago} s ago`
            : `no successful poll for ${ago} s`;
        if (s.lastPoll !== null && !s.lastPoll.ok && s.lastPoll.error !== null) {
          reason += ` (last error: ${s.lastPoll.error})`;
        }
      }
      return { source: s.info.name, healthy, lastSuccessAt: s.lastSuccessAt, windowMs, reason };
    });
  }
}
