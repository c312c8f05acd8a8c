/**
 * The order a listing's files enter the ledger, which is the order the download pool claims new
 * rows in (by id). Within each run of `CLAIM_ORDER_CHUNK` files (in the listing's path order, so
 * oldest first), largest and smallest alternately, as `downloadFiles` starts a batch
 * (ftp/batch-order.ts): a backlog then ends on middle-sized files that finish together instead of
 * a large one begun when everything else was nearly done, alone on the link (on the WAN bench
 * the last five files of a 48-file backlog took 0.5-0.8 s against the library's 0.45 s). The runs
 * keep a large backlog roughly oldest first.
 */
import { startOrder } from '../ftp/batch-order.js';
import type { ListedFile } from '../ledger/ledger.js';

/** Files reordered together: a 48-file batch is one run, like the library's batch. */
export const CLAIM_ORDER_CHUNK = 64;

/** `files` in claim order (see above); the same array when there is nothing to reorder. */
export function claimOrder(files: readonly ListedFile[]): readonly ListedFile[] {
  if (files.length < 3) return files;
  const ordered: ListedFile[] = [];
  for (let from = 0; from < files.length; from += CLAIM_ORDER_CHUNK) {
    const chunk = files.slice(from, from + CLAIM_ORDER_CHUNK);
    const sizes = new Map(chunk.map((f) => [f.remotePath, f.size]));
    for (const i of startOrder(
      chunk.map((f) => f.remotePath),
      (path) => sizes.get(path),
    ))
      ordered.push(chunk[i] as ListedFile);
  }
  return ordered;
}
