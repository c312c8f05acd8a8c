/**
 * The dispatcher: after a download is committed, hands the file to the user's callback and/or
 * the exec hook (its own concurrency limit), then records the outcome in the ledger
 * (`markProcessed`, with the error when one failed). A failure is logged and recorded, never
 * thrown: the daemon goes on. Rows still `downloaded` after a crash are dispatched again on
 * restart, so every file is handed over at least once.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import PQueue from 'p-queue';
import { CallbackError } from '../errors.js';
import type { FileRecord, Ledger } from '../ledger/ledger.js';
import { parseRadarFileName, type RadarFileName } from '../radar/filename.js';

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

/**
 * A program run for every committed file (like LDM's EXEC); a non-zero exit is recorded as
 * that file's callback error.
 */
export interface ExecHook {
  /**
   * Argument vector (no shell): `{path}`, `{remotePath}`, `{source}`, `{name}` are replaced in
   * each argument. A single string runs through `/bin/sh -c` with the values only in the
   * environment (`RADAR_FILE`, `RADAR_REMOTE_PATH`, `RADAR_SOURCE`, `RADAR_SIZE`), never
   * spliced into the command text.
   */
  command: string | string[];
  /** Seconds before the command is killed. */
  timeout: number;
}

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

const STDERR_TAIL = 2000;

/** Runs the exec hook for one file; rejects with a message when it fails or times out. */
export function runExecHook(hook: ExecHook, file: DownloadedFile, signal: AbortSignal): Promise<void> {
  const name = file.remotePath.slice(file.remotePath.lastIndexOf('/') + 1);
  const values: Record<string, string> = {
    path: file.localPath,
    remotePath: file.remotePath,
    source: file.source,
    name,
  };
  const env = {
    ...process.env,
    RADAR_FILE: file.localPath,
    RADAR_REMOTE_PATH: file.remotePath,
    RADAR_SOURCE: file.source,
    RADAR_SIZE: String(file.size),
  };
  const [cmd, args, shell] =
    typeof hook.command === 'string'
      ? ['/bin/sh', ['-c', hook.command], true]
      : [
          hook.command[0] ?? '',
          hook.command
            .slice(1)
            .map((a) => a.replace(/\{(path|remotePath|source|name)\}/g, (_m, k: string) => values[k] ?? '')),
          false,
        ];
  return new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      signal,
      timeout: hook.timeout * 1000,
      killSignal: 'SIGTERM',
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    child.on('error', (err) => reject(new Error(`exec hook ${shell ? 'shell ' : ''}${cmd}: ${err.message}`)));
    child.on('close', (code, sig) => {
      if (code === 0) return resolve();
      const how = sig !== null ? `killed by ${sig}` : `exit code ${String(code)}`;
      const tail = stderr.trim() === '' ? '' : `: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
      reject(new Error(`exec hook ${how}${tail}`));
    });
  });
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #queue: PQueue;
  /** Row ids queued or running, so a pending row is never dispatched twice at once. */
  readonly #inFlight = new Map<number, Promise<void>>();

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#queue = new PQueue({ concurrency: options.concurrency });
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
      .add(() => this.#process(record))
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
        err instanceof CallbackError ? err : new CallbackError(localPath, errorText(err), { cause: err });
      logger.warn({ err: error, remotePath: record.remotePath, localPath, id: record.id }, 'callback failed');
    }
    if (signal.aborted && error !== null) {
      // Stopped mid-callback: leave the row `downloaded` so the next start hands it over again.
      return;
    }
    await ledger.markProcessed(record.id, error === null ? null : error.message, { now: this.#o.now() });
    this.#o.onProcessed({ record, error, durationMs: Date.now() - started });
  }
}
