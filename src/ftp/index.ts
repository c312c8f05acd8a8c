/**
 * `radarlib/ftp`: the async FTP/FTPS client.
 */
export { AsyncFTPClient } from './client.js';
export type { DirEntry } from './listing.js';
export { isInFlightName, makeMatcher, parseUnixListTime } from './listing.js';
export type { PoolStats } from './pool.js';
export type { DataSlotStats } from './data-connection/index.js';
export { assertSafeLocalName } from './safe-name.js';
export type * from './types.js';
export * from '../errors.js';
