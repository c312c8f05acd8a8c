/**
 * FTPDaemon: watches FTP servers, downloads each new file once, hands it to the user's
 * processing, and keeps its promises across crashes, restarts, flaky links and servers that are
 * still writing (see docs/DAEMON.md and ../shared/docs/design.md).
 *
 * Each source is a pipeline of three stages running side by side (src/daemon/source-pipeline.ts):
 *   listing  (listing-scheduler.ts: full round every pollInterval, hot folders every hotInterval)
 *     -> ledger.observe (new / changed / settled -> ready)
 *   download (download-pool.ts: claims ready rows as slots free; fetch.ts: .part -> check ->
 *            rename -> ledger.complete)
 *   callback (dispatch.ts: bounded backlog; back-pressure on the download pool)
 * Sources run side by side, each with its own connection pool; callbacks are shared.
 * Everything that must survive a restart is in the ledger.
 *
 * This file is the lifecycle: open the ledger and the sources, run, stop (graceful, then at the
 * deadline), and the events (events.ts).
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { AbortedError, InvalidArgumentError } from '../errors.js';
import type { FileRecord, Ledger } from '../ledger/ledger.js';
import { openLedger } from '../ledger/open.js';
import { DAEMON_EVENTS, LOG_MESSAGES } from '../observe/events.js';
import { silentLogger } from '../observe/log.js';
import { sharedController, untilAborted } from '../util/abort.js';
import { isResolvedConfig, resolveDaemonConfig, type DaemonConfig, type FTPDaemonConfig } from './config.js';
import { Dispatcher, type FileCallback, type ProcessedInfo } from './dispatch.js';
import type { DaemonEvents } from './events.js';
import type { FetchContext } from './fetch.js';
import { createSourceRuntime, type ClientFactory, type SourceRuntime } from './source.js';
import { SourcePipeline, type PipelineStats } from './source-pipeline.js';

export type { CycleEvent, DaemonEvents, DownloadedEvent, FailedEvent, ProcessedEvent } from './events.js';

/** What a stopping daemon still waits for: see `FTPDaemon.pendingWork`. */
export interface PendingWork {
  transfers: number;
  callbacks: number;
  /** When the stop deadline aborts the transfers (epoch ms); null before `stop()`. */
  deadline: number | null;
}

/** What runs with the daemon: the callback, the logger, and what tests and embedders may swap. */
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

/** Options of {@link FTPDaemon.run}. */
export interface RunOptions {
  /**
   * Full listing rounds per source (`pollInterval` apart, with hot rounds between them) before
   * `run` finishes: it then waits until what those rounds found ready is downloaded and handed to
   * the callbacks, and stops the daemon. @default forever
   */
  maxIterations?: number;
  /** Aborting it stops the daemon gracefully (like `stop()`). */
  signal?: AbortSignal;
}

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
  #pipelines: SourcePipeline[] = [];
  #dispatcher: Dispatcher | null = null;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  /** Stop requested: no new claims, sleeps end. Every fetch and listing listens on both. */
  readonly #stopRequested = sharedController();
  /** Aborts in-flight transfers and listings (at the stop deadline). */
  readonly #abortTransfers = sharedController();
  readonly #active = new Set<Promise<unknown>>();
  /** The most recent local paths (bounded: the daemon runs for months; the ledger has all). */
  readonly #processed: string[] = [];
  #downloadedTotal = 0;
  #running = false;
  #stopDeadline: number | null = null;

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

  /** True once `stop()` was called (or the run signal aborted): no new work starts. */
  get stopping(): boolean {
    return this.#stopRequested.signal.aborted;
  }

  /**
   * What a stop is waiting for (the CLI prints it until the daemon has stopped): transfers
   * running or queued, callbacks running or waiting, and when the stop deadline aborts the
   * transfers (epoch ms; null before `stop()`).
   */
  get pendingWork(): PendingWork {
    let transfers = 0;
    for (const s of this.#sources) transfers += s.queue.pending + s.queue.size;
    const d = this.#dispatcher;
    return { transfers, callbacks: d === null ? 0 : d.running + d.waiting, deadline: this.#stopDeadline };
  }

  /**
   * Runs the pipeline of every source until `stop()`: listing (a full round every
   * `pollInterval`, hot folders every `hotInterval`), downloads as soon as files are ready, and
   * callbacks, all at once. With `maxIterations: N`, each source does N full rounds, then `run`
   * waits until what they found ready is downloaded and its callbacks have run (until
   * `stopTimeout` for a callback still running), stops the daemon and resolves.
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
      await Promise.all(this.#pipelines.map((p) => this.#track(p.run(max))));
      // Every callback owed has started (a stop clears the ones still waiting); the stop below
      // waits for the running ones until `stopTimeout`, so a hung callback cannot hang `run`.
      const dispatcher = this.#dispatcher;
      if (dispatcher !== null) await untilAborted(dispatcher.onWaitingBelow(1), this.#stopRequested.signal);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await this.stop();
      this.#running = false;
    }
  }

  /**
   * One full listing round of every source (no hot rounds), the download of every file ready
   * after it, and their callbacks; resolves with the rows downloaded, once their callbacks have
   * run. The daemon stays started: call `stop()` when done. Aborting `signal` stops the daemon,
   * as `stop()` does.
   */
  async runOnce(options: { signal?: AbortSignal } = {}): Promise<FileRecord[]> {
    options.signal?.throwIfAborted();
    const onAbort = (): void => void this.stop();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#start();
      const results = await Promise.all(this.#pipelines.map((p) => this.#track(p.once())));
      return results.flat();
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The pipeline of each source now: listings and server commands per minute, unsettled folders,
   * whether callbacks are the bottleneck; plus the callback backlog and rate (all sources share
   * the callbacks). For the status page and /metrics.
   */
  pipelineStats(): { sources: PipelineStats[]; callbackBacklog: number; callbacksPerMinute: number } {
    return {
      sources: this.#pipelines.map((p) => p.stats()),
      callbackBacklog: this.#dispatcher?.waiting ?? 0,
      callbacksPerMinute: this.#dispatcher?.callbacksPerMinute() ?? 0,
    };
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

  /** `await using daemon = new FTPDaemon(...)` stops it at the end of the scope. */
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
    const dispatcher = new Dispatcher({
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
    this.#dispatcher = dispatcher;
    const root = this.#options.logger ?? silentLogger();
    this.#sources = this.config.sources.map((config) =>
      createSourceRuntime(
        config,
        this.#log.child({ source: config.name }),
        root,
        this.#options.clientFactory,
      ),
    );
    const fetchContext = this.#fetchContext(ledger);
    const exclusiveLedger = ledger.backend === 'sqlite' && this.#options.ledger === undefined;
    this.#pipelines = this.#sources.map(
      (src) =>
        new SourcePipeline({
          src,
          ledger,
          dispatcher,
          owner: this.#owner,
          leaseMs: this.config.leaseDuration * 1000,
          now: this.#now,
          fetchContext,
          stopRequested: this.#stopRequested.signal,
          abortTransfers: this.#abortTransfers.signal,
          exclusiveLedger,
          onCycle: (event) => this.emit(DAEMON_EVENTS.cycle, event),
        }),
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
    this.#stopDeadline = Date.now() + this.config.stopTimeout * 1000;
    const deadline = setTimeout(
      () => this.#abortTransfers.abort(new AbortedError('stop deadline reached')),
      this.config.stopTimeout * 1000,
    );
    try {
      await Promise.allSettled([...this.#active]);
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

  /** Keeps `work` in the set a stop waits for. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#active.add(work);
    void work.finally(() => this.#active.delete(work)).catch(() => undefined);
    return work;
  }

  /** What `fetchClaim` needs: the ledger, the lease, the stop deadline, and where events go. */
  #fetchContext(ledger: Ledger): FetchContext {
    return {
      ledger,
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
