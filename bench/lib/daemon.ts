/** The daemon as the benchmarks run it: one source, the radar tree, no stability wait, silent. */
import { FTPDaemon } from '../../src/daemon/index.js';
import { createSourceClient } from '../../src/daemon/source.js';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import type { PoolStats } from '../../src/ftp/pool.js';

export interface BenchDaemonOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  remotePath: string;
  localDir: string;
  ledger: string;
  maxConcurrentDownloads?: number | 'auto';
  /** The source's `overlapSetup`: two control connections per slot. */
  overlapSetup?: boolean;
  /** Told the pool stats getter of the source's FTP client (connections, data transfers). */
  onPoolStats?: (stats: () => PoolStats | undefined) => void;
}

export function benchDaemon(o: BenchDaemonOptions): FTPDaemon {
  return new FTPDaemon(
    {
      name: 'bench',
      host: o.host,
      port: o.port,
      username: o.user,
      password: o.password,
      remotePath: o.remotePath,
      layout: 'radar-tree',
      localDir: o.localDir,
      ledger: o.ledger,
      minAge: 0,
      ...(o.maxConcurrentDownloads === undefined ? {} : { maxConcurrentDownloads: o.maxConcurrentDownloads }),
      ...(o.overlapSetup === true ? { overlapSetup: true } : {}),
      logLevel: 'silent',
    },
    {
      clientFactory: (config, logger) => {
        const client = createSourceClient(config, logger);
        if (client instanceof AsyncFTPClient) o.onPoolStats?.(() => client.poolStats);
        return client;
      },
    },
  );
}
