/**
 * The daemon's typed events (`daemon.on('downloaded', (e) => ...)`): what each stage reports.
 */
import type { FileRecord } from '../ledger/ledger.js';

/** The `downloaded` event: a file was committed under its final name and recorded. */
export interface DownloadedEvent {
  source: string;
  record: FileRecord;
  localPath: string;
  durationMs: number;
}

/** The `retry` and `failed` events: a download attempt failed (retried later, or parked). */
export interface FailedEvent {
  source: string;
  remotePath: string;
  /** Attempts made so far, this one included. */
  attempts: number;
  error: Error;
  /** When the next attempt may start (`retry`), or null (`failed`: parked). */
  retryAt: number | null;
}

/** The `processed` event: the callback (or exec hook) finished for one file. */
export interface ProcessedEvent {
  source: string;
  record: FileRecord;
  error: Error | null;
  durationMs: number;
}

/** The `cycle` event: one poll cycle of one source finished. */
export interface CycleEvent {
  source: string;
  /** 1-based cycle number of this source in this process. */
  cycle: number;
  durationMs: number;
  /** Files the listing returned (after filters). */
  listed: number;
  /** LIST commands of a radar-tree walk (0 for flat/recursive). */
  listings: number;
  /** New rows (files or versions) and rows that became ready. */
  added: number;
  becameReady: number;
  downloaded: number;
  failed: number;
  /** The listing was skipped: another instance holds this source's lock. */
  skippedListing: boolean;
  /** Set when listing failed (downloads of already-ready files still ran). */
  error: Error | null;
  /** Folders this cycle's listing could not list (every other folder was listed). */
  folderErrors: { path: string; error: Error }[];
}

/** Typed events: `daemon.on('downloaded', (e) => ...)`. */
export interface DaemonEvents {
  downloaded: [DownloadedEvent];
  retry: [FailedEvent];
  failed: [FailedEvent];
  processed: [ProcessedEvent];
  cycle: [CycleEvent];
}
