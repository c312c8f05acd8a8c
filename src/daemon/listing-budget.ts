/**
 * The listing budget of one source (pure: the clock is passed in): how often the hot rounds may
 * look for new minute folders so that the source's listings stay about `listingBudget` a minute.
 *
 * Listings have three kinds, by priority:
 *  1. **follow-ups**: the minute folders a hot round found new or changed, and the folders of files
 *     not yet settled (settle rounds). They are what makes a file ready, so they are never held
 *     back; they cost a few listings per volume.
 *  2. **full rounds** (every `pollInterval`): the safety net, never held back either; their cost is
 *     the last round's listings spread over `pollInterval`.
 *  3. **detection**: the hot rounds' listings of each radar's newest hour folder (where new minute
 *     folders appear). They get what is left of the budget: a hot round of `n` hour folders waits
 *     `n / allowance` minutes, and never less than `hotInterval`.
 *
 * So a source with many radars, or many volumes arriving, lists its hour folders less often
 * (latency grows by about half the stretch) instead of loading the server more. Detection keeps
 * at least {@link MIN_DETECTION_SHARE} of the budget, so the hot rounds never stop.
 */
import { RateWindow } from './rate.js';

/** The part of the budget detection keeps whatever the other listings cost. */
export const MIN_DETECTION_SHARE = 0.25;

export interface ListingBudgetOptions {
  /** Listings a minute the source aims to stay within; 0: no budget (hot rounds every `hotInterval`). */
  perMinute: number;
  /** The shortest gap between hot rounds (ms). */
  hotIntervalMs: number;
  /** Gap between full rounds (ms). */
  pollIntervalMs: number;
}

export class ListingBudget {
  readonly #o: ListingBudgetOptions;
  readonly #followUps = new RateWindow();
  /** Listings of the last full round, or null before the first one. */
  #lastFull: number | null = null;

  constructor(options: ListingBudgetOptions) {
    this.#o = options;
  }

  /** A full round listed `listings` folders. */
  fullRound(listings: number): void {
    this.#lastFull = listings;
  }

  /** A hot or settle round listed `listings` minute folders (new, changed or unsettled). */
  followUps(listings: number, now: number): void {
    this.#followUps.add(listings, now);
  }

  /**
   * Listings a minute left for detection: the budget minus the full rounds' share and the
   * follow-ups of the last minute, and at least {@link MIN_DETECTION_SHARE} of the budget.
   */
  detectionPerMinute(now: number): number {
    const { perMinute, pollIntervalMs } = this.#o;
    const full = ((this.#lastFull ?? 0) * 60_000) / pollIntervalMs;
    // (over the whole window even in the first minute: a first burst must not look like a rate)
    const followUps = this.#followUps.perMinute(now, -Infinity);
    return Math.max(perMinute * MIN_DETECTION_SHARE, perMinute - full - followUps);
  }

  /** Gap (ms) before the next hot round, which lists `hourFolders` hour folders. */
  hotGapMs(hourFolders: number, now: number): number {
    const { perMinute, hotIntervalMs } = this.#o;
    if (perMinute <= 0 || hourFolders <= 0) return hotIntervalMs;
    return Math.max(hotIntervalMs, (hourFolders * 60_000) / this.detectionPerMinute(now));
  }
}
