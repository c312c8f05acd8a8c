/**
 * `radarlib`: the daemon, the ledger, the radar file-name conventions, and (re-exported) the FTP
 * client. The BUFR decoder is its own entry point, `radarlib/bufr`, so FTP users do not load it;
 * the status page, `/metrics` and `/healthz` are `radarlib/web`, so daemon users who do not serve
 * them do not load the HTTP and PNG stack. Native code (better-sqlite3, pg) loads only when a
 * ledger is opened.
 *
 * @packageDocumentation
 */
export * from './daemon/index.js';
export { AsyncFTPClient } from './ftp/client.js';
export type * from './ftp/types.js';
export type {
  Claim,
  Completion,
  FailOptions,
  FileRecord,
  FileState,
  Ledger,
  ListedFile,
  ObserveOptions,
  ObserveResult,
  StateCounts,
} from './ledger/ledger.js';
export { FILE_STATES } from './ledger/ledger.js';
export { openLedger } from './ledger/open.js';
export type { OpenLedgerOptions } from './ledger/open.js';
export { SqliteLedger } from './ledger/sqlite.js';
export { PostgresLedger } from './ledger/postgres.js';
export type { PostgresLedgerOptions } from './ledger/postgres.js';
export { parseRadarFileName, parseCompactUtc } from './radar/filename.js';
export type { RadarFileName } from './radar/filename.js';
export { createLogger } from './observe/log.js';
export type { CreateLoggerOptions } from './observe/log.js';
export * from './errors.js';
