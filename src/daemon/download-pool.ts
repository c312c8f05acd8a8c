/**
 * The download stage of one source: a worker pool that claims ready rows the moment a slot frees,
 * independent of listing rounds, and hands each committed file to the callbacks.
 *
 * Back-pressure: the callbacks have a bounded backlog (`backlog` files waiting for a callback
 * slot, counting those still being made durable). When it is full the pool stops claiming and
 * resumes as soon as a callback finishes; it never gives the work up to wait for the next poll.
 * Unprocessed files then wait on the server, not on disk, and a committed file waits for its
 * callback at most a few callback durations.
 *
 * A slot is a transfer: it is free again once the file has arrived and its connection is back in
 * the client's pool (fixed `maxConcurrentDownloads`), so the next file takes that connection while
 * the finished one is renamed, its folder fsynced and its row committed (15-20 ms a file on the
 * WAN bench, during which the connection used to sit idle). At most `MAX_FINISHING` files wait
 * for that at once.
 *
 * `run()` keeps going until the daemon stops; `drain()` makes it return once no row is ready and
 * its downloads are done (how `run({maxIterations})` and `runOnce()` end).
 */
import type { Claim, FileRecord, Ledger } from '../ledger/ledger.js';
import { untilAborted } from '../util/abort.js';
import type { Dispatcher } from './dispatch.js';
import { fetchClaim, type FetchContext, type FetchOutcome } from './fetch.js';
import { downloadSlots, MAX_FINISHING, type SourceRuntime } from './source.js';

/** How often the pool returns expired claims (a dead instance's) to `ready`, and looks for rows
 *  that became ready without a wake-up (another instance's listing, a retry's backoff ending). */
export const RECLAIM_EVERY_MS = 1000;

/** The bottleneck gauge stays up this long after claiming last waited (it flickers otherwise). */
export const BOTTLENECK_HOLD_MS = 5000;

/** What a source's download stage works with (the pipeline passes the same on). */
export interface DownloadDeps {
  src: SourceRuntime;
  ledger: Ledger;
  dispatcher: Dispatcher;
  /** Claim owner (host:pid:random). */
  owner: string;
  leaseMs: number;
  now: () => number;
  fetchContext: FetchContext;
  /** Stop requested: claim nothing more (in-flight downloads finish or are aborted). */
  stopRequested: AbortSignal;
}

export interface DownloadPoolOptions extends DownloadDeps {
  /** Called when callbacks become the bottleneck (back-pressure engages). */
  onBottleneck?: (info: { backlog: number; waiting: number }) => void;
  /** True while the server is believed down (its last listing failed): claim nothing then. */
  isPaused?: () => boolean;
}

/** Each committed row, with the promise of its callback. */
export type OnDownloaded = (record: FileRecord, callback: Promise<void>) => void;

export class DownloadPool {
  readonly #o: DownloadPoolOptions;
  #draining = false;
  #wakeUp: (() => void) | null = null;
  #woken = false;
  #backPressure = false;
  /** When claiming last waited for the callbacks. */
  #lastBackPressureAt = -Infinity;
  #downloaded = 0;
  #failed = 0;
  /** Fetches still in the queue whose transfer has ended (their slot is free again). */
  #finishing = 0;
  /** Wakes the claim loop when a slot frees (a file has arrived, or a fetch ended). */
  #slotFreed: (() => void) | null = null;

  constructor(options: DownloadPoolOptions) {
    this.#o = options;
  }

  /** Files waiting for a callback slot at most (then claiming waits). */
  get backlog(): number {
    return Math.max(this.#o.dispatcher.concurrency, downloadSlots(this.#o.src));
  }

  /** True while claiming waits for the callbacks, and `BOTTLENECK_HOLD_MS` after (a gauge). */
  get backPressure(): boolean {
    return this.#backPressure || Date.now() - this.#lastBackPressureAt < BOTTLENECK_HOLD_MS;
  }

  /** Downloads and failures since the last call (for the cycle event). */
  takeCounts(): { downloaded: number; failed: number } {
    const counts = { downloaded: this.#downloaded, failed: this.#failed };
    this.#downloaded = 0;
    this.#failed = 0;
    return counts;
  }

  /** New rows may be ready (a listing round just ran): claim now instead of at the next tick. */
  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  /** Return once nothing is ready and every download has finished. */
  drain(): void {
    this.#draining = true;
    this.wake();
  }

  /** Claims and downloads until stopped (or drained); resolves once its downloads have ended. */
  async run(onDownloaded?: OnDownloaded): Promise<void> {
    const { src, ledger, dispatcher, stopRequested } = this.#o;
    const queue = src.queue;
    let lastReclaim = -Infinity;
    while (!stopRequested.aborted) {
      if (Date.now() - lastReclaim >= RECLAIM_EVERY_MS) {
        lastReclaim = Date.now();
        await ledger.reclaimExpired({ now: this.#o.now() });
      }
      const backlog = this.backlog;
      // A file being made durable waits for a callback next: counted, or slow callbacks with
      // a slow disk would let claims run ahead by up to MAX_FINISHING files.
      if (dispatcher.hasHandlers && dispatcher.waiting + this.#finishing >= backlog) {
        this.#noteBackPressure(backlog);
        const below =
          dispatcher.waiting >= backlog ? dispatcher.onWaitingBelow(backlog) : this.#nextFreeSlot();
        await untilAborted(below, stopRequested);
        continue;
      }
      this.#backPressure = false;
      if (this.#o.isPaused?.() === true) {
        if (this.#draining) break;
        await this.#idle();
        continue;
      }
      const busy = queue.size + queue.pending - this.#finishing;
      const slots = downloadSlots(src);
      if (busy >= slots || this.#finishing >= Math.max(MAX_FINISHING, slots)) {
        await untilAborted(this.#nextFreeSlot(), stopRequested);
        continue;
      }
      this.#woken = false;
      const claims = await ledger.claimReady(src.config.name, slots - busy, {
        now: this.#o.now(),
        leaseMs: this.#o.leaseMs,
        owner: this.#o.owner,
      });
      for (const claim of claims) void queue.add(() => this.#fetch(claim, onDownloaded));
      if (claims.length === slots - busy) continue;
      if (this.#draining) break;
      await this.#idle();
    }
    await queue.onIdle();
    this.#backPressure = false;
  }

  async #fetch(claim: Claim, onDownloaded: OnDownloaded | undefined): Promise<void> {
    // With 'auto' the controller counts whole fetches: its slots stay as they were.
    let transferred = false;
    const onTransferred =
      this.#o.src.adaptive === null
        ? () => {
            if (transferred) return;
            transferred = true;
            this.#finishing++;
            this.#slotFreed?.();
          }
        : undefined;
    let outcome: FetchOutcome;
    try {
      outcome = await fetchClaim(this.#o.fetchContext, this.#o.src, claim, onTransferred);
    } finally {
      if (transferred) this.#finishing--;
    }
    if (outcome === 'failed') this.#failed++;
    else if (outcome !== null) {
      this.#downloaded++;
      const callback = this.#o.dispatcher.dispatch(outcome);
      onDownloaded?.(outcome, callback);
    }
  }

  /** Until a slot frees: a file has arrived, or a fetch ended. */
  #nextFreeSlot(): Promise<void> {
    const queue = this.#o.src.queue;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        queue.off('next', done);
        if (this.#slotFreed === done) this.#slotFreed = null;
        resolve();
      };
      queue.on('next', done);
      this.#slotFreed = done;
    });
  }

  /** Waits for a wake-up (a listing round ended), the reclaim tick, or the stop. */
  async #idle(): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await untilAborted(
      new Promise<void>((resolve) => {
        this.#wakeUp = resolve;
        timer = setTimeout(resolve, RECLAIM_EVERY_MS);
      }),
      this.#o.stopRequested,
    );
    clearTimeout(timer);
    this.#wakeUp = null;
  }

  #noteBackPressure(backlog: number): void {
    this.#lastBackPressureAt = Date.now();
    if (this.#backPressure) return;
    this.#backPressure = true;
    this.#o.onBottleneck?.({ backlog, waiting: this.#o.dispatcher.waiting });
  }
}
