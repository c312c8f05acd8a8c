/**
 * Adaptive transfer concurrency (`downloadFiles(..., { maxConcurrent: 'auto' })`).
 *
 * On a long thin link every file pays a few round trips before its first byte and a TCP slow
 * start after it, so one connection leaves most of the link idle and more connections fill it;
 * on loopback or a fast LAN extra connections only cost CPU. The right number depends on the link
 * and the server, so it is measured rather than configured:
 *
 *   start with `initial` transfers; every measuring window (at least MIN_WINDOW_MS, a few round
 *   trips, and half the running transfers finished: decisions follow time, not whole rounds of
 *   files), compare the bytes/s with the best window so far:
 *     - rose by at least `gain`  -> grow (double, never above `cap`): a ramp of a few
 *                                   windows, since a mirror over a thin link lasts seconds;
 *     - did not, twice in a row  -> hold: the link or the server is the limit (one flat window
 *                                   alone is often noise: a few large files ending together);
 *     - the pool's cap fell      -> the server refused a connection (421): hold at what it
 *                                   accepted. A 421 is a signal, never a failed file.
 *   A window in which transfers mostly ended with nothing queued behind them (the caller's
 *   listing had not produced enough files yet) measures the listing, not the link: it is
 *   discarded without a decision.
 *
 * The controller is pure bookkeeping (no timers, no I/O): the client feeds it byte counts and
 * completions and applies the concurrency it returns, so it is tested without a network.
 */

/** Default upper bound of `'auto'`. */
export const DEFAULT_AUTO_CAP = 16;
/**
 * Transfers at the start of an `'auto'` batch: the default cap. A daemon cycle's batch (~50
 * files) is over before a ramp from 4 or 8 has paid off on a 50 ms link (48 files: 0.65 × lftp
 * -P5 starting at 8), and on loopback 16 connections cost about what 5 do (docs/PERFORMANCE.md).
 * A higher `autoCap` still grows from here; a 421 still lowers it.
 */
export const DEFAULT_AUTO_INITIAL = 16;
/** Shortest measuring window: below this, TCP and timer noise dominate the rate. */
const MIN_WINDOW_MS = 300;
/** Longest window: a batch of huge files must still get decisions. */
const MAX_WINDOW_MS = 3000;

export interface AdaptiveOptions {
  /** Never more transfers than this. @default 16 */
  cap?: number;
  /** Transfers to start with. @default 16 (or cap when lower) */
  initial?: number;
  /** Relative throughput rise that justifies growing again. @default 0.1 (10 %) */
  gain?: number;
}

/** One decision, kept for the benchmark report and debug logs. */
export interface AdaptiveStep {
  /** ms since the controller started. */
  atMs: number;
  concurrency: number;
  /** Bytes/s measured in the window that led to this step (0 for the start). */
  bytesPerSecond: number;
  reason: 'start' | 'grow' | 'hold' | 'server-limit';
}

export class AdaptiveConcurrency {
  readonly cap: number;
  readonly #gain: number;
  readonly #started: number;
  #current: number;
  #settled = false;
  #windowStart: number;
  #windowBytes = 0;
  #windowDone = 0;
  #windowStarved = 0;
  #flatWindows = 0;
  #lastRate = 0;
  readonly #steps: AdaptiveStep[] = [];

  constructor(options: AdaptiveOptions = {}, now: number = Date.now()) {
    const cap = options.cap ?? DEFAULT_AUTO_CAP;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`cap must be an integer >= 1, got ${cap}`);
    this.cap = cap;
    this.#gain = options.gain ?? 0.1;
    this.#current = Math.min(cap, Math.max(1, options.initial ?? DEFAULT_AUTO_INITIAL));
    this.#started = now;
    this.#windowStart = now;
    this.#steps.push({ atMs: 0, concurrency: this.#current, bytesPerSecond: 0, reason: 'start' });
  }

  /** Transfers that should run now. */
  get concurrency(): number {
    return this.#current;
  }

  /** True once growth stopped (plateau or server limit). */
  get settled(): boolean {
    return this.#settled;
  }

  get steps(): readonly AdaptiveStep[] {
    return this.#steps;
  }

  /** Bytes received by any transfer. */
  addBytes(n: number): void {
    this.#windowBytes += n;
  }

  /**
   * A transfer ended. `serverLimit` is the pool's current cap (lowered after a 421); `saturated`
   * says whether other transfers were waiting for a slot. Returns the concurrency to apply now.
   */
  fileDone(serverLimit: number, now: number = Date.now(), saturated = true): number {
    this.#windowDone++;
    if (!saturated) this.#windowStarved++;
    if (serverLimit < this.#current) {
      this.#current = Math.max(1, serverLimit);
      this.#settled = true;
      this.#record(now, 0, 'server-limit');
      this.#resetWindow(now);
      return this.#current;
    }
    const elapsed = now - this.#windowStart;
    if (this.#settled) return this.#current;
    const enough = this.#windowDone * 2 >= this.#current && elapsed >= MIN_WINDOW_MS;
    if (!enough && elapsed < MAX_WINDOW_MS) return this.#current;
    if (this.#windowStarved * 2 > this.#windowDone && elapsed < MAX_WINDOW_MS * 4) {
      this.#resetWindow(now);
      return this.#current;
    }
    const rate = (this.#windowBytes * 1000) / Math.max(1, elapsed);
    // The first window also paid the logins: it has nothing to compare with, so it grows.
    const rose = this.#lastRate === 0 || rate >= this.#lastRate * (1 + this.#gain);
    if (rose && this.#current < this.cap) {
      this.#flatWindows = 0;
      this.#current = Math.min(this.cap, this.#current * 2);
      this.#record(now, rate, 'grow');
    } else if (!rose && ++this.#flatWindows < 2 && this.#current < this.cap) {
      // one flat window: measure this level once more before concluding
    } else {
      this.#settled = true;
      this.#record(now, rate, 'hold');
    }
    this.#lastRate = Math.max(rate, this.#lastRate);
    this.#resetWindow(now);
    return this.#current;
  }

  #record(now: number, rate: number, reason: AdaptiveStep['reason']): void {
    this.#steps.push({
      atMs: now - this.#started,
      concurrency: this.#current,
      bytesPerSecond: Math.round(rate),
      reason,
    });
  }

  #resetWindow(now: number): void {
    this.#windowStart = now;
    this.#windowBytes = 0;
    this.#windowDone = 0;
    this.#windowStarved = 0;
  }
}
