/**
 * The order a batch starts its files in. With several transfers at once, a batch lasts until its
 * last file ends; started in the caller's order (a date tree's: by path), that last file may be
 * a 1.7 MB volume begun when everything else was nearly done, alone on the link in TCP slow
 * start. Largest first (the longest-job-first rule) was tried and is worse on a WAN: the batch
 * then ends on ~100 small files whose set-up round trips leave the link half idle for 2 s
 * (docs/PERFORMANCE.md, session 6). Largest and smallest alternately keeps small files' set-up
 * overlapping large files' data all along and ends on middle-sized files that finish together.
 * Only when every size is known (a listed entry, or a path the client just listed); otherwise
 * the caller's order stays.
 */
import type { RemoteEntry } from './types.js';

/**
 * Positions of `files` in the order to start them: the largest, the smallest, the second largest,
 * the second smallest, … (ties in the caller's order), when `sizeOf` knows every size; else
 * 0, 1, 2, ….
 */
export function startOrder(
  files: readonly (string | RemoteEntry)[],
  sizeOf: ((remotePath: string) => number | undefined) | undefined,
): number[] {
  const sizes: number[] = [];
  for (const file of files) {
    const size = typeof file === 'string' ? sizeOf?.(file) : file.size;
    if (size === undefined || !Number.isFinite(size)) return files.map((_, i) => i);
    sizes.push(size);
  }
  const bySize = sizes.map((_, i) => i).sort((a, b) => (sizes[b] ?? 0) - (sizes[a] ?? 0) || a - b);
  // largest and smallest alternately: the small files' set-up round trips overlap the large
  // files' data all along, and the batch ends on middle-sized files
  const order: number[] = [];
  for (let lo = 0, hi = bySize.length - 1; lo <= hi; lo++, hi--) {
    order.push(bySize[lo] ?? 0);
    if (hi > lo) order.push(bySize[hi] ?? 0);
  }
  return order;
}
