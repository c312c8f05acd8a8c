/**
 * What the ledger says about the daemon's work, for people: how many files are in each state,
 * the last files that arrived, the parked failures, callback errors and the server -> processed
 * latency per radar. `radarlib status` prints it and the status page shows its failures and
 * latency, so both read "failed" and "recent" the same way. Reads only: safe while the daemon
 * runs, from another process too.
 */
import { FILE_STATES, type FileRecord, type Ledger, type StateCounts } from '../ledger/ledger.js';
import { latencyByRadar, type RadarLatency } from './latency.js';

/** The ledger's view of one source, or of all of them. */
export interface LedgerSummary {
  counts: StateCounts;
  /** Rows in every state. */
  total: number;
  /** The last downloaded or processed files, newest first. */
  recent: FileRecord[];
  /** Parked files (attempts used up), newest first: `radarlib retry-failed` takes them back. */
  failed: FileRecord[];
  /** Processed files whose callback failed, among the last `limit × 10` processed. */
  callbackErrors: FileRecord[];
  /** p50/p95/max seconds from server mtime to callback done, per radar (last 500 processed). */
  latency: RadarLatency[];
}

export interface LedgerSummaryOptions {
  /** Only this source. @default every source */
  source?: string;
  /** Files per list (recent, failed, callback errors). @default 10 */
  limit?: number;
}

/** Processed files the latency percentiles are computed from: the most recent ones. */
export const LATENCY_WINDOW = 500;

/** Reads the summary: one count and three indexed reads of the newest rows. */
export async function summarizeLedger(
  ledger: Ledger,
  options: LedgerSummaryOptions = {},
): Promise<LedgerSummary> {
  const limit = options.limit ?? 10;
  const scope = options.source === undefined ? {} : { source: options.source };
  const counts = await ledger.counts(options.source);
  const recent = await ledger.recent({ states: ['downloaded', 'processed'], limit, ...scope });
  const failed = await ledger.recent({ states: ['failed'], limit, ...scope });
  // One read of the newest processed rows serves both lists below (each takes a prefix of it).
  const callbackWindow = limit * 10;
  const processed = await ledger.recent({
    states: ['processed'],
    limit: Math.max(callbackWindow, LATENCY_WINDOW),
    ...scope,
  });
  return {
    counts,
    total: FILE_STATES.reduce((n, s) => n + counts[s], 0),
    recent,
    failed,
    callbackErrors: processed
      .slice(0, callbackWindow)
      .filter((r) => r.callbackError !== null)
      .slice(0, limit),
    latency: latencyByRadar(processed.slice(0, LATENCY_WINDOW)),
  };
}
