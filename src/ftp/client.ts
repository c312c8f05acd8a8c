/**
 * AsyncFTPClient: the Python radarlib client's API, with real parallelism, atomic downloads,
 * timeouts and cancellation. Every method borrows a connection from the pool, so concurrent
 * calls on one client run in parallel up to the server's connection cap.
 */
import type { FileInfo } from 'basic-ftp';
import type { Logger } from 'pino';
import {
  FtpReplyError,
  FtpSizeMismatchError,
  InvalidArgumentError,
  type FtpErrorContext,
} from '../errors.js';
import { throwIfAborted } from '../util/abort.js';
import { runDownloadBatch } from './batch.js';
import { resolveServer, type ResolvedServer } from './connection.js';
import { STAT_UNKNOWN, statFolders, statSafePath, type StatOutcome } from './control-listing.js';
import { commitInBatch, commitPart, receivePart, type ReceivedPart } from './download.js';
import { ListedSizes } from './listed-sizes.js';
import { listFolder, toDirEntry, type DirEntry } from './listing.js';
import { FtpConnectionPool, type PoolStats } from './pool.js';
import { localNameForDownload } from './safe-name.js';
import { StatBatcher } from './stat-batch.js';
import type {
  AsyncFTPClientOptions,
  ConnectOptions,
  DownloadBatch,
  DownloadFilesOptions,
  DownloadOptions,
  ListDirOptions,
  ListOptions,
  RemoteEntry,
  SignalOption,
} from './types.js';
import { listMatching, walkMatching, type ListDir, type WalkNeeds } from './walk.js';

/** Extra attempts of one file after a transient (4xx) reply. */
const TRANSIENT_REPLY_RETRIES = 2;

/**
 * An FTP/FTPS client with a pool of logged-in connections, so that `maxConcurrent` transfers
 * really run in parallel; glob listings; atomic, resumable downloads; timeouts and `AbortSignal`
 * on every call. Errors are typed ({@link RadarlibError} subclasses).
 *
 * @example
 * ```ts
 * import { AsyncFTPClient } from 'radarlib/ftp';
 *
 * const client = new AsyncFTPClient({ host: 'ftp.example.com', username: 'user', password: 'pass' });
 * await client.connect();
 * const files = await client.listFiles('/L2/RMA1', { pattern: '**\/*_DBZH_*.BUFR', recursive: true });
 * const batch = await client.downloadFiles(files, './data', { maxConcurrent: 4 });
 * for (const f of batch.failures) console.error(f.remotePath, f.error.message);
 * await client.disconnect();
 * ```
 */
export class AsyncFTPClient implements AsyncDisposable {
  readonly #server: ResolvedServer;
  readonly #log: Logger | undefined;
  readonly #explicitCap: boolean;
  #pool: FtpConnectionPool;
  /** The client-wide cap on data transfers (`maxDataTransfers`), if any. */
  readonly #maxDataTransfers: number | undefined;
  /** Sizes from this client's recent listings (see #receive). */
  readonly #listedSizes = new ListedSizes();
  /** False once the server answered STAT with a path as an unknown command (see #statList). */
  #statWorks = true;
  /** A walk's sibling folders asked for in one turn: their STATs grouped per connection. */
  readonly #statBatch = new StatBatcher<{ outcome: StatOutcome; mlsd: boolean }>(
    (paths, signal) =>
      this.#pool.use(
        async (client) => {
          const mlsd = client.availableListCommands[0] === 'MLSD';
          return (await statFolders(client.ftp, paths)).map((outcome) => ({ outcome, mlsd }));
        },
        this.#ctx('STAT', paths[0]),
        signal,
        true, // ahead of queued transfers, as #listDir
      ),
    // the connections that can take a group now: idle ones not opening a data connection (a
    // STAT there waits for that set-up) and those the cap still allows
    () => {
      const { idle, preparingIdle, open, limit } = this.#pool.stats;
      return idle - preparingIdle + Math.max(0, limit - open);
    },
  );

  /**
   * @example new AsyncFTPClient('ftp.example.com', 'user', 'pass')        // port 21
   * @example new AsyncFTPClient({ host, username, password, secure: 'explicit', maxConnections: 8 })
   */
  constructor(host: string, username?: string, password?: string, port?: number);
  constructor(options: AsyncFTPClientOptions);
  constructor(
    hostOrOptions: string | AsyncFTPClientOptions,
    username?: string,
    password?: string,
    port?: number,
  ) {
    const options: AsyncFTPClientOptions =
      typeof hostOrOptions === 'string'
        ? {
            host: hostOrOptions,
            ...(username === undefined ? {} : { username }),
            ...(password === undefined ? {} : { password }),
            ...(port === undefined ? {} : { port }),
          }
        : hostOrOptions;
    if (typeof options.host !== 'string' || options.host === '') {
      throw new InvalidArgumentError('host', 'a non-empty host name is required');
    }
    for (const key of ['maxConnections', 'maxDataTransfers'] as const) {
      const n = options[key];
      if (n !== undefined && !(Number.isInteger(n) && n >= 1)) {
        throw new InvalidArgumentError(key, `expected an integer >= 1, got ${String(n)}`);
      }
    }
    this.#server = resolveServer(options);
    this.#explicitCap = options.maxConnections !== undefined;
    this.#log = options.logger?.child({ module: 'ftp', host: this.#server.host, port: this.#server.port });
    this.#maxDataTransfers = options.maxDataTransfers;
    this.#pool = this.#newPool();
  }

  #newPool(): FtpConnectionPool {
    const pool = new FtpConnectionPool(this.#server, this.#log);
    pool.limitDataTransfers(this.#maxDataTransfers);
    return pool;
  }

  /** The server host name or address. */
  get host(): string {
    return this.#server.host;
  }

  /** The server port. */
  get port(): number {
    return this.#server.port;
  }

  /** Connections open, idle, busy, the current cap, and the peak in use. */
  get poolStats(): PoolStats {
    return this.#pool.stats;
  }

  /** Commands sent to the server since this client was made, by all its connections (logins included). */
  get commandsSent(): number {
    return this.#server.sent.commands;
  }

  #ctx(command: string, remotePath?: string): FtpErrorContext {
    return {
      host: this.#server.host,
      port: this.#server.port,
      command,
      ...(remotePath === undefined ? {} : { remotePath }),
    };
  }

  /**
   * Opens and logs in the first connection (or `connections` of them, in parallel), so bad
   * credentials or an unreachable server show up here rather than at the first listing. Reopens
   * the pool after `disconnect()`.
   */
  async connect(options: ConnectOptions = {}): Promise<void> {
    if (this.#pool.closed) this.#pool = this.#newPool();
    const n = options.connections ?? 1;
    if (!Number.isInteger(n) || n < 1) {
      throw new InvalidArgumentError('connections', `expected an integer >= 1, got ${String(n)}`);
    }
    if (!this.#explicitCap) this.#pool.raiseLimit(n);
    // In parallel: on a 50 ms link one login is ~9 round trips (0.45 s), so opening the
    // connections a batch will use while the first listing runs saves that much per level.
    await Promise.all(
      Array.from({ length: n }, () =>
        this.#pool.use(async () => undefined, this.#ctx('connect'), options.signal),
      ),
    );
  }

  /** Waits for running operations, then closes every connection. Idempotent. */
  async disconnect(): Promise<void> {
    await this.#pool.close();
  }

  /** Aborts running operations (they reject) and closes every connection at once. */
  destroy(): void {
    this.#pool.destroy();
  }

  /** `await using client = new AsyncFTPClient(...)` disconnects at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.disconnect();
  }

  /**
   * One folder's files and sub-folders (no pattern), with size and modification time. With
   * `onDataEnd`, a tree walk can start the sub-folders' listings a round trip earlier (see
   * `ListDirOptions`).
   */
  listDir(path: string, options: ListDirOptions = {}): Promise<DirEntry[]> {
    return this.#listDir(path, options, options.onDataEnd);
  }

  /**
   * Announces a walk of many listings whose folders are not known yet (what `listFiles` with
   * `recursive` does on its own): until the returned function is called, connections are logged
   * in up to `maxConnections` in the background and each idle one opens its next data
   * connection, so a listing handed to it costs one round trip instead of three on a long link.
   * For a caller walking a tree with `listDir` (the daemon's first walk); call the returned
   * function when the walk ends (idempotent). Unused data connections close after a few seconds.
   */
  expectListings(): () => void {
    return this.#pool.expectTransfers();
  }

  /** `listDir`; `onDataEnd` gets the entries before the server confirmed them (listing.ts listFolder). */
  async #listDir(
    path: string,
    options: SignalOption,
    onDataEnd?: (entries: DirEntry[]) => void,
  ): Promise<DirEntry[]> {
    throwIfAborted(options.signal, `listing ${path}`);
    const now = new Date();
    const base = path === '' ? '.' : path;
    const early =
      onDataEnd === undefined
        ? undefined
        : (infos: FileInfo[]) => onDataEnd(infos.flatMap((info) => toDirEntry(base, info, now) ?? []));
    const infos = await this.#pool.use(
      (client) => listFolder(client, path, early),
      this.#ctx('LIST', path),
      options.signal,
      true, // ahead of queued transfers: see FtpConnectionPool #priorityWaiters
    );
    const entries = infos.flatMap((info) => toDirEntry(base, info, now) ?? []);
    for (const e of entries) if (e.type === 'file') this.#listedSizes.remember(e.path, e.size, now.getTime());
    return entries;
  }

  /**
   * Files under `path` whose path relative to it matches `pattern`, with size and mtime.
   * Recursive walks list sub-folders in parallel (bounded by the pool).
   */
  listEntries(path: string, options: ListOptions = {}): Promise<RemoteEntry[]> {
    return this.#listMatching(path, options, 'entries');
  }

  async #listMatching(path: string, options: ListOptions, needs: WalkNeeds): Promise<RemoteEntry[]> {
    const end = this.#expectListings(options);
    try {
      return await listMatching(this.#walkLister(options), path, options, needs);
    } finally {
      end();
    }
  }

  /**
   * The files of `listEntries`, yielded as soon as their folder is listed (unsorted), so that
   * `downloadFiles(client.walkEntries(...), dir)` starts transferring while deeper folders of a
   * date tree are still being listed. On a 50 ms link a 7-level radar tree takes seconds to list.
   */
  async *walkEntries(path: string, options: ListOptions = {}): AsyncGenerator<RemoteEntry> {
    const end = this.#expectListings(options);
    try {
      yield* walkMatching(this.#walkLister(options), path, options);
    } finally {
      end();
    }
  }

  /** A recursive walk: the pool logs in and readies connections for its next folders. */
  #expectListings(options: ListOptions): () => void {
    return options.recursive === true && options.prepareConnections !== false
      ? this.#pool.expectTransfers()
      : () => undefined;
  }

  /**
   * A walk's folder lister: its quick listings by STAT on the control connection (one round trip,
   * no data connection) in a recursive walk that prepares connections, unless `controlListing`
   * is false. The daemon's walks (`prepareConnections: false`) keep MLSD's exact times.
   */
  #walkLister(options: ListOptions): ListDir {
    const stat =
      options.recursive === true && options.prepareConnections !== false && options.controlListing !== false;
    return (dir, o, early, exactFor) =>
      stat && exactFor !== undefined ? this.#statList(dir, o, early, exactFor) : this.#listDir(dir, o, early);
  }

  /**
   * One folder by STAT (control-listing.ts); by MLSD/LIST (`#listDir`) when the path cannot go
   * by STAT, when STAT gave nothing to trust (refused, unusable) and when it came back empty:
   * vsftpd and Pure-FTPd answer a missing folder with an empty listing, and a missing or
   * unreadable folder must fail as it does with MLSD, not look empty. Also by MLSD when an entry
   * passes `exactFor` and the server has MLSD (its exact times; else LIST's are STAT's).
   */
  async #statList(
    path: string,
    options: SignalOption,
    onDataEnd: ((entries: DirEntry[]) => void) | undefined,
    exactFor: (entry: DirEntry) => boolean,
  ): Promise<DirEntry[]> {
    if (!this.#statWorks || !statSafePath(path)) return this.#listDir(path, options, onDataEnd);
    throwIfAborted(options.signal, `listing ${path}`);
    const now = new Date();
    let outcome: StatOutcome;
    let mlsd = false;
    try {
      ({ outcome, mlsd } = await this.#statBatch.stat(path, options.signal));
    } catch (err) {
      if (options.signal?.aborted === true) throw err;
      // The connection failed inside STAT (closed, no reply in time: perhaps a server that
      // ignores the sentinel's REST): this client lists with MLSD from now on.
      this.#log?.debug({ path, err }, 'STAT listing failed: listing by data connection');
      outcome = { kind: 'refused', code: 500 };
    }
    if (outcome.kind === 'refused' && STAT_UNKNOWN.includes(outcome.code)) this.#statWorks = false;
    if (outcome.kind !== 'listing') return this.#listDir(path, options, onDataEnd);
    const entries = outcome.infos.flatMap((info) => toDirEntry(path, info, now) ?? []);
    if (mlsd && entries.some(exactFor)) return this.#listDir(path, options, onDataEnd);
    for (const e of entries) if (e.type === 'file') this.#listedSizes.remember(e.path, e.size, now.getTime());
    return entries;
  }

  /**
   * Remote paths of the matching files (the Python original's `list_files`). Only names and
   * sizes are kept, so a recursive walk lists every folder by STAT where it can (`controlListing`).
   */
  async listFiles(path: string, options: ListOptions = {}): Promise<string[]> {
    return (await this.#listMatching(path, options, 'names')).map((e) => e.path);
  }

  /**
   * The file's modification time by MDTM (RFC 3659: always UTC), or null when the server does
   * not support MDTM (500/502/504; a missing file's 550 is thrown). The daemon compares it with the LIST time of the same file to
   * learn the zone a LIST-only server renders its times in.
   */
  async lastModified(remotePath: string, options: SignalOption = {}): Promise<Date | null> {
    try {
      return await this.#pool.use(
        (client) => client.lastMod(remotePath),
        this.#ctx('MDTM', remotePath),
        options.signal,
      );
    } catch (err) {
      if (err instanceof FtpReplyError && [500, 502, 504].includes(err.replyCode)) return null;
      throw err;
    }
  }

  /**
   * True when `remotePath` is an existing file (SIZE answers 213), false on a 5xx reply. Only the
   * reply code is read: some servers put text instead of a number after 213.
   */
  async checkFileExists(remotePath: string, options: SignalOption = {}): Promise<boolean> {
    try {
      const reply = await this.#pool.use(
        (client) => client.send(`SIZE ${remotePath}`),
        this.#ctx('SIZE', remotePath),
        options.signal,
      );
      return reply.code === 213;
    } catch (err) {
      if (err instanceof FtpReplyError && err.replyCode >= 500) return false;
      throw err;
    }
  }

  /**
   * Downloads one file into `localDir` (created if missing) and returns the local path. The file
   * appears under its final name only when complete (see download.ts).
   */
  async downloadFile(
    remote: string | RemoteEntry,
    localDir: string,
    options: DownloadOptions = {},
  ): Promise<string> {
    const part = await this.#receive(remote, localDir, options);
    try {
      options.onReceived?.();
    } catch (err) {
      // (a bug of the caller's) the file fails as a local error would: its `.part` is closed, kept
      await part.written?.catch(() => undefined);
      await part.handle?.close();
      throw err;
    }
    return commitPart(part);
  }

  /** Everything of `downloadFile` that needs the server: the complete `.part`, not yet durable. */
  async #receive(
    remote: string | RemoteEntry,
    localDir: string,
    options: DownloadOptions,
  ): Promise<ReceivedPart> {
    const remotePath = typeof remote === 'string' ? remote : remote.path;
    const localName = localNameForDownload(remote, options.localName);
    throwIfAborted(options.signal, `downloading ${remotePath}`);
    const ctx = this.#ctx('RETR', remotePath);
    let knownSize = options.expectedSize ?? (typeof remote === 'string' ? undefined : remote.size);
    // A bare path this client listed a moment ago (listFiles, the README's way): the listing's
    // size spares a SIZE round trip per file. If the file changed since, the byte count says so
    // and the file is fetched once more with SIZE.
    let fromListing = false;
    if (knownSize === undefined) {
      knownSize = this.#listedSizes.get(remotePath);
      fromListing = knownSize !== undefined;
    }
    const modifiedAt = typeof remote === 'string' ? null : remote.modifiedAt;
    // A 4xx reply is transient by definition (RFC 959 4.2), e.g. `425 EPSV: Address already in
    // use` when the server's passive port is still in TIME_WAIT: try again, on the same
    // connection, resuming any `.part`. Bounded; 5xx replies and socket errors are not retried.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#downloadOnce(remotePath, localDir, localName, knownSize, modifiedAt, options, ctx);
      } catch (err) {
        if (fromListing && err instanceof FtpSizeMismatchError) {
          fromListing = false;
          knownSize = undefined;
          continue;
        }
        const transient =
          err instanceof FtpReplyError &&
          err.replyCode >= 400 &&
          err.replyCode < 500 &&
          err.replyCode !== 421;
        if (!transient || attempt > TRANSIENT_REPLY_RETRIES || options.signal?.aborted === true) throw err;
        this.#log?.debug({ remotePath, replyCode: err.replyCode, attempt }, 'transient reply: retrying');
      }
    }
  }

  #downloadOnce(
    remotePath: string,
    localDir: string,
    localName: string,
    knownSize: number | undefined,
    modifiedAt: Date | null,
    options: DownloadOptions,
    ctx: FtpErrorContext,
  ): Promise<ReceivedPart> {
    return this.#pool.use(
      async (client) => {
        const size = knownSize ?? (await client.size(remotePath));
        return receivePart(
          client,
          {
            remotePath,
            localDir,
            localName,
            size,
            modifiedAt,
            resume: options.resume ?? true,
            dataStallMs: this.#server.timeouts.dataStallMs,
            ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
            ...(options.partKey === undefined ? {} : { partKey: options.partKey }),
            ...(options.beforeCommit === undefined ? {} : { beforeCommit: options.beforeCommit }),
          },
          ctx,
        );
      },
      ctx,
      options.signal,
    );
  }

  /**
   * Downloads many files, `maxConcurrent` at a time, each on its own connection. Returns the
   * local paths that succeeded; `result.failures` lists every other file with its typed error.
   * One failure never stops the others. `files` may also be an async iterable (`walkEntries`):
   * transfers then start while it is still producing; an error it throws is thrown here after
   * the transfers already started have ended. With more than one at a time and every size known
   * (listed entries), files start largest and smallest alternately, so the batch ends on files
   * that finish together (ftp/batch-order.ts); the returned paths keep the order of `files`.
   */
  downloadFiles(
    files: readonly (string | RemoteEntry)[] | AsyncIterable<string | RemoteEntry>,
    localDir: string,
    options: DownloadFilesOptions = {},
  ): Promise<DownloadBatch> {
    return runDownloadBatch(
      {
        receive: (file, dir, o) => this.#receive(file, dir, o),
        commit: (part) => commitInBatch(part),
        poolLimit: () => this.#pool.stats.limit,
        raiseLimit: (n) => this.#pool.raiseLimit(n),
        // a batch's own cap while it runs, the client's back after it
        limitDataTransfers: (n) => this.#pool.limitDataTransfers(n ?? this.#maxDataTransfers),
        explicitCap: this.#explicitCap ? this.#server.maxConnections : undefined,
        knownSize: (path) => this.#listedSizes.get(path),
        log: this.#log,
      },
      files,
      localDir,
      options,
    );
  }
}
