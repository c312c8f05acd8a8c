/**
 * FTPDaemon: watches FTP servers, downloads each new file once, hands it to the user's
 * processing, and keeps its promises across crashes, restarts, flaky links and servers that are
 * still writing (see docs/DAEMON.md and ../shared/docs/design.md).
 *
 * One cycle of one source:
 *   dispatch rows left `downloaded` (callbacks owed from before)
 *   -> list (under ledger.withSourceLock) -> ledger.observe (new / changed / stable)
 *   -> claimReady -> download, `maxConcurrentDownloads` at a time (.part -> check -> rename)
 *   -> ledger.complete -> dispatch the callback (after the commit, own concurrency)
 * Cycles of one source never overlap; sources run side by side, each with its own pool.
 * Everything that must survive a restart is in the ledger.
 *
 * This file is the lifecycle (start, run, stop) and the cycle; the fetch of one claim is in
 * `fetch.ts`, a source's runtime in `source.ts`, the callbacks in `dispatch.ts`, the events in
 * `events.ts`.
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { AbortedError, FtpError, InvalidArgumentError } from '../errors.js';
import type { FileRecord, Ledger } from '../ledger/ledger.js';
import { openLedger } from '../ledger/open.js';
import { DAEMON_EVENTS, LOG_MESSAGES } from '../observe/events.js';
import { silentLogger } from '../observe/log.js';
import { linkedController, sleep, toError, untilAborted } from './abort.js';
import { isResolvedConfig, resolveDaemonConfig, type DaemonConfig, type FTPDaemonConfig } from './config.js';
import { listAndObserve } from './observe-listing.js';
import { Dispatcher, type FileCallback, type ProcessedInfo } from './dispatch.js';
import type { CycleEvent, DaemonEvents } from './events.js';
import { fetchClaim, type FetchContext } from './fetch.js';
import { createSourceRuntime, downloadSlots, type ClientFactory, type SourceRuntime } from './source.js';

export type { CycleEvent, DaemonEvents, DownloadedEvent, FailedEvent, ProcessedEvent } from './events.js';

export interface FTPDaemonOptions {
  /** Called for every committed file (sync or async); see `DownloadedFile`. */
  onFileDownloaded?: FileCallback;
  /** pino logger; the daemon logs under `{module: 'daemon', source}`. @default silent */
  logger?: Logger;
  /** Use this ledger instead of opening `config.ledger` (the daemon then does not close it). */
  ledger?: Ledger;
  /** Builds the FTP client of a source. @default an `AsyncFTPClient` from the source's settings */
  clientFactory?: ClientFactory;
  /** Clock (epoch ms), for tests. @default Date.now */
  now?: () => number;
}

export interface RunOptions {
  /** Cycles per source before `run` returns (then the daemon is stopped). @default forever */
  maxIterations?: number;
  /** Aborting it stops the daemon gracefully (like `stop()`). */
  signal?: AbortSignal;
}

/** How often a running cycle returns expired claims (a dead instance's) to `ready`. */
const RECLAIM_EVERY_MS = 1000;

/** How many local paths `getProcessedFiles()` keeps. */
const PROCESSED_KEPT = 10_000;

export class FTPDaemon extends EventEmitter<DaemonEvents> {
  /** The validated configuration (passwords included: never log it; see `redactConfig`). */
  readonly config: DaemonConfig;
  readonly #options: FTPDaemonOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  #ledger: Ledger | null = null;
  #sources: SourceRuntime[] = [];
  #dispatcher: Dispatcher | null = null;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  /** Stop requested: no new claims, sleeps end. */
  readonly #stopRequested = new AbortController();
  /** Aborts in-flight transfers and listings (at the stop deadline). */
  readonly #abortTransfers = new AbortController();
  readonly #activeCycles = new Set<Promise<unknown>>();
  /** The most recent local paths (bounded: the daemon runs for months; the ledger has all). */
  readonly #processed: string[] = [];
  #downloadedTotal = 0;
  #running = false;

  /**
   * @param config the config as written (validated here; throws ConfigError naming the key), or
   *   the result of `loadDaemonConfig`.
   */
  constructor(config: FTPDaemonConfig | DaemonConfig, options: FTPDaemonOptions = {}) {
    super();
    this.config = isResolvedConfig(config) ? config : resolveDaemonConfig(config);
    this.#options = options;
    this.#log = (options.logger ?? silentLogger()).child({ module: 'daemon' });
    this.#now = options.now ?? Date.now;
  }

  /**
   * Local paths of the files this instance downloaded, oldest first: the last 10,000 (a daemon
   * runs for months; `ledger.recent()` and `radarlib status` have every file).
   */
  getProcessedFiles(): string[] {
    return [...this.#processed];
  }

  /** The ledger (open once the daemon has started). */
  get ledger(): Ledger | null {
    return this.#ledger;
  }

  get stopping(): boolean {
    return this.#stopRequested.signal.aborted;
  }

  /**
   * Polls every source until `stop()` (or `maxIterations` cycles per source), then stops
   * gracefully and resolves.
   */
  async run(options: RunOptions = {}): Promise<void> {
    const max = options.maxIterations ?? Infinity;
    if (!(max === Infinity || (Number.isInteger(max) && max >= 1))) {
      throw new InvalidArgumentError('maxIterations', `expected an integer >= 1, got ${String(max)}`);
    }
    if (this.#running) throw new InvalidArgumentError('run', 'the daemon is already running');
    this.#running = true;
    const onAbort = (): void => void this.stop();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (options.signal?.aborted === true) return;
      await this.#start();
      await Promise.all(
        this.#sources.map(async (src) => {
          for (let i = 0; i < max && !this.stopping; i++) {
            try {
              await this.#cycleOf(src, false);
            } catch (err) {
              // A ledger hiccup (busy database, lost PostgreSQL connection): log, wait, go on.
              src.log.error({ err }, LOG_MESSAGES.cycleFailed);
            }
            if (i + 1 < max) await sleep(src.config.pollInterval * 1000, this.#stopRequested.signal);
          }
        }),
      );
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await this.stop();
      this.#running = false;
    }
  }

  /**
   * One cycle of every source; resolves with the rows downloaded in it, once their callbacks
   * have run. The daemon stays started: call `stop()` when done. Aborting `signal` stops the
   * daemon, as `stop()` does.
   */
  async runOnce(options: { signal?: AbortSignal } = {}): Promise<FileRecord[]> {
    options.signal?.throwIfAborted();
    const onAbort = (): void => void this.stop();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#start();
      const results = await Promise.all(this.#sources.map((src) => this.#cycleOf(src, true)));
      return results.flat();
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Graceful stop: no new downloads start; in-flight ones may finish until `stopTimeout`, then
   * are aborted (their `.part` stays for a resume, no final file appears); callbacks get the
   * rest of the deadline. Then connections and the ledger are closed. Idempotent.
   */
  stop(): Promise<void> {
    if (this.#stopping !== null) return this.#stopping;
    this.#stopping = this.#shutdown();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #start(): Promise<void> {
    if (this.stopping) throw new AbortedError('the daemon is stopped');
    this.#starting ??= this.#open();
    await this.#starting;
  }

  async #open(): Promise<void> {
    // exclusive: one daemon per SQLite ledger (a second one fails here, naming the holder's pid).
    const ledger = this.#options.ledger ?? (await openLedger(this.config.ledger, { exclusive: true }));
    this.#ledger = ledger;
    if (ledger.backend === 'sqlite' && this.#options.ledger === undefined) {
      // A SQLite ledger belongs to one process: rows left `downloading` are from a dead run of
      // ours, so they go back to `ready` now instead of after their lease.
      const n = await ledger.reclaimExpired({ now: Number.MAX_SAFE_INTEGER });
      if (n > 0) this.#log.info({ rows: n }, 'resuming downloads interrupted by the last stop');
    }
    this.#dispatcher = new Dispatcher({
      ledger,
      callback: this.#options.onFileDownloaded,
      exec: this.config.exec,
      concurrency: this.config.callbackConcurrency,
      logger: this.#log,
      // Callbacks and hooks may finish until the stop deadline, like transfers.
      signal: this.#abortTransfers.signal,
      now: this.#now,
      onProcessed: (info) => this.#onProcessed(info),
    });
    const root = this.#options.logger ?? silentLogger();
    this.#sources = this.config.sources.map((config) =>
      createSourceRuntime(
        config,
        this.#log.child({ source: config.name }),
        root,
        this.#options.clientFactory,
      ),
    );
    this.#log.info(
      { sources: this.config.sources.map((s) => s.name), ledger: ledger.backend },
      LOG_MESSAGES.started,
    );
  }

  async #shutdown(): Promise<void> {
    this.#stopRequested.abort(new AbortedError('the daemon is stopping'));
    if (this.#starting === null) return;
    await this.#starting.catch(() => undefined);
    this.#log.info({}, LOG_MESSAGES.stopping);
    const deadline = setTimeout(
      () => this.#abortTransfers.abort(new AbortedError('stop deadline reached')),
      this.config.stopTimeout * 1000,
    );
    try {
      await Promise.allSettled([...this.#activeCycles]);
      this.#dispatcher?.clearWaiting();
      // Callbacks cannot be killed; wait for them until the deadline, then leave them be (their
      // rows stay `downloaded` and are handed over again on the next start).
      if (this.#dispatcher !== null)
        await untilAborted(this.#dispatcher.onIdle(), this.#abortTransfers.signal);
    } finally {
      clearTimeout(deadline);
      this.#abortTransfers.abort(new AbortedError('the daemon stopped'));
    }
    await Promise.allSettled(
      this.#sources.map(async (s) => {
        try {
          await s.client.disconnect();
        } catch {
          s.client.destroy();
        }
      }),
    );
    if (this.#options.ledger === undefined) await this.#ledger?.close();
    this.#log.info({ downloaded: this.#downloadedTotal }, LOG_MESSAGES.stopped);
  }

  /** Queues a cycle behind the source's previous one. */
  #cycleOf(src: SourceRuntime, awaitCallbacks: boolean): Promise<FileRecord[]> {
    const run = src.chain.then(() => this.#cycle(src, awaitCallbacks));
    src.chain = run.catch(() => undefined);
    this.#activeCycles.add(run);
    void run.finally(() => this.#activeCycles.delete(run)).catch(() => undefined);
    return run;
  }

  /**
   * One cycle. `awaitCallbacks` (runOnce) waits for this cycle's callbacks; `run` does not, so a
   * slow or hung callback never delays polling (the dispatcher's backlog is bounded instead).
   */
  async #cycle(src: SourceRuntime, awaitCallbacks: boolean): Promise<FileRecord[]> {
    const ledger = this.#ledger as Ledger;
    const started = Date.now();
    const cycle = ++src.cycles;
    const callbacks: Promise<void>[] = [];
    const event: CycleEvent = {
      source: src.config.name,
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
    };
    if (this.stopping) return [];

    // Callbacks owed by a process that died before recording them. A SQLite ledger is ours
    // alone: every such row not queued here is orphaned. A shared ledger's row may be another
    // live instance's callback in progress: it counts as orphaned once it has waited a lease.
    const dispatcher = this.#dispatcher as Dispatcher;
    const exclusive = ledger.backend === 'sqlite' && this.#options.ledger === undefined;
    const orphanedBefore = exclusive ? Infinity : this.#now() - this.config.leaseDuration * 1000;
    for (const row of await ledger.pendingCallbacks(src.config.name, 1000)) {
      if (dispatcher.isInFlight(row.id)) continue;
      if ((row.downloadedAt ?? row.updatedAt) > orphanedBefore) continue;
      callbacks.push(dispatcher.dispatch(row));
    }

    // Listing is cheap to redo: a stop request cancels it at once.
    const listAbort = linkedController([this.#stopRequested.signal, this.#abortTransfers.signal]);
    const signal = listAbort.signal;
    try {
      const result = await ledger.withSourceLock(src.config.name, () =>
        listAndObserve(ledger, src, this.#now, signal),
      );
      if (result === null) event.skippedListing = true;
      else {
        event.listed = result.listing.files.length;
        event.listings = result.listing.listings;
        event.added = result.observed.added;
        event.becameReady = result.observed.becameReady;
      }
    } catch (err) {
      event.error = toError(err);
      if (!this.stopping) src.log.warn({ err: event.error }, LOG_MESSAGES.cycleFailed);
    } finally {
      listAbort.dispose();
    }

    const downloaded: FileRecord[] = [];
    // When the server could not be listed it is most likely unreachable: downloading now would
    // only spend the ready files' attempts. They wait for the next cycle.
    const serverDown = event.error instanceof FtpError;
    if (!this.stopping && !serverDown) {
      await this.#downloadReady(
        src,
        (record) => {
          downloaded.push(record);
          callbacks.push(dispatcher.dispatch(record));
        },
        event,
        awaitCallbacks,
      );
    }
    // runOnce: this cycle's callbacks, or the stop deadline (a hung callback must not hang a stop).
    if (awaitCallbacks) await untilAborted(Promise.all(callbacks), this.#abortTransfers.signal);
    event.downloaded = downloaded.length;
    event.durationMs = Date.now() - started;
    src.log.info(
      {
        cycle,
        durationMs: event.durationMs,
        listed: event.listed,
        listings: event.listings,
        added: event.added,
        downloaded: event.downloaded,
        failed: event.failed,
      },
      LOG_MESSAGES.cycle,
    );
    this.emit(DAEMON_EVENTS.cycle, event);
    return downloaded;
  }

  /** Claims ready rows as download slots free up, until none is ready (or the daemon stops). */
  async #downloadReady(
    src: SourceRuntime,
    onDone: (r: FileRecord) => void,
    event: CycleEvent,
    awaitCallbacks: boolean,
  ): Promise<void> {
    const ledger = this.#ledger as Ledger;
    const dispatcher = this.#dispatcher as Dispatcher;
    const queue = src.queue;
    const slotsNow = (): number => downloadSlots(src);
    const leaseMs = this.config.leaseDuration * 1000;
    // Downloads go no faster than the callbacks: a committed file waits for its callback at most
    // a few callback durations (on a shared ledger another instance takes over a callback only
    // after it has waited a lease), and unprocessed files pile up on the server, not on disk.
    const backlog = Math.max(this.config.callbackConcurrency, slotsNow());
    // Rows of a dead instance (lease ended) go back to `ready` and are claimed first; checked
    // during the cycle too, since a cycle with a long backlog lasts much longer than a lease.
    let lastReclaim = -Infinity;
    // Bounded: every pass either claims a row (finite), waits for a slot, or ends.
    for (let pass = 0; pass < 1_000_000 && !this.stopping; pass++) {
      if (Date.now() - lastReclaim >= RECLAIM_EVERY_MS) {
        lastReclaim = Date.now();
        await ledger.reclaimExpired({ now: this.#now() });
      }
      if (dispatcher.hasHandlers && dispatcher.waiting >= backlog) {
        // run(): leave the rest to the next cycle (a hung callback must not stop the polling).
        if (!awaitCallbacks) {
          src.log.debug({ waiting: dispatcher.waiting }, 'callbacks are behind; more downloads next cycle');
          break;
        }
        await untilAborted(dispatcher.onWaitingBelow(backlog), this.#stopRequested.signal);
        continue;
      }
      const busy = queue.size + queue.pending;
      const slots = slotsNow();
      if (busy >= slots) {
        await new Promise<void>((resolve) => queue.once('next', () => resolve()));
        continue;
      }
      const claims = await ledger.claimReady(src.config.name, slots - busy, {
        now: this.#now(),
        leaseMs,
        owner: this.#owner,
      });
      for (const claim of claims) {
        void queue.add(async () => {
          const outcome = await fetchClaim(this.#fetchContext, src, claim);
          if (outcome === 'failed') event.failed++;
          else if (outcome !== null) onDone(outcome);
        });
      }
      if (claims.length < slots - busy) break;
    }
    await queue.onIdle();
  }

  /** What `fetchClaim` needs: the ledger, the lease, the stop deadline, and where events go. */
  get #fetchContext(): FetchContext {
    return {
      ledger: this.#ledger as Ledger,
      leaseMs: this.config.leaseDuration * 1000,
      now: this.#now,
      abortTransfers: this.#abortTransfers.signal,
      onDownloaded: (event) => {
        this.#processed.push(event.localPath);
        this.#downloadedTotal++;
        if (this.#processed.length > PROCESSED_KEPT)
          this.#processed.splice(0, this.#processed.length - PROCESSED_KEPT);
        this.emit(DAEMON_EVENTS.downloaded, event);
      },
      onRetry: (event) => this.emit(DAEMON_EVENTS.retry, event),
      onFailed: (event) => this.emit(DAEMON_EVENTS.failed, event),
    };
  }

  #onProcessed(info: ProcessedInfo): void {
    this.emit(DAEMON_EVENTS.processed, {
      source: info.record.source,
      record: info.record,
      error: info.error,
      durationMs: info.durationMs,
    });
  }
}
