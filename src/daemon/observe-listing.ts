/**
 * What the readiness model asks of every listing the daemon records (full and hot rounds alike):
 * the `observe` options (`minAge`, the `settle` quiet period, vanished files of the folders listed
 * completely) and one log line per folder that could not be listed, per vanished and superseded
 * batch.
 */
import type { ObserveOptions, ObserveResult } from '../ledger/ledger.js';
import type { FolderError } from './tree-walker.js';
import type { SourceRuntime } from './source.js';

/**
 * `observe` options for one listing of `src`. `quietMs`: the pipeline's own quiet period (hot
 * rounds); the longer of it and `settle` applies.
 */
export function observeOptions(
  src: SourceRuntime,
  now: number,
  completeFolders: readonly string[],
  quietMs = 0,
): ObserveOptions {
  return {
    now,
    minAgeMs: src.config.minAge * 1000,
    settleMs: Math.max(src.config.settle * 1000, quietMs),
    completeFolders,
  };
}

/** Logs the folders that could not be listed, and what the ledger retired. */
export function logListingOutcome(
  src: SourceRuntime,
  folderErrors: readonly FolderError[],
  observed: ObserveResult | null,
): void {
  for (const { path, error } of folderErrors) {
    src.log.warn({ err: error, folder: path }, 'cannot list this folder; the other folders go on');
  }
  if (observed === null) return;
  if (observed.vanished > 0) {
    src.log.info({ files: observed.vanished }, 'files gone from the server before download (vanished)');
  }
  if (observed.superseded > 0) {
    src.log.info({ files: observed.superseded }, 'older versions replaced on the server (superseded)');
  }
}
