/**
 * The pipeline of one source: three stages that run side by side and feed each other.
 *
 *   listing   ListingScheduler: a full round every `pollInterval`, hot rounds every `hotInterval`
 *      |        (rounds of one source never overlap; each ends with `ledger.observe`)
 *      v      ready rows in the ledger (wake-up)
 *   download  DownloadPool: claims ready rows as slots free, `fetchClaim` each
 *      |
 *      v      committed rows (`downloaded`)
 *   callback  Dispatcher (shared by all sources): bounded backlog, back-pressure on the pool
 *
 * `run(max)` = `max` full rounds (with hot rounds between them), then what they found is
 * downloaded and handed to the callbacks. `once()` = one full round, its downloads and their
 * callbacks (what `runOnce()` does for each source).
 */
import type { Logger } from 'pino';
import { FtpError, toError } from '../errors.js';
import type { FileRecord } from '../ledger/ledger.js';
import { LOG_MESSAGES } from '../observe/events.js';
import { linkedController, sleepUntilAborted, untilAborted } from '../util/abort.js';
import { DownloadPool, type DownloadDeps } from './download-pool.js';
import type { CycleEvent } from './events.js';
import { ListingScheduler, type RoundResult } from './listing-scheduler.js';

/** `stopRequested` also ends the rounds and cancels listings. */
export interface SourcePipelineOptions extends DownloadDeps {
  /** The stop deadline: in-flight transfers and callbacks are abandoned. */
  abortTransfers: AbortSignal;
  /**
   * Whether a `downloaded` row of this source not in flight here is a dead run's (SQLite owned by
   * this process: every such row) or may be another live instance's (shared ledger: only once it
   * has waited a lease).
   */
  exclusiveLedger: boolean;
  onCycle: (event: CycleEvent) => void;
}

/** What the status page and /metrics show of a source's pipeline. */
export interface PipelineStats {
  source: string;
  /** LIST commands per minute over the last minute. */
  listingsPerMinute: number;
  /**
   * Commands per minute sent to the server (listings, downloads, logins; counted by the FTP
   * client), null when the client does not count them (SFTP).
   */
  commandsPerMinute: number | null;
  /** Folders re-listed by every hot round because a file in them has not settled. */
  unsettledFolders: number;
  /** Hot rounds run (`hotInterval` > 0, shorter than `pollInterval`, not a recursive layout). */
  hot: boolean;
  /** Claiming waits for the callbacks (their backlog is full). */
  callbacksBottleneck: boolean;
}

/** How often the settle loop looks at the ledger's `settleDueAt` (ms). */
const SETTLE_CHECK_MS = 1000;

export class SourcePipeline {
  readonly #o: SourcePipelineOptions;
  readonly scheduler: ListingScheduler;
  readonly #log: Logger;
  #pool: DownloadPool | null = null;
  #bottleneckWarned = false;
  /**
   * No file is claimed before this time (epoch ms): the server is probably unreachable. Infinity
   * after a listing failed on the FTP side, a backoff delay after a download could not connect
   * (`isServerUnreachable`); 0 again once a listing works.
   */
  #pausedUntil = 0;

  constructor(options: SourcePipelineOptions) {
    this.#o = options;
    this.#log = options.src.log;
    this.scheduler = new ListingScheduler(options.src, { ledger: options.ledger, now: options.now });
  }

  get name(): string {
    return this.#o.src.config.name;
  }

  stats(): PipelineStats {
    return {
      source: this.name,
      listingsPerMinute: this.scheduler.listingsPerMinute(),
      commandsPerMinute: this.scheduler.commandsPerMinute(),
      unsettledFolders: this.scheduler.unsettledFolders,
      hot: this.scheduler.hotEnabled,
      callbacksBottleneck: this.#pool?.backPressure ?? false,
    };
  }

  /**
   * `max` full rounds, `pollInterval` apart, with hot rounds between them; the download pool runs
   * all along. Then (or on stop) the pool drains: rows found ready are downloaded and queued for
   * their callbacks. Rounds that fail are logged and the next one runs.
   */
  async run(max: number): Promise<void> {
    const { src, stopRequested } = this.#o;
    const pool = this.#newPool();
    this.#pool = pool;
    const downloads = pool.run();
    const hotStop = linkedController([stopRequested]);
    const hot = this.scheduler.hotEnabled
      ? this.#hotLoop(pool, hotStop.signal)
      : src.config.layout === 'recursive'
        ? Promise.resolve()
        : this.#settleLoop(pool, hotStop.signal);
    try {
      for (let i = 0; i < max && !stopRequested.aborted; i++) {
        try {
          await this.#fullRound(pool);
        } catch (err) {
          // A ledger hiccup (busy database, lost PostgreSQL connection): log, wait, go on.
          this.#log.error({ err }, LOG_MESSAGES.cycleFailed);
        }
        if (i + 1 < max) await sleepUntilAborted(src.config.pollInterval * 1000, stopRequested);
      }
    } finally {
      hotStop.controller.abort();
      await hot;
      hotStop.dispose();
      pool.drain();
      await downloads;
    }
  }

  /** One full round, the downloads of what is ready, and their callbacks; the rows downloaded. */
  async once(): Promise<FileRecord[]> {
    return this.#serial(async () => {
      const pool = this.#newPool();
      const downloaded: FileRecord[] = [];
      const callbacks: Promise<void>[] = [];
      const event = await this.#listRound(this.#o.src.config.name, callbacks);
      if (!this.#o.stopRequested.aborted && !this.#paused()) {
        pool.drain();
        const onDone = (record: FileRecord, callback: Promise<void>): void => {
          downloaded.push(record);
          callbacks.push(callback);
        };
        await pool.run(onDone);
      }
      // This round's callbacks, or the stop deadline (a hung callback must not hang a stop).
      await untilAborted(Promise.all(callbacks), this.#o.abortTransfers);
      this.#emitCycle(event, pool);
      return downloaded;
    });
  }

  #newPool(): DownloadPool {
    const o = this.#o;
    return new DownloadPool({
      src: o.src,
      ledger: o.ledger,
      dispatcher: o.dispatcher,
      owner: o.owner,
      leaseMs: o.leaseMs,
      now: o.now,
      fetchContext: { ...o.fetchContext, onServerUnreachable: (err) => this.#onUnreachable(err) },
      stopRequested: o.stopRequested,
      onBottleneck: (info) => this.#onBottleneck(info),
      isPaused: () => this.#paused(),
    });
  }

  /**
   * A download could not reach the server: it is down or restarting. As after a failed listing,
   * the ready files wait instead of each spending an attempt (a restart must not park files):
   * until a listing works (`runOnce`: the next cycle) or the backoff's first delay has passed,
   * when the next claim finds out again.
   */
  #onUnreachable(err: Error): void {
    const paused = this.#paused();
    const until = Date.now() + this.#o.src.config.backoff.initialDelay * 1000;
    this.#pausedUntil = Math.max(this.#pausedUntil, until);
    if (!paused) this.#log.warn({ err }, 'server unreachable: downloads wait for a listing that works');
  }

  #paused(): boolean {
    return Date.now() < this.#pausedUntil;
  }

  async #fullRound(pool: DownloadPool): Promise<void> {
    const event = await this.#serial(() => this.#listRound(this.#o.src.config.name, null));
    pool.wake();
    this.#emitCycle(event, pool);
  }

  /**
   * Hot rounds every `hotInterval` until `signal` aborts; between them, a settle round when the
   * ledger's `settleDueAt` comes first (a file's quiet period ended), so a file is ready `settle`
   * after its last change rather than at the next hot round.
   */
  async #hotLoop(pool: DownloadPool, signal: AbortSignal): Promise<void> {
    const now = this.#o.now;
    let warned = false;
    let nextHot = now() + this.scheduler.hotGapMs();
    // A settle round that left `settleDueAt` in the past (skipped, or the file changed again)
    // does not run again before the next hot round: no busy loop.
    let settleBlockedUntil = 0;
    // Bounded by the stop: at most one hot round per interval and one settle round between.
    while (!signal.aborted) {
      const due = this.scheduler.settleDueAt;
      const settleFirst = due !== null && due < nextHot && now() >= settleBlockedUntil;
      // Looks again at least once a second: a round may set an earlier `settleDueAt` meanwhile.
      const wait = (settleFirst ? due : nextHot) - now();
      if (wait > 0) {
        await sleepUntilAborted(Math.min(wait, SETTLE_CHECK_MS), signal);
        continue;
      }
      // `hotInterval`, or longer when the source's listing budget is spent elsewhere.
      if (!settleFirst) nextHot = now() + this.scheduler.hotGapMs();
      const started = Date.now();
      const listAbort = linkedController([signal, this.#o.abortTransfers]);
      try {
        const round = settleFirst ? this.scheduler.settleRound : this.scheduler.hotRound;
        const r = await this.#serial(() => round.call(this.scheduler, listAbort.signal));
        this.#pausedUntil = 0;
        if (!r.skipped) pool.wake();
        const after = this.scheduler.settleDueAt;
        // At most one settle round a second (uploads arriving all the time must not make it a
        // stream of listings); one that left `settleDueAt` in the past waits for the next hot round.
        if (settleFirst) settleBlockedUntil = now() + SETTLE_CHECK_MS;
        if (settleFirst && (r.skipped || (after !== null && after <= now()))) settleBlockedUntil = nextHot;
        warned = false;
      } catch (err) {
        if (!signal.aborted && !warned) {
          // Once per failure streak (the next full round retries everything anyway).
          this.#log.warn({ err, sinceMs: Date.now() - started }, 'hot listing failed');
          warned = true;
        }
      } finally {
        listAbort.dispose();
      }
    }
  }

  /**
   * Without hot rounds: when the ledger's `settleDueAt` passes (a file's quiet period ended), the
   * folders holding unsettled files are listed again at once (a hot round), so the file is ready
   * then rather than at the next full round, `pollInterval` later.
   */
  async #settleLoop(pool: DownloadPool, signal: AbortSignal): Promise<void> {
    // Bounded by the stop; looks at the due time at least once a second (a round may set it).
    while (!signal.aborted) {
      const due = this.scheduler.settleDueAt;
      const wait = due === null ? SETTLE_CHECK_MS : Math.min(SETTLE_CHECK_MS, due - this.#o.now());
      if (wait > 0) {
        await sleepUntilAborted(wait, signal);
        continue;
      }
      const listAbort = linkedController([signal, this.#o.abortTransfers]);
      try {
        const r = await this.#serial(() => this.scheduler.settleRound(listAbort.signal));
        if (!r.skipped) pool.wake();
        // At most one settle round a second, whether or not files are still due (skipped: another
        // instance lists; or the row did not settle): no busy loop, no stream of listings.
        await sleepUntilAborted(SETTLE_CHECK_MS, signal);
      } catch (err) {
        if (!signal.aborted) this.#log.warn({ err }, 'listing the unsettled files failed');
        // The next full round lists them anyway: no retry storm meanwhile.
        await sleepUntilAborted(SETTLE_CHECK_MS, signal);
      } finally {
        listAbort.dispose();
      }
    }
  }

  /**
   * A full listing round and the callbacks owed from before; returns the cycle event (downloads
   * filled in by `#emitCycle`). `callbacks` collects the owed callbacks' promises (runOnce).
   */
  async #listRound(source: string, callbacks: Promise<void>[] | null): Promise<CycleEvent> {
    const { ledger, dispatcher, stopRequested, abortTransfers } = this.#o;
    const started = Date.now();
    const cycle = ++this.#o.src.cycles;
    const event: CycleEvent = {
      source,
      cycle,
      durationMs: 0,
      listed: 0,
      listings: 0,
      added: 0,
      becameReady: 0,
      downloaded: 0,
      failed: 0,
      skippedListing: false,
      error: null,
      folderErrors: [],
    };
    if (stopRequested.aborted) return event;

    // Callbacks owed by a process that died before recording them. A SQLite ledger is ours
    // alone: every such row not queued here is orphaned. A shared ledger's row may be another
    // live instance's callback in progress: it counts as orphaned once it has waited a lease.
    const orphanedBefore = this.#o.exclusiveLedger ? Infinity : this.#o.now() - this.#o.leaseMs;
    for (const row of await ledger.pendingCallbacks(source, 1000)) {
      if (dispatcher.isInFlight(row.id)) continue;
      if ((row.downloadedAt ?? row.updatedAt) > orphanedBefore) continue;
      const done = dispatcher.dispatch(row);
      callbacks?.push(done);
    }

    // Listing is cheap to redo: a stop request cancels it at once.
    const listAbort = linkedController([stopRequested, abortTransfers]);
    try {
      const r: RoundResult = await this.scheduler.fullRound(listAbort.signal);
      event.skippedListing = r.skipped;
      event.listed = r.listed;
      event.listings = r.skipped ? 0 : r.listings;
      event.added = r.added;
      event.becameReady = r.becameReady;
      event.folderErrors = [...r.folderErrors];
      this.#pausedUntil = 0;
    } catch (err) {
      event.error = toError(err);
      // When the server could not be listed it is most likely unreachable: downloading now
      // would only spend the ready files' attempts. They wait for the next listing that works.
      if (event.error instanceof FtpError) this.#pausedUntil = Infinity;
      // a failure on our side (the ledger, say) tells nothing about the server
      else if (this.#pausedUntil === Infinity) this.#pausedUntil = 0;
      if (!stopRequested.aborted) this.#log.warn({ err: event.error }, LOG_MESSAGES.cycleFailed);
    } finally {
      listAbort.dispose();
    }
    event.durationMs = Date.now() - started;
    return event;
  }

  #emitCycle(event: CycleEvent, pool: DownloadPool): void {
    const counts = pool.takeCounts();
    event.downloaded = counts.downloaded;
    event.failed = counts.failed;
    this.#log.info(
      {
        cycle: event.cycle,
        durationMs: event.durationMs,
        listed: event.listed,
        listings: event.listings,
        added: event.added,
        downloaded: event.downloaded,
        failed: event.failed,
      },
      LOG_MESSAGES.cycle,
    );
    this.#o.onCycle(event);
  }

  #onBottleneck(info: { backlog: number; waiting: number }): void {
    if (this.#bottleneckWarned) return;
    this.#bottleneckWarned = true;
    this.#log.warn(
      {
        backlog: info.backlog,
        waiting: info.waiting,
        callbackConcurrency: this.#o.dispatcher.concurrency,
        callbacksPerMinute: Math.round(this.#o.dispatcher.callbacksPerMinute()),
      },
      LOG_MESSAGES.callbacksBehind,
    );
  }

  /** Runs `fn` after this source's previous round: rounds of one source never overlap. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const src = this.#o.src;
    const run = src.chain.then(fn);
    src.chain = run.catch(() => undefined);
    return run;
  }
}
