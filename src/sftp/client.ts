/**
 * AsyncSFTPClient: `AsyncFTPClient`'s interface over SFTP. Same listing (glob/RegExp, recursion,
 * streaming walk), same atomic `.part` downloads with resume, same batch with `maxConcurrent`,
 * same timeouts, AbortSignal and typed errors; the transport is SSH (ssh2, pure JavaScript).
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import {
  InvalidArgumentError,
  LocalIoError,
  SftpStatusError,
  type FtpErrorContext,
  SFTP_STATUS,
} from '../errors.js';
import { throwIfAborted } from '../util/abort.js';
import { runDownloadBatch } from '../ftp/batch.js';
import type { DirEntry } from '../ftp/listing.js';
import { joinRemote, localNameForDownload } from '../ftp/safe-name.js';
import type {
  ConnectOptions,
  DownloadBatch,
  DownloadFilesOptions,
  DownloadOptions,
  ListOptions,
  RemoteEntry,
  SignalOption,
} from '../ftp/types.js';
import { listMatching, walkMatching } from '../ftp/walk.js';
import { resolveSftpServer, sftpContext, type ResolvedSftpServer } from './connection.js';
import { commitPart, receiveOverSftp, type ReceivedPart } from './download.js';
import { SftpChannelPool, type SftpPoolStats } from './pool.js';
import { SftpRequests } from './requests.js';
import type { AsyncSFTPClientOptions } from './types.js';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

export class AsyncSFTPClient implements AsyncDisposable {
  readonly #server: ResolvedSftpServer;
  readonly #log: Logger | undefined;
  readonly #explicitCap: number | undefined;
  #pool: SftpChannelPool;

  /**
   * @example new AsyncSFTPClient({ host: 'sftp.example.com', username: 'radar', privateKeyFile: '/etc/radarlib/id_ed25519' })
   */
  constructor(options: AsyncSFTPClientOptions) {
    this.#server = resolveSftpServer(options);
    this.#explicitCap =
      options.maxConnections === undefined
        ? undefined
        : options.maxConnections * this.#server.channelsPerConnection;
    this.#log = options.logger?.child({ module: 'sftp', host: this.#server.host, port: this.#server.port });
    if (this.#server.hostKey.kind === 'accept-any') {
      this.#log?.warn(
        {},
        'acceptAnyHostKey: the server is not authenticated (a man in the middle gets the credentials)',
      );
    }
    this.#pool = new SftpChannelPool(this.#server, this.#log);
  }

  /** The server host name or address. */
  get host(): string {
    return this.#server.host;
  }

  /** The server port. */
  get port(): number {
    return this.#server.port;
  }

  /** Channels and connections open, idle, busy, the cap, and the peak in use. */
  get poolStats(): SftpPoolStats {
    return this.#pool.stats;
  }

  #ctx(command: string, remotePath?: string): FtpErrorContext {
    return sftpContext(this.#server, command, remotePath);
  }

  /**
   * Opens the first channel (or `connections` of them, in parallel), so a refused host key, bad
   * credentials or an unreachable server show up here. Reopens the pool after `disconnect()`.
   */
  async connect(options: ConnectOptions = {}): Promise<void> {
    if (this.#pool.closed) this.#pool = new SftpChannelPool(this.#server, this.#log);
    const n = options.connections ?? 1;
    if (!Number.isInteger(n) || n < 1) {
      throw new InvalidArgumentError('connections', `expected an integer >= 1, got ${String(n)}`);
    }
    if (this.#explicitCap === undefined) this.#pool.raiseLimit(n);
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

  /** `await using client = new AsyncSFTPClient(...)` disconnects at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.disconnect();
  }

  /** One folder's files and sub-folders, with exact size and mtime (UTC seconds). */
  async listDir(path: string, options: SignalOption = {}): Promise<DirEntry[]> {
    throwIfAborted(options.signal, `listing ${path}`);
    const dir = path === '' ? '.' : path;
    const ctx = this.#ctx('READDIR', dir);
    const list = await this.#pool.use(
      (channel) => new SftpRequests(channel, this.#server.timeouts.commandMs).readdir(dir, ctx),
      ctx,
      options.signal,
      true, // ahead of queued transfers, as for FTP
    );
    const entries: DirEntry[] = [];
    for (const item of list) {
      if (item.filename === '.' || item.filename === '..') continue;
      const kind = item.attrs.mode & S_IFMT;
      // Symlinks and special files are left out, as the FTP listing leaves them out.
      const type = kind === S_IFDIR ? 'dir' : kind === S_IFREG ? 'file' : null;
      if (type === null) continue;
      entries.push({
        name: item.filename,
        path: joinRemote(dir, item.filename),
        type,
        size: item.attrs.size,
        modifiedAt: new Date(item.attrs.mtime * 1000),
        // SFTP times are UTC seconds: nothing for the server clock to correct.
        modifiedAtPrecisionMs: 1000,
        modifiedAtInServerZone: false,
      });
    }
    return entries;
  }

  /** Files under `path` whose path relative to it matches `pattern`, sorted, with size and mtime. */
  listEntries(path: string, options: ListOptions = {}): Promise<RemoteEntry[]> {
    return listMatching((dir, o) => this.listDir(dir, o), path, options);
  }

  /** The files of `listEntries`, yielded as soon as their folder is listed (unsorted). */
  walkEntries(path: string, options: ListOptions = {}): AsyncGenerator<RemoteEntry> {
    return walkMatching((dir, o) => this.listDir(dir, o), path, options);
  }

  /** Remote paths of the matching files. */
  async listFiles(path: string, options: ListOptions = {}): Promise<string[]> {
    return (await this.listEntries(path, options)).map((e) => e.path);
  }

  /** True when `remotePath` is an existing regular file; false when missing or not a file. */
  async checkFileExists(remotePath: string, options: SignalOption = {}): Promise<boolean> {
    const ctx = this.#ctx('STAT', remotePath);
    try {
      const stats = await this.#pool.use(
        (channel) => new SftpRequests(channel, this.#server.timeouts.commandMs).stat(remotePath, ctx),
        ctx,
        options.signal,
      );
      return stats.isFile();
    } catch (err) {
      if (err instanceof SftpStatusError && err.sftpStatus === SFTP_STATUS.NO_SUCH_FILE) return false;
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
    return commitPart(await this.#receive(remote, localDir, options), options.beforeCommit);
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
    try {
      await mkdir(localDir, { recursive: true });
    } catch (err) {
      throw new LocalIoError(localDir, 'cannot create the folder', { cause: err });
    }
    const ctx = this.#ctx('READ', remotePath);
    const expectedSize = options.expectedSize ?? (typeof remote === 'string' ? undefined : remote.size);
    // The channel goes back to the pool before the fsyncs: the disk need not wait for the link.
    return this.#pool.use(
      (channel) =>
        receiveOverSftp(
          new SftpRequests(channel, this.#server.timeouts.commandMs),
          {
            remotePath,
            localDir,
            localName,
            expectedSize,
            modifiedAt: typeof remote === 'string' ? null : remote.modifiedAt,
            resume: options.resume ?? true,
            dataStallMs: this.#server.timeouts.dataStallMs,
            abortTransport: () => channel.connection.destroy(),
            ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
            ...(options.partKey === undefined ? {} : { partKey: options.partKey }),
          },
          ctx,
        ),
      ctx,
      options.signal,
    );
  }

  /**
   * Downloads many files, `maxConcurrent` at a time, each on its own SFTP channel. Returns the
   * local paths that succeeded; `result.failures` lists every other file with its typed error.
   * One failure never stops the others; `files` may be an async iterable (`walkEntries`).
   */
  downloadFiles(
    files: readonly (string | RemoteEntry)[] | AsyncIterable<string | RemoteEntry>,
    localDir: string,
    options: DownloadFilesOptions = {},
  ): Promise<DownloadBatch> {
    return runDownloadBatch(
      {
        receive: (file, dir, o) => this.#receive(file, dir, o),
        commit: (part) => commitPart(part),
        poolLimit: () => this.#pool.stats.limit,
        raiseLimit: (n) => this.#pool.raiseLimit(n),
        explicitCap: this.#explicitCap,
        log: this.#log,
      },
      files,
      localDir,
      options,
    );
  }
}
