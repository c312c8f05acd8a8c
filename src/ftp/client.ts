/**
 * AsyncFTPClient: the Python radarlib client's API, with real parallelism, atomic downloads,
 * timeouts and cancellation. Every method borrows a connection from the pool, so concurrent
 * calls on one client run in parallel up to the server's connection cap.
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import PQueue from 'p-queue';
import { FtpReplyError, InvalidArgumentError, LocalIoError, type FtpErrorContext } from '../errors.js';
import { throwIfAborted } from './abort.js';
import { resolveServer, type ResolvedServer } from './connection.js';
import { downloadAtomically } from './download.js';
import { makeMatcher, toDirEntry, type DirEntry } from './listing.js';
import { FtpConnectionPool, type PoolStats } from './pool.js';
import { assertSafeLocalName, joinRemote, remoteBaseName } from './safe-name.js';
import type {
  AsyncFTPClientOptions,
  DownloadBatch,
  DownloadFailure,
  DownloadFilesOptions,
  DownloadOptions,
  ListOptions,
  RemoteEntry,
  SignalOption,
} from './types.js';

const DEFAULT_PATTERN = '*.BUFR';
const DEFAULT_MAX_CONCURRENT = 5;
/** A recursive walk stops descending here: a server with a symlink loop must not keep us busy. */
const MAX_WALK_DEPTH = 32;

export class AsyncFTPClient implements AsyncDisposable {
  readonly #server: ResolvedServer;
  readonly #log: Logger | undefined;
  readonly #explicitCap: boolean;
  #pool: FtpConnectionPool;

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
    if (
      options.maxConnections !== undefined &&
      !(Number.isInteger(options.maxConnections) && options.maxConnections >= 1)
    ) {
      throw new InvalidArgumentError(
        'maxConnections',
        `expected an integer >= 1, got ${String(options.maxConnections)}`,
      );
    }
    this.#server = resolveServer(options);
    this.#explicitCap = options.maxConnections !== undefined;
    this.#log = options.logger?.child({ module: 'ftp', host: this.#server.host, port: this.#server.port });
    this.#pool = new FtpConnectionPool(this.#server, this.#log);
  }

  get host(): string {
    return this.#server.host;
  }

  get port(): number {
    return this.#server.port;
  }

  /** Connections open, idle, busy, the current cap, and the peak in use. */
  get poolStats(): PoolStats {
    return this.#pool.stats;
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
   * Opens and logs in the first connection, so bad credentials or an unreachable server show up
   * here rather than at the first listing. Reopens the pool after `disconnect()`.
   */
  async connect(options: SignalOption = {}): Promise<void> {
    if (this.#pool.closed) this.#pool = new FtpConnectionPool(this.#server, this.#log);
    await this.#pool.use(async () => undefined, this.#ctx('connect'), options.signal);
  }

  /** Waits for running operations, then closes every connection. Idempotent. */
  async disconnect(): Promise<void> {
    await this.#pool.close();
  }

  /** Aborts running operations (they reject) and closes every connection at once. */
  destroy(): void {
    this.#pool.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.disconnect();
  }

  /** One folder's files and sub-folders (no pattern), with size and modification time. */
  async listDir(path: string, options: SignalOption = {}): Promise<DirEntry[]> {
    throwIfAborted(options.signal, `listing ${path}`);
    const now = new Date();
    const infos = await this.#pool.use(
      (client) => client.list(path),
      this.#ctx('LIST', path),
      options.signal,
    );
    const base = path === '' ? '.' : path;
    return infos.flatMap((info) => toDirEntry(base, info, now) ?? []);
  }

  /**
   * Files under `path` whose path relative to it matches `pattern`, with size and mtime.
   * Recursive walks list sub-folders in parallel (bounded by the pool).
   */
  async listEntries(path: string, options: ListOptions = {}): Promise<RemoteEntry[]> {
    const matches = makeMatcher(options.pattern ?? DEFAULT_PATTERN);
    const recursive = options.recursive ?? false;
    const root = path.replace(/\/+$/, '') || '/';
    const found: RemoteEntry[] = [];
    const visit = async (dir: string, rel: string, depth: number): Promise<void> => {
      const entries = await this.listDir(dir, options);
      const subdirs: Promise<void>[] = [];
      for (const e of entries) {
        const relPath = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.type === 'file') {
          if (matches(relPath))
            found.push({ path: e.path, name: e.name, size: e.size, modifiedAt: e.modifiedAt });
        } else if (recursive && depth < MAX_WALK_DEPTH) {
          subdirs.push(visit(joinRemote(dir, e.name), relPath, depth + 1));
        }
      }
      await Promise.all(subdirs);
    };
    await visit(root, '', 0);
    return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Remote paths of the matching files (the Python original's `list_files`). */
  async listFiles(path: string, options: ListOptions = {}): Promise<string[]> {
    return (await this.listEntries(path, options)).map((e) => e.path);
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
    const remotePath = typeof remote === 'string' ? remote : remote.path;
    const localName = assertSafeLocalName(options.localName ?? remoteBaseName(remotePath), remotePath);
    throwIfAborted(options.signal, `downloading ${remotePath}`);
    try {
      await mkdir(localDir, { recursive: true });
    } catch (err) {
      throw new LocalIoError(localDir, 'cannot create the folder', { cause: err });
    }
    const ctx = this.#ctx('RETR', remotePath);
    const knownSize = options.expectedSize ?? (typeof remote === 'string' ? undefined : remote.size);
    const modifiedAt = typeof remote === 'string' ? null : remote.modifiedAt;
    return this.#pool.use(
      async (client) => {
        const size = knownSize ?? (await client.size(remotePath));
        return downloadAtomically(
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
   * One failure never stops the others.
   */
  async downloadFiles(
    files: readonly (string | RemoteEntry)[],
    localDir: string,
    options: DownloadFilesOptions = {},
  ): Promise<DownloadBatch> {
    const maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new InvalidArgumentError(
        'maxConcurrent',
        `expected an integer >= 1, got ${String(maxConcurrent)}`,
      );
    }
    // Without an explicit per-server cap, the caller's concurrency is the cap.
    if (!this.#explicitCap) this.#pool.raiseLimit(maxConcurrent);
    const queue = new PQueue({ concurrency: maxConcurrent });
    const results: (string | undefined)[] = new Array<string | undefined>(files.length);
    const failures: DownloadFailure[] = [];
    await Promise.all(
      files.map((file, i) =>
        queue.add(async () => {
          const remotePath = typeof file === 'string' ? file : file.path;
          try {
            const localPath = await this.downloadFile(
              file,
              localDir,
              options.signal === undefined ? {} : { signal: options.signal },
            );
            results[i] = localPath;
            options.onFileDone?.({ remotePath, localPath });
          } catch (err) {
            const error = err instanceof Error ? err : new Error(String(err));
            failures.push({ remotePath, error });
            this.#log?.warn({ remotePath, err: error }, 'download failed');
            options.onFileDone?.({ remotePath, error });
          }
        }),
      ),
    );
    const downloaded = results.filter((p): p is string => p !== undefined);
    return Object.assign(downloaded, { failures });
  }
}
