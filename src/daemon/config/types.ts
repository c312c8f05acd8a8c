/**
 * The configuration after validation, as the daemon uses it: every default applied, the
 * password and token read from their files, the local layout compiled. Built by
 * `resolveDaemonConfig` (resolve.ts) from what a user writes (`FTPDaemonConfig`, schema.ts).
 */
import type { VerifyFunction } from '../verify.js';

/**
 * How a source's remote folder is laid out: one `flat` folder, a `recursive` tree matched by
 * glob, or a `radar-tree` (`/L2/<RADAR>/YYYY/MM/DD/HH/MMSS/`) walked inside the time window.
 */
export type Layout = 'flat' | 'recursive' | 'radar-tree';

/** One source after validation: every default applied, password resolved. */
export interface SourceConfig {
  name: string;
  protocol: 'ftp' | 'sftp';
  host: string;
  port: number;
  username: string;
  /** Never logged; `redactConfig` hides it. */
  password: string;
  /** Paths and switches only: the passphrase stays in its file until the client connects. */
  sftp: {
    privateKeyFile?: string;
    passphraseFile?: string;
    agent: boolean | string;
    knownHosts?: string;
    hostKeyFingerprint?: string;
    acceptAnyHostKey: boolean;
  };
  secure: false | 'explicit' | 'implicit';
  tls: { rejectUnauthorized: boolean; ca?: string; servername?: string } | null;
  epsv: boolean;
  maxConnections: number;
  timeouts: { connect: number; command: number; dataStall: number };
  remotePath: string;
  localDir: string;
  filePattern: string;
  layout: Layout;
  lookback: number;
  startTime: Date | null;
  recentFolders: number;
  fullRescanEvery: number;
  radars: string[] | null;
  strategies: string[] | null;
  volumes: string[] | null;
  fields: string[] | null;
  ignore: string[];
  /** Compiled template (always ends with `{name}`). */
  localLayout: string;
  pollInterval: number;
  /**
   * Seconds between listings of the hot folders: the newest folders of each radar (the folder
   * itself when flat) and folders holding files that are still changing. 0 = only `pollInterval`.
   */
  hotInterval: number;
  /**
   * Listings a minute the source aims to stay within: the hot rounds' search for new minute
   * folders gets what full rounds and follow-up listings leave (never less than a quarter). 0 = none.
   */
  listingBudget: number;
  /** Fixed transfers at once, or 'auto' (adaptive, at most `autoConcurrencyCap`). */
  maxConcurrentDownloads: number | 'auto';
  autoConcurrencyCap: number;
  /**
   * Two control connections per download slot (one moving data, one setting the next file up);
   * data transfers stay at `maxConcurrentDownloads`. Always false for SFTP and 'auto'.
   */
  overlapSetup: boolean;
  minAge: number;
  /** Seconds a file must stay unchanged across listings before it is ready. */
  settle: number;
  /** Zone of the server's LIST times: 'auto' (learned by MDTM), 'UTC', or an IANA name. */
  serverTimeZone: string;
  /** Completeness check of a download before it is committed (see src/daemon/verify.ts). */
  verify: 'auto' | 'none' | VerifyFunction;
  /** Attempts before a file is parked; connection trouble alone gets twice this (fetch.ts, parksAfter). */
  maxAttempts: number;
  backoff: { initialDelay: number; maxDelay: number; multiplier: number; jitter: number };
}

/** The whole validated configuration. */
export interface DaemonConfig {
  sources: SourceConfig[];
  ledger: string;
  callbackConcurrency: number;
  exec: { command: string | string[]; timeout: number; env: string[] } | null;
  /** `token` is already read from `tokenFile`. */
  http: { host: string; port: number; token?: string; insecure: boolean } | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  stopTimeout: number;
  leaseDuration: number;
}
