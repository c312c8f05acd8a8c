/**
 * The dispatcher: after a download is committed, hands the file to the user's callback and/or
 * the exec hook (its own concurrency limit), then records the outcome in the ledger
 * (`markProcessed`, with the error when one failed). A failure is logged and recorded, never
 * thrown: the daemon goes on. Rows still `downloaded` after a crash are dispatched again on
 * restart, so every file is handed over at least once.
 */
import type { Logger } from 'pino';
import PQueue from 'p-queue';
import { CallbackError, errorMessage } from '../errors.js';
import type { FileRecord, Ledger } from '../ledger/ledger.js';
import { parseRadarFileName, type RadarFileName } from '../radar/filename.js';
import { runExecHook, type ExecHook } from './exec-hook.js';
import { RateWindow } from './rate.js';

export type { ExecHook } from './exec-hook.js';

/** What the callback receives besides the local path. */
export interface DownloadedFile {
  /** Ledger row id of this version. */
  id: number;
  source: string;
  remotePath: string;
  localPath: string;
  size: number;
  /** Remote modification time, when the server gave one. */
  mtime: Date | null;
  /** Download attempts it took. */
  attempts: number;
  /** The parsed radar file name, or null when the name does not follow the convention. */
  radar: RadarFileName | null;
  /** Aborts at the stop deadline (`stopTimeout`); a callback that gives up then is run again after a restart. */
  signal: AbortSignal;
}

/** The user's processing: sync or async; a throw (or rejection) is recorded for that file. */
export type FileCallback = (localPath: string, info: DownloadedFile) => void | Promise<void>;

export interface ProcessedInfo {
  record: FileRecord;
  /** The callback's (or hook's) error, or null. */
  error: CallbackError | null;
  durationMs: number;
}

export interface DispatcherOptions {
  ledger: Ledger;
  callback: FileCallback | undefined;
  exec: ExecHook | null;
  concurrency: number;
  logger: Logger;
  /** Aborted at the stop deadline. */
  signal: AbortSignal;
  onProcessed: (info: ProcessedInfo) => void;
  now: () => number;
}

export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #queue: PQueue;
  /** Row ids queued or running, so a pending row is never dispatched twice at once. */
  readonly #inFlight = new Map<number, Promise<void>>();
  /** Callbacks finished, for the callback rate. */
  readonly #finished = new RateWindow();
  readonly #since = Date.now();

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#queue = new PQueue({ concurrency: options.concurrency });
  }

  /** Callbacks (and hooks) run at once at most. */
  get concurrency(): number {
    return this.#o.concurrency;
  }

  /** Callbacks finished per minute over the last minute. */
  callbacksPerMinute(): number {
    return this.#finished.perMinute(Date.now(), this.#since);
  }

  /** True when neither a callback nor a hook is configured: rows are marked processed at once. */
  get hasHandlers(): boolean {
    return this.#o.callback !== undefined || this.#o.exec !== null;
  }

  get running(): number {
    return this.#queue.pending;
  }

  get waiting(): number {
    return this.#queue.size;
  }

  /** Queues one downloaded row; resolves when it has been processed (never rejects). */
  dispatch(record: FileRecord): Promise<void> {
    const existing = this.#inFlight.get(record.id);
    if (existing !== undefined) return existing;
    const done = this.#queue
      .add(() => this.#processIfOwed(record))
      .catch((err: unknown) => {
        // Only a ledger failure gets here; the row stays `downloaded` and is retried next cycle.
        this.#o.logger.error(
          { err, remotePath: record.remotePath, id: record.id },
          'cannot record callback outcome',
        );
      })
      .finally(() => this.#inFlight.delete(record.id));
    this.#inFlight.set(record.id, done);
    return done;
  }

  isInFlight(id: number): boolean {
    return this.#inFlight.has(id);
  }

  /** Resolves when fewer than `n` dispatches are waiting to start. */
  async onWaitingBelow(n: number): Promise<void> {
    await this.#queue.onSizeLessThan(n);
  }

  /** Resolves when every queued dispatch has finished. */
  async onIdle(): Promise<void> {
    await this.#queue.onIdle();
  }

  /** Drops dispatches that have not started (they stay `downloaded` and run after a restart). */
  clearWaiting(): void {
    this.#queue.clear();
  }

  /**
   * Hands the row over unless it is no longer `downloaded`. The callbacks-owed sweep reads its
   * rows before it dispatches them: a row that the download path committed meanwhile may be
   * dispatched by both, one after the other (`#inFlight` only joins overlapping dispatches), and
   * the later one holds a stale `downloaded` copy. The ledger, read after the earlier dispatch
   * recorded its outcome, says whether the file is still owed.
   */
  async #processIfOwed(record: FileRecord): Promise<void> {
    const current = await this.#o.ledger.get(record.id);
    if (current?.state !== 'downloaded') return;
    await this.#process(current);
  }

  async #process(record: FileRecord): Promise<void> {
    const { callback, exec, logger, ledger, signal } = this.#o;
    const started = Date.now();
    const localPath = record.localPath ?? '';
    const info: DownloadedFile = {
      id: record.id,
      source: record.source,
      remotePath: record.remotePath,
      localPath,
      size: record.size,
      mtime: record.mtime === null ? null : new Date(record.mtime),
      attempts: record.attempts,
      radar: parseRadarFileName(record.remotePath),
      signal,
    };
    let error: CallbackError | null = null;
    try {
      if (callback !== undefined) await callback(localPath, info);
      if (exec !== null) await runExecHook(exec, info, signal);
    } catch (err) {
      error =
        err instanceof CallbackError ? err : new CallbackError(localPath, errorMessage(err), { cause: err });
      logger.warn({ err: error, remotePath: record.remotePath, localPath, id: record.id }, 'callback failed');
    }
    if (signal.aborted && error !== null) {
      // Stopped mid-callback: leave the row `downloaded` so the next start hands it over again.
      return;
    }
    this.#finished.add(1, Date.now());
    await ledger.markProcessed(record.id, error === null ? null : error.message, { now: this.#o.now() });
    this.#o.onProcessed({ record, error, durationMs: Date.now() - started });
  }
}
