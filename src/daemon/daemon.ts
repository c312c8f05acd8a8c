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
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import PQueue from 'p-queue';
import { AdaptiveConcurrency } from '../ftp/adaptive.js';
import {
  AbortedError,
  FtpError,
  InvalidArgumentError,
  LeaseLostError,
  RadarlibError,
  UnsafePathError,
} from '../errors.js';
import { AsyncFTPClient } from '../ftp/client.js';
import type { Claim, FileRecord, Ledger } from '../ledger/ledger.js';
import { openLedger } from '../ledger/open.js';
import { DAEMON_EVENTS, LOG_MESSAGES } from '../observe/events.js';
import { silentLogger } from '../observe/log.js';
import { renderTemplate } from '../radar/template.js';
import { backoffDelayMs } from './backoff.js';
import {
  isResolvedConfig,
  resolveDaemonConfig,
  type DaemonConfig,
  type FTPDaemonConfig,
  type SourceConfig,
} from './config.js';
import { Dispatcher, type FileCallback, type ProcessedInfo } from './dispatch.js';
import { SourceLister, type DaemonFtpClient } from './lister.js';

/** The `downloaded` event: a file was committed under its final name and recorded. */
export interface DownloadedEvent {
  source: string;
  record: FileRecord;
  localPath: string;
  durationMs: number;
}

/** The `retry` and `failed` events: a download attempt failed (retried later, or parked). */
export interface FailedEvent {
  source: string;
  remotePath: string;
  /** Attempts made so far, this one included. */
  attempts: number;
  error: Error;
  /** When the next attempt may start (`retry`), or null (`failed`: parked). */
  retryAt: number | null;
}

/** The `processed` event: the callback (or exec hook) finished for one file. */
export interface ProcessedEvent {
  source: string;
  record: FileRecord;
  error: Error | null;
  durationMs: number;
}

/** The `cycle` event: one poll cycle of one source finished. */
export interface CycleEvent {
  source: string;
  /** 1-based cycle number of this source in this process. */
  cycle: number;
  durationMs: number;
  /** Files the listing returned (after filters). */
  listed: number;
  /** LIST commands of a radar-tree walk (0 for flat/recursive). */
  listings: number;
  /** New rows (files or versions) and rows that became ready. */
  added: number;
  becameReady: number;
  downloaded: number;
  failed: number;
  /** The listing was skipped: another instance holds this source's lock. */
  skippedListing: boolean;
  /** Set when listing failed (downloads of already-ready files still ran). */
  error: Error | null;
}

/** Typed events: `daemon.on('downloaded', (e) => ...)`. */
export interface DaemonEvents {
  downloaded: [DownloadedEvent];
  retry: [FailedEvent];
  failed: [FailedEvent];
  processed: [ProcessedEvent];
  cycle: [CycleEvent];
}

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
  clientFactory?: (source: SourceConfig, logger: Logger) => DaemonFtpClient;
  /** Clock (epoch ms), for tests. @default Date.now */
  now?: () => number;
}

/** Options of {@link FTPDaemon.run}. */
export interface RunOptions {
  /** Cycles per source before `run` returns (then the daemon is stopped). @default forever */
  maxIterations?: number;
  /** Aborting it stops the daemon gracefully (like `stop()`). */
  signal?: AbortSignal;
}

interface SourceRuntime {
  config: SourceConfig;
  client: DaemonFtpClient;
  lister: SourceLister;
  queue: PQueue;
  log: Logger;
  /** With `maxConcurrentDownloads: 'auto'`: measures throughput and sets the slots. */
  adaptive: AdaptiveConcurrency | null;
  /** Tail of this source's cycle chain: cycles never overlap. */
  chain: Promise<unknown>;
  cycles: number;
}

/** How often a running cycle returns expired claims (a dead instance's) to `ready`. */
const RECLAIM_EVERY_MS = 1000;

/** How many local paths `getProcessedFiles()` keeps. */
const PROCESSED_KEPT = 10_000;

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function errorText(err: Error): string {
  return err instanceof RadarlibError ? `${err.code}: ${err.message}` : `${err.name}: ${err.message}`;
}

/** Errors no retry can fix. */
function isPermanent(err: Error): boolean {
  return err instanceof UnsafePathError || err instanceof InvalidArgumentError;
}

/**
 * A controller aborted when any parent aborts; `dispose()` unhooks it. (Not AbortSignal.any: its
 * followers live as long as the long-lived parent on Node 20, and the daemon runs for months.)
 */
function linkedController(parents: readonly AbortSignal[]): {
  signal: AbortSignal;
  controller: AbortController;
  dispose(): void;
} {
  const controller = new AbortController();
  const hooks: [AbortSignal, () => void][] = [];
  for (const parent of parents) {
    if (parent.aborted) {
      controller.abort(parent.reason);
      break;
    }
    const onAbort = (): void => controller.abort(parent.reason);
    parent.addEventListener('abort', onAbort, { once: true });
    hooks.push([parent, onAbort]);
  }
  return {
    signal: controller.signal,
    controller,
    dispose: () => {
      for (const [parent, onAbort] of hooks) parent.removeEventListener('abort', onAbort);
    },
  };
}

/** Waits for `promise` (its rejection ignored) or for `signal` to abort, whichever is first. */
async function untilAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort = (): void => undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise.catch(() => undefined), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Resolves after `ms`, or early when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The unattended download service: polls one or many FTP sources, takes every new file once
 * (stable size, persistent ledger, atomic commit), hands it to your callback, retries failures
 * with backoff, and survives restarts and crashes. Typed events: `downloaded`, `retry`, `failed`,
 * `processed`, `cycle`. See docs/DAEMON.md.
 *
 * @example
 * ```ts
 * import { FTPDaemon } from 'radarlib';
 *
 * const daemon = new FTPDaemon(
 *   { host: 'ftp.example.com', username: 'user', password: 'pass', remotePath: '/L2', localDir: './data' },
 *   { onFileDownloaded: async (localPath, info) => console.log(info.remotePath, '->', localPath) },
 * );
 * daemon.on('failed', (e) => console.error(e.remotePath, e.error.message));
 * process.once('SIGTERM', () => void daemon.stop());
 * await daemon.run();
 * ```
 */
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
    const ledger = this.#options.ledger ?? (await openLedger(this.config.ledger));
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
    this.#sources = this.config.sources.map((config) => {
      const log = this.#log.child({ source: config.name });
      const client = this.#options.clientFactory?.(config, root) ?? createClient(config, root);
      return {
        config,
        client,
        lister: new SourceLister(config, client),
        queue: new PQueue({
          concurrency:
            config.maxConcurrentDownloads === 'auto'
              ? config.autoConcurrencyCap
              : config.maxConcurrentDownloads,
        }),
        adaptive:
          config.maxConcurrentDownloads === 'auto'
            ? new AdaptiveConcurrency({ cap: config.autoConcurrencyCap })
            : null,
        log,
        chain: Promise.resolve(),
        cycles: 0,
      };
    });
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
      const result = await ledger.withSourceLock(src.config.name, async () => {
        const listing = await src.lister.list(this.#now(), signal);
        const observed = await ledger.observe(src.config.name, listing.files, {
          now: this.#now(),
          minAgeMs: src.config.minAge * 1000,
        });
        return { listing, observed };
      });
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
    const fixedSlots = src.config.maxConcurrentDownloads;
    const slotsNow = (): number => (fixedSlots === 'auto' ? (src.adaptive?.concurrency ?? 1) : fixedSlots);
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
          const outcome = await this.#fetch(src, claim);
          if (outcome === 'failed') event.failed++;
          else if (outcome !== null) onDone(outcome);
        });
      }
      if (claims.length < slots - busy) break;
    }
    await queue.onIdle();
  }

  /** With 'auto': feeds each transfer's received bytes to the source's controller. */
  #progressFeed(src: SourceRuntime): { onProgress?: (bytes: number) => void } {
    const adaptive = src.adaptive;
    if (adaptive === null) return {};
    let seen = 0;
    return {
      onProgress: (bytes) => {
        adaptive.addBytes(Math.max(0, bytes - seen));
        seen = bytes;
      },
    };
  }

  /** Downloads one claimed row and records the outcome. Never throws. */
  async #fetch(src: SourceRuntime, claim: Claim): Promise<FileRecord | 'failed' | null> {
    const ledger = this.#ledger as Ledger;
    const rec = claim.record;
    const started = Date.now();
    const leaseMs = this.config.leaseDuration * 1000;
    const link = linkedController([this.#abortTransfers.signal]);
    const lease = link.controller;
    const signal = link.signal;
    const renew = setInterval(
      () => {
        ledger.renewLease(claim, { now: this.#now(), leaseMs }).then(
          (ok) => {
            if (!ok) lease.abort(new LeaseLostError(rec.remotePath));
          },
          (err: unknown) => src.log.warn({ err, remotePath: rec.remotePath }, 'cannot renew lease'),
        );
      },
      Math.max(1000, leaseMs / 3),
    );
    try {
      const name = rec.remotePath.slice(rec.remotePath.lastIndexOf('/') + 1);
      const target = renderTemplate(src.config.localLayout, {
        source: src.config.name,
        remotePath: rec.remotePath,
        remoteRoot: src.config.remotePath,
        fallbackTime: new Date(rec.mtime ?? this.#now()),
      });
      const localDir = join(src.config.localDir, target.dir);
      const localPath = await src.client.downloadFile(
        {
          path: rec.remotePath,
          name,
          size: rec.size,
          modifiedAt: rec.mtime === null ? null : new Date(rec.mtime),
        },
        localDir,
        { localName: target.name, expectedSize: rec.size, signal, ...this.#progressFeed(src) },
      );
      src.adaptive?.fileDone(src.client.poolStats?.limit ?? Infinity, Date.now(), src.queue.size > 0);
      const done = await ledger.complete(claim, localPath, { now: this.#now() });
      this.#processed.push(localPath);
      this.#downloadedTotal++;
      if (this.#processed.length > PROCESSED_KEPT)
        this.#processed.splice(0, this.#processed.length - PROCESSED_KEPT);
      const durationMs = Date.now() - started;
      src.log.info(
        { remotePath: rec.remotePath, localPath, size: rec.size, durationMs },
        LOG_MESSAGES.downloaded,
      );
      this.emit(DAEMON_EVENTS.downloaded, { source: src.config.name, record: done, localPath, durationMs });
      return done;
    } catch (caught) {
      const err = toError(caught);
      if (this.#abortTransfers.signal.aborted) {
        // Stopping: the row stays `downloading`; the next start resumes it (its .part is kept).
        src.log.info({ remotePath: rec.remotePath }, 'download cancelled by stop');
        return null;
      }
      if (err instanceof LeaseLostError || signal.reason instanceof LeaseLostError) {
        src.log.warn({ remotePath: rec.remotePath }, LOG_MESSAGES.leaseLost);
        return null;
      }
      const attempts = rec.attempts + 1;
      const final = isPermanent(err) || attempts >= src.config.maxAttempts;
      const retryAt = final ? null : this.#now() + backoffDelayMs(src.config.backoff, attempts);
      try {
        const kept = await ledger.fail(claim, errorText(err), { now: this.#now(), retryAt });
        if (!kept) return null;
      } catch (ledgerErr) {
        src.log.error({ err: ledgerErr, remotePath: rec.remotePath }, 'cannot record the failure');
        return null;
      }
      const info: FailedEvent = {
        source: src.config.name,
        remotePath: rec.remotePath,
        attempts,
        error: err,
        retryAt,
      };
      if (final) {
        src.log.error({ err, remotePath: rec.remotePath, attempts }, LOG_MESSAGES.failed);
        this.emit(DAEMON_EVENTS.failed, info);
      } else {
        src.log.warn(
          { err, remotePath: rec.remotePath, attempts, retryAt: new Date(retryAt ?? 0) },
          LOG_MESSAGES.retry,
        );
        this.emit(DAEMON_EVENTS.retry, info);
      }
      return 'failed';
    } finally {
      clearInterval(renew);
      link.dispose();
    }
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

function createClient(source: SourceConfig, logger: Logger): DaemonFtpClient {
  return new AsyncFTPClient({
    host: source.host,
    port: source.port,
    username: source.username,
    password: source.password,
    secure: source.secure,
    ...(source.tls === null ? {} : { tls: source.tls }),
    epsv: source.epsv,
    maxConnections: source.maxConnections,
    timeouts: {
      connectMs: source.timeouts.connect * 1000,
      commandMs: source.timeouts.command * 1000,
      dataStallMs: source.timeouts.dataStall * 1000,
    },
    logger,
  });
}
