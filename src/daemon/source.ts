/**
 * The runtime of one source: its FTP client (a pool of connections), lister, download queue and,
 * with `maxConcurrentDownloads: 'auto'`, the controller that sets the download slots.
 */
import type { Logger } from 'pino';
import PQueue from 'p-queue';
import { AdaptiveConcurrency } from '../ftp/adaptive.js';
import { AsyncFTPClient } from '../ftp/client.js';
import type { SourceConfig } from './config.js';
import { SourceLister, type DaemonFtpClient } from './lister.js';
import { createSftpSourceClient } from './sftp-source.js';

export interface SourceRuntime {
  config: SourceConfig;
  client: DaemonFtpClient;
  lister: SourceLister;
  queue: PQueue;
  log: Logger;
  /** With `maxConcurrentDownloads: 'auto'`: measures throughput and sets the slots. */
  adaptive: AdaptiveConcurrency | null;
  /** Tail of this source's cycle chain: cycles never overlap. */
  chain: Promise<unknown>;
  cycles: number;
}

/**
 * Makes the FTP client of one source (tests and embedders pass their own; the default is `AsyncFTPClient`).
 */
export type ClientFactory = (source: SourceConfig, logger: Logger) => DaemonFtpClient;

/**
 * @param log the source's own logger (`{source}` bound)
 * @param rootLogger what the client logs under
 */
export function createSourceRuntime(
  config: SourceConfig,
  log: Logger,
  rootLogger: Logger,
  clientFactory: ClientFactory | undefined,
): SourceRuntime {
  const client = clientFactory?.(config, rootLogger) ?? createSourceClient(config, rootLogger);
  const fixed = config.maxConcurrentDownloads;
  return {
    config,
    client,
    lister: new SourceLister(config, client, log),
    // Fixed: the pool claims a file per free slot; a fetch stays in the queue while its file,
    // already transferred, is made durable (download-pool.ts), so the queue has room for those.
    queue: new PQueue({
      concurrency: fixed === 'auto' ? config.autoConcurrencyCap : queueRoom(fetchSlots(config, fixed)),
    }),
    adaptive: fixed === 'auto' ? new AdaptiveConcurrency({ cap: config.autoConcurrencyCap }) : null,
    log,
    chain: Promise.resolve(),
    cycles: 0,
  };
}

/**
 * Files whose bytes are in but which are not yet durable and recorded, at most (at least the
 * slots): a disk slower than the link holds the claims back instead of piling files up.
 */
export const MAX_FINISHING = 16;

/**
 * Download slots now: the fixed setting, or what the 'auto' controller chose. With `overlapSetup`
 * twice the fixed setting: half of them set their next file up while the client lets at most the
 * setting move data (`maxDataTransfers`).
 */
export function downloadSlots(src: SourceRuntime): number {
  const fixed = src.config.maxConcurrentDownloads;
  return fixed === 'auto' ? (src.adaptive?.concurrency ?? 1) : fetchSlots(src.config, fixed);
}

/** Transfers and finishing files at once (see MAX_FINISHING). */
function queueRoom(slots: number): number {
  return slots + Math.max(MAX_FINISHING, slots);
}

function fetchSlots(config: SourceConfig, fixed: number): number {
  return config.overlapSetup ? fixed * 2 : fixed;
}

/** The client a source gets unless a `ClientFactory` is given: FTP(S) or SFTP, as configured. */
export function createSourceClient(source: SourceConfig, logger: Logger): DaemonFtpClient {
  if (source.protocol === 'sftp') return createSftpSourceClient(source, logger);
  return new AsyncFTPClient({
    host: source.host,
    port: source.port,
    username: source.username,
    password: source.password,
    secure: source.secure,
    ...(source.tls === null ? {} : { tls: source.tls }),
    epsv: source.epsv,
    maxConnections: source.maxConnections,
    ...(source.overlapSetup && source.maxConcurrentDownloads !== 'auto'
      ? { maxDataTransfers: source.maxConcurrentDownloads }
      : {}),
    timeouts: {
      connectMs: source.timeouts.connect * 1000,
      commandMs: source.timeouts.command * 1000,
      dataStallMs: source.timeouts.dataStall * 1000,
    },
    logger,
  });
}
