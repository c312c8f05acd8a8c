/**
 * The order a batch starts its files in. With several transfers at once, a batch lasts until its
 * last file ends; started in the caller's order (a date tree's: by path), that last file may be
 * a 1.7 MB volume begun when everything else was nearly done, alone on the link and still in TCP
 * slow start (docs/PERFORMANCE.md, session 6). Largest first (the classic longest-job-first rule
 * for parallel machines), the batch ends on its smallest files, all connections busy until
 * nearly the end. Only when every size is known (a listed entry, or a path the client just
 * listed); otherwise the caller's order stays.
 */
import type { RemoteEntry } from './types.js';

/**
 * Positions of `files` in the order to start them: by size, largest first (ties in the caller's
 * order), when `sizeOf` knows every size; else 0, 1, 2, ….
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
  return sizes.map((_, i) => i).sort((a, b) => (sizes[b] ?? 0) - (sizes[a] ?? 0) || a - b);
}
