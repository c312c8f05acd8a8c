import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { DirEntry } from './listing.js';

/** How to reach and log in to one FTP server. */
export interface FtpServerOptions {
  host: string;
  /** @default 21 (990 for implicit FTPS) */
  port?: number;
  /** @default 'anonymous' */
  username?: string;
  /** @default '' — never logged, never part of an error message. */
  password?: string;
  /**
   * FTPS: `'explicit'` (AUTH TLS on the normal port), `'implicit'` (TLS from the first byte),
   * or false for plain FTP.
   * @default false
   */
  secure?: false | 'explicit' | 'implicit';
  /**
   * TLS options (CA, servername...). Certificates are verified unless
   * `rejectUnauthorized: false` is given, which logs a warning once per pool.
   */
  tls?: TlsOptions;
  /**
   * Use EPSV before PASV. Some NAT'd servers answer EPSV badly; PASV replies are always connected
   * to the control host on the announced port, never to the announced address.
   * @default true
   */
  epsv?: boolean;
  /**
   * Most logged-in connections to this server at once (the per-server cap). A 421 reply at login
   * lowers the effective cap for a while.
   * @default 5
   */
  maxConnections?: number;
  /** Timeouts in milliseconds. */
  timeouts?: Partial<FtpTimeouts>;
}

/** The client's timeouts, milliseconds; each one that fires is an {@link FtpTimeoutError} naming it. */
export interface FtpTimeouts {
  /** TCP connect + greeting + login. @default 15000 */
  connectMs: number;
  /** Waiting for a reply to one command. @default 30000 */
  commandMs: number;
  /** A data connection that delivers no byte for this long is abandoned. @default 30000 */
  dataStallMs: number;
}

export interface AsyncFTPClientOptions extends FtpServerOptions {
  /** pino logger; the client logs at debug level under `{module: 'ftp', host}`. */
  logger?: Logger;
  /**
   * At most this many downloads move data at once (but for the brief overlap of a slot handed on
   * just before its file's data ends), however many connections are open: with
   * `maxConnections` twice this, each transfer slot has a spare connection that sets the next
   * file up (EPSV + data connection) while the slot's file arrives, as `overlapSetup` does for
   * one batch (the daemon's `overlapSetup`). FTP only; listings are never held by it. A batch
   * with its own `overlapSetup` replaces it while it runs. See src/ftp/data-connection/slots.ts.
   */
  maxDataTransfers?: number;
}

/** One remote file as listed, with what the daemon needs to identify its version. */
export interface RemoteEntry {
  /** Absolute remote path, `/`-separated. */
  path: string;
  /** Base name. */
  name: string;
  size: number;
  /** Modification time, when the server gave one (MLSD gives seconds, LIST often minutes). */
  modifiedAt: Date | null;
  /** Precision of `modifiedAt` in ms (see `DirEntry`), when the entry came from a listing. */
  modifiedAtPrecisionMs?: number;
  /** A LIST time (the server's wall clock read as UTC), when the entry came from a listing. */
  modifiedAtInServerZone?: boolean;
}

/** An `AbortSignal`: aborting it cancels the call (and closes the connection it used). */
export interface SignalOption {
  signal?: AbortSignal;
}

/** Options of {@link AsyncFTPClient.listDir}. */
export interface ListDirOptions extends SignalOption {
  /**
   * Called with the folder's entries as soon as the listing's data has arrived, before the
   * server confirmed the listing with its `226` (a round trip later on ProFTPD): a tree walk
   * lists the sub-folders seen there meanwhile. These entries may be cut short if the server
   * then reports a failed transfer (`listDir` rejects), so take files from the returned listing
   * alone. Called at most once; it must not throw (an error thrown is ignored).
   */
  onDataEnd?: (entries: DirEntry[]) => void;
}

/** Options of {@link AsyncFTPClient.connect}. */
export interface ConnectOptions extends SignalOption {
  /** Connections to open and log in at once (within the per-server cap). @default 1 */
  connections?: number;
}

/** Options of {@link AsyncFTPClient.listFiles} and {@link AsyncFTPClient.listEntries}. */
export interface ListOptions extends SignalOption {
  /**
   * Glob matched against the path relative to the listed folder (`*.BUFR`, `RMA1*_DBZH_*`,
   * `**\/*.BUFR`), or a RegExp tested against the same relative path.
   * @default '*.BUFR'
   */
  pattern?: string | RegExp;
  /** Walk sub-folders. A plain `*.BUFR` then matches at any depth. @default false */
  recursive?: boolean;
  /**
   * For a recursive walk: log connections in up to `maxConnections` and ready idle ones' data
   * connections ahead of the next folders (about half the round trips per folder level on a
   * WAN, for more logins and EPSVs). The daemon turns it off: its cycles mostly find nothing
   * new, and a server should not pay a full pool every poll. @default true
   */
  prepareConnections?: boolean;
  /**
   * For a recursive walk that prepares connections: list folders with `STAT <folder>` on the
   * control connection (one round trip, no data connection; src/ftp/control-listing.ts) where
   * the walk needs names and sizes only: every folder for `listFiles`, the folders above the
   * files for `listEntries`/`walkEntries` (the files' own folders keep MLSD's exact times). A
   * server that does not know STAT, paths with blanks or glob characters, and empty or refused
   * answers go by MLSD/LIST as before. false: always MLSD/LIST. @default true
   */
  controlListing?: boolean;
}

/** Options of {@link AsyncFTPClient.downloadFile}. */
export interface DownloadOptions extends SignalOption {
  /** Final local file name. @default the remote base name (validated, never a path). */
  localName?: string;
  /** Size the file must have; from the listing when given, else asked with SIZE. */
  expectedSize?: number;
  /** Resume a leftover `<name>.part` with REST. @default true */
  resume?: boolean;
  /** Called with the bytes received so far. */
  onProgress?: (bytes: number) => void;
  /**
   * Called once every byte of the file has arrived and the connection is back in the pool,
   * before the `.part` is fdatasynced, checked (`beforeCommit`) and renamed: the file is not
   * under its final name yet and may still fail. A caller pacing its transfers (the daemon's
   * download slots) starts the next one here, beside this file's fsyncs. It must not throw: an
   * error it throws fails the download (the `.part` is closed and left, never renamed).
   */
  onReceived?: () => void;
  /**
   * Names this download's `.part` (e.g. the ledger row, plus the claim's token on a shared
   * ledger), so that two writers of one target never share a `.part`, and a version never
   * resumes another's bytes. @default the final name (`<name>.part`, or a short hashed name when
   * that would pass 255 bytes)
   */
  partKey?: string;
  /**
   * Runs after every byte is on disk and synced, immediately before the `.part` takes the final
   * name: throwing here keeps the final name untouched and discards the `.part`. The daemon
   * verifies completeness (BUFR section 0 and `7777`) and re-checks its lease here (fencing).
   */
  beforeCommit?: (partPath: string) => Promise<void>;
}

/** Options of {@link AsyncFTPClient.downloadFiles}. */
export interface DownloadFilesOptions extends SignalOption {
  /**
   * Transfers running at once, each on its own logged-in connection. `'auto'` measures instead:
   * it starts at 16 (or `autoCap` when lower), grows while the batch's throughput still rises,
   * up to `autoCap`, and holds at the server's limit when a login is refused with 421 (see
   * adaptive.ts).
   * @default 5
   */
  maxConcurrent?: number | 'auto';
  /** Upper bound of `maxConcurrent: 'auto'` (and of an explicit `maxConnections`). @default 16 */
  autoCap?: number;
  /**
   * Give every transfer slot a second control connection that sets up the next file (EPSV and
   * the data connection's handshake) while the slot's current file arrives; its RETR goes out
   * about one RETR-to-first-byte delay before that file's data ends (its size is known), so its
   * first byte comes about when the last one does. At most `maxConcurrent` files move data at
   * once but for that brief overlap (`dataTransfers` counts it), and the batch logs in twice as
   * many connections (mind the server's connection limit; a 421 only
   * lowers it). Two round trips less per file on a long link, on every server (ProFTPD refuses
   * a command sent during a transfer on the same connection). FTP only; numeric `maxConcurrent`
   * only. See src/ftp/data-connection/slots.ts. @default false
   */
  overlapSetup?: boolean;
  /** Called after each file, whether it succeeded or failed. */
  onFileDone?: (result: { remotePath: string; localPath?: string; error?: Error }) => void;
}

/** A file of a `downloadFiles` batch that could not be downloaded, and why. */
export interface DownloadFailure {
  remotePath: string;
  error: Error;
}

/** One decision of `maxConcurrent: 'auto'`. */
export interface ConcurrencyStep {
  /** ms since the batch started. */
  atMs: number;
  concurrency: number;
  /** Throughput of the window that led to the step (0 at the start). */
  bytesPerSecond: number;
  reason: 'start' | 'grow' | 'hold' | 'server-limit';
}

/**
 * The local paths that succeeded (an array, as in the original) plus every failure, and with
 * `maxConcurrent: 'auto'` the concurrency decisions it took.
 */
export type DownloadBatch = string[] & {
  failures: DownloadFailure[];
  concurrency?: ConcurrencyStep[];
  /**
   * With `overlapSetup`: data transfers in flight, most at once and time-weighted mean, and how
   * many handed their slot on before their data ended (src/ftp/data-connection/slots.ts).
   */
  dataTransfers?: { limit: number; peak: number; mean: number; handedOffEarly: number };
};
