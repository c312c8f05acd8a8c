/**
 * `downloadFiles` of both clients (FTP and SFTP), written once: `maxConcurrent` transfers at a
 * time through the client's own `receive`, each file made durable (`commit`) while its slot
 * already serves the next one, every failure collected instead of stopping the batch, an async
 * iterable consumed while it still produces, and `maxConcurrent: 'auto'` steered by
 * `AdaptiveConcurrency` (adaptive.ts). How one file travels is the client's business.
 */
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { InvalidArgumentError, toError } from '../errors.js';
import { AdaptiveConcurrency, DEFAULT_AUTO_CAP } from './adaptive.js';
import { startOrder } from './batch-order.js';
import { remoteBaseName } from '../util/remote-path.js';
import type { DataSlotStats } from './data-connection/index.js';
import type {
  DownloadBatch,
  DownloadFailure,
  DownloadFilesOptions,
  DownloadOptions,
  RemoteEntry,
} from './types.js';

export const DEFAULT_MAX_CONCURRENT = 5;
/**
 * Received files that may wait for their fdatasync at once (at least `maxConcurrent`). A disk
 * takes parallel fdatasyncs far faster than one at a time (7 ms vs ~1 ms each here), so a batch
 * lets them pile up a little; a disk slower than the link still holds the transfers back.
 */
const MIN_PENDING_COMMITS = 16;

/** What a batch needs of a client: `downloadFile` in its two halves, and the pool's cap. */
export interface BatchTransport<Part> {
  /** Everything of `downloadFile` that needs the server: a complete `.part`, not yet durable. */
  receive(file: string | RemoteEntry, localDir: string, options: DownloadOptions): Promise<Part>;
  /** Syncs a received `.part` and gives it its final name; resolves to the local path. */
  commit(part: Part): Promise<string>;
  /** The pool's current cap on transfers at once. */
  poolLimit(): number;
  /** Lets the pool run `n` transfers at once (only when the user gave no explicit cap). */
  raiseLimit(n: number): void;
  /**
   * Caps the transfers moving data at once apart from the connections (`undefined` lifts it),
   * returning the lifted cap's stats; absent where set-up cannot overlap (SFTP). See
   * `overlapSetup` and data-connection/slots.ts.
   */
  limitDataTransfers?: (n: number | undefined) => DataSlotStats | undefined;
  /** The user's explicit per-server cap, if any: bounds 'auto' too. */
  explicitCap: number | undefined;
  /** A file's size when known without asking the server (the client's recent listing). */
  knownSize?: (remotePath: string) => number | undefined;
  log: Logger | undefined;
}

type BatchFiles = readonly (string | RemoteEntry)[] | AsyncIterable<string | RemoteEntry>;

export async function runDownloadBatch<Part>(
  transport: BatchTransport<Part>,
  files: BatchFiles,
  localDir: string,
  options: DownloadFilesOptions,
): Promise<DownloadBatch> {
  const requested = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
  const adaptive =
    requested === 'auto' ? adaptiveController(transport.explicitCap, options.autoCap) : undefined;
  const maxConcurrent = adaptive?.concurrency ?? requested;
  if (typeof maxConcurrent !== 'number' || !Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new InvalidArgumentError(
      'maxConcurrent',
      `expected an integer >= 1 or 'auto', got ${String(requested)}`,
    );
  }
  const overlap =
    options.overlapSetup === true && adaptive === undefined && transport.limitDataTransfers !== undefined
      ? (n: number | undefined) => transport.limitDataTransfers?.(n)
      : undefined;
  // Overlapped: one connection per transfer moving data and one setting the next file up.
  const connections = overlap ? maxConcurrent * 2 : maxConcurrent;
  // Without an explicit per-server cap, the caller's concurrency (or the auto cap) is the cap.
  if (transport.explicitCap === undefined) transport.raiseLimit(adaptive?.cap ?? connections);
  const batch = new Batch(transport, localDir, options, connections, adaptive);
  if (overlap) overlap(maxConcurrent);
  try {
    if (Symbol.asyncIterator in files) {
      // A listing still in progress (walkEntries): transfers start while it goes on.
      let i = 0;
      try {
        for await (const file of files) batch.add(file, i++);
      } finally {
        await batch.settled();
      }
    } else if (maxConcurrent > 1 || adaptive !== undefined) {
      // largest and smallest alternately, so that the batch ends on files that finish together (batch-order.ts)
      for (const i of startOrder(files, transport.knownSize)) batch.add(files[i] as string | RemoteEntry, i);
    } else {
      files.forEach((file, i) => batch.add(file, i));
    }
    await batch.settled();
  } finally {
    if (overlap) batch.dataTransfers = overlap(undefined);
  }
  return batch.result();
}

/** The controller of one `'auto'` batch; an explicit `maxConnections` also bounds it. */
function adaptiveController(
  explicitCap: number | undefined,
  autoCap: number | undefined,
): AdaptiveConcurrency {
  const cap = autoCap ?? DEFAULT_AUTO_CAP;
  if (!Number.isInteger(cap) || cap < 1) {
    throw new InvalidArgumentError('autoCap', `expected an integer >= 1, got ${String(autoCap)}`);
  }
  return new AdaptiveConcurrency({ cap: explicitCap === undefined ? cap : Math.min(cap, explicitCap) });
}

/** One running batch: its queue, the commits still going, and the per-file outcomes. */
class Batch<Part> {
  readonly #transport: BatchTransport<Part>;
  readonly #localDir: string;
  readonly #options: DownloadFilesOptions;
  readonly #adaptive: AdaptiveConcurrency | undefined;
  readonly #queue: PQueue;
  /** Local paths by the file's position in the batch (holes where it failed). */
  readonly #results: (string | undefined)[] = [];
  readonly #failures: DownloadFailure[] = [];
  readonly #started: Promise<void>[] = [];
  readonly #commits = new Set<Promise<void>>();
  /**
   * One writer per local file: a batch that names the same file twice (a path and its listed
   * entry, say) takes the copies in turn, so two transfers never share one `.part`.
   */
  readonly #writers = new Map<string, Promise<void>>();
  /** With `overlapSetup`: how many data transfers were in flight. */
  dataTransfers: DataSlotStats | undefined;

  constructor(
    transport: BatchTransport<Part>,
    localDir: string,
    options: DownloadFilesOptions,
    concurrency: number,
    adaptive: AdaptiveConcurrency | undefined,
  ) {
    this.#transport = transport;
    this.#localDir = localDir;
    this.#options = options;
    this.#adaptive = adaptive;
    this.#queue = new PQueue({ concurrency });
  }

  add(file: string | RemoteEntry, i: number): void {
    this.#started.push(this.#queue.add(() => this.#transfer(file, i)));
  }

  /** Every transfer started so far has ended and its file is committed (or failed). */
  async settled(): Promise<void> {
    await Promise.all(this.#started);
    await Promise.all([...this.#commits]);
  }

  result(): DownloadBatch {
    const failures = this.#failures;
    const downloaded = this.#results.filter((p): p is string => p !== undefined);
    return Object.assign(
      downloaded,
      { failures },
      this.#adaptive === undefined ? {} : { concurrency: [...this.#adaptive.steps] },
      this.dataTransfers === undefined ? {} : { dataTransfers: this.dataTransfers },
    );
  }

  async #transfer(file: string | RemoteEntry, i: number): Promise<void> {
    const remotePath = typeof file === 'string' ? file : file.path;
    const fileOptions = this.#fileOptions();
    // A disk slower than the link must not let finished-but-not-durable files pile up.
    while (this.#commits.size >= Math.max(MIN_PENDING_COMMITS, this.#queue.concurrency))
      await Promise.race(this.#commits);
    const release = this.#becomeWriter(remotePath);
    if (release.after !== undefined) await release.after;
    let part: Part;
    try {
      part = await this.#transport.receive(file, this.#localDir, fileOptions);
    } catch (err) {
      release.done();
      this.#fail(remotePath, err);
      return;
    } finally {
      this.#steer();
    }
    // The slot (and the connection) go to the next file while this one is made durable. One
    // promise per file: the outcome, then the clean-up, in the same handlers.
    const commit: Promise<void> = this.#transport.commit(part).then(
      (localPath) => {
        try {
          this.#results[i] = localPath;
          try {
            this.#options.onFileDone?.({ remotePath, localPath });
          } catch (err) {
            this.#fail(remotePath, err);
          }
        } finally {
          this.#commits.delete(commit);
          release.done();
        }
      },
      (err: unknown) => {
        try {
          this.#fail(remotePath, err);
        } finally {
          this.#commits.delete(commit);
          release.done();
        }
      },
    );
    this.#commits.add(commit);
  }

  /** The batch's signal, and with 'auto' a progress hook feeding the controller. */
  #fileOptions(): DownloadOptions {
    const fileOptions: DownloadOptions = {};
    if (this.#options.signal !== undefined) fileOptions.signal = this.#options.signal;
    const adaptive = this.#adaptive;
    if (adaptive !== undefined) {
      let seen = 0;
      fileOptions.onProgress = (bytes) => {
        adaptive.addBytes(bytes - seen);
        seen = bytes;
      };
    }
    return fileOptions;
  }

  /**
   * Makes this transfer the writer of its local name: `after` (when another writer has it) is
   * to be awaited first; `done` lets the next one in. No promise to await in the usual case of
   * a name not taken (an `await` costs a turn of the microtask queue per file).
   */
  #becomeWriter(remotePath: string): { after: Promise<void> | undefined; done: () => void } {
    const target = remoteBaseName(remotePath);
    const after = this.#writers.get(target);
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.#writers.set(target, mine);
    return {
      after,
      done: () => {
        if (this.#writers.get(target) === mine) this.#writers.delete(target);
        release();
      },
    };
  }

  /** With 'auto': one more file ended, so the controller may change the concurrency. */
  #steer(): void {
    if (this.#adaptive === undefined) return;
    const queue = this.#queue;
    const next = this.#adaptive.fileDone(this.#transport.poolLimit(), Date.now(), queue.size > 0);
    if (next !== queue.concurrency) {
      this.#transport.log?.debug({ from: queue.concurrency, to: next }, 'adaptive concurrency');
      queue.concurrency = next;
    }
  }

  #fail(remotePath: string, err: unknown): void {
    const error = toError(err);
    this.#failures.push({ remotePath, error });
    this.#transport.log?.warn({ remotePath, err: error }, 'download failed');
    this.#options.onFileDone?.({ remotePath, error });
  }
}
