/**
 * Sizes from a client's recent listings, by remote path, so that downloading a bare path the
 * client just listed (`listFiles` then `downloadFiles`, the README's way) needs no SIZE round
 * trip. A file that changed since fails the byte count and is fetched again with SIZE.
 *
 * Bounded in bytes, not entries: a 200,000-entry listing must not keep ~100 MB alive after the
 * caller dropped it (test/reliability/slow-huge). Over the budget the oldest entries go first,
 * so the folders listed last (the ones about to be downloaded) are the ones kept.
 */

/** A listed size stands in for SIZE this long; older, the file may have changed meanwhile. */
export const LISTED_SIZE_TTL_MS = 10 * 60_000;
/** Memory the cache may hold, estimated per entry (see `entryCost`). */
export const LISTED_SIZES_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Estimated bytes one entry keeps alive: the path (one byte per character for the ASCII names
 * servers use; the string is kept even when the listing that made it is gone), the Map slot and
 * the `{size, at}` record.
 */
function entryCost(path: string): number {
  return path.length + 96;
}

interface Listed {
  size: number;
  at: number;
}

export class ListedSizes {
  readonly #entries = new Map<string, Listed>();
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  #bytes = 0;
  /**
   * Walks the keys oldest first for eviction, kept across calls: a fresh iterator per call would
   * step over every slot already deleted at the front (quadratic on a huge listing).
   */
  #oldest: Iterator<string> | undefined;

  constructor(maxBytes = LISTED_SIZES_MAX_BYTES, ttlMs = LISTED_SIZE_TTL_MS) {
    this.#maxBytes = maxBytes;
    this.#ttlMs = ttlMs;
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Estimated bytes held now (at most the budget). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records `size` for `path`, seen at `at` (ms); the newest entries are the last evicted. */
  remember(path: string, size: number, at: number): void {
    if (this.#entries.delete(path)) this.#bytes -= entryCost(path);
    const cost = entryCost(path);
    if (cost > this.#maxBytes) return;
    // Map order is insertion order (a re-listed path moved to the end above): oldest first.
    while (this.#bytes + cost > this.#maxBytes) {
      let next = this.#oldest?.next();
      if (next === undefined || next.done === true) {
        this.#oldest = this.#entries.keys();
        next = this.#oldest.next();
        if (next.done === true) break;
      }
      this.#entries.delete(next.value);
      this.#bytes -= entryCost(next.value);
    }
    this.#entries.set(path, { size, at });
    this.#bytes += cost;
  }

  /** The listed size of `path` if it was listed within the TTL, else undefined. */
  get(path: string, now: number = Date.now()): number | undefined {
    const seen = this.#entries.get(path);
    return seen !== undefined && now - seen.at <= this.#ttlMs ? seen.size : undefined;
  }
}
