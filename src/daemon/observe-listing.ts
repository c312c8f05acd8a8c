/**
 * One listing of a source, recorded in the ledger with the readiness model's settings: corrected
 * times (the lister's server clock), `minAge`, the `settle` quiet period, vanished files of the
 * folders listed completely, and one log line per folder that could not be listed.
 */
import type { Ledger, ObserveResult } from '../ledger/ledger.js';
import type { ListingResult } from './lister.js';
import type { SourceRuntime } from './source.js';

export interface ObservedListing {
  listing: ListingResult;
  observed: ObserveResult;
}

export async function listAndObserve(
  ledger: Ledger,
  src: SourceRuntime,
  now: () => number,
  signal: AbortSignal,
): Promise<ObservedListing> {
  const listing = await src.lister.list(now(), signal);
  for (const { path, error } of listing.folderErrors) {
    src.log.warn({ err: error, folder: path }, 'cannot list this folder; the other folders go on');
  }
  const observed = await ledger.observe(src.config.name, listing.files, {
    now: now(),
    minAgeMs: src.config.minAge * 1000,
    settleMs: src.config.settle * 1000,
    completeFolders: listing.completeFolders,
  });
  if (observed.vanished > 0) {
    src.log.info({ files: observed.vanished }, 'files gone from the server before download (vanished)');
  }
  if (observed.superseded > 0) {
    src.log.info({ files: observed.superseded }, 'older versions replaced on the server (superseded)');
  }
  return { listing, observed };
}
