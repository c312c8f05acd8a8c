/**
 * `radarlib/sftp`: the SFTP client with `AsyncFTPClient`'s interface. A separate entry point so
 * that `radarlib/ftp` and `radarlib/bufr` never load the SSH library.
 */
export { AsyncSFTPClient } from './client.js';
export { parseKnownHosts, checkHostKey, knownHostsName, sha256Fingerprint } from './known-hosts.js';
export type { HostKeyVerdict, KnownHostLine } from './known-hosts.js';
export type { SftpPoolStats } from './pool.js';
export type * from './types.js';
export type * from '../ftp/types.js';
export * from '../errors.js';
