/** The daemon as the benchmarks run it: one source, the radar tree, no stability wait, silent. */
import { FTPDaemon } from '../../src/daemon/index.js';

export interface BenchDaemonOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  remotePath: string;
  localDir: string;
  ledger: string;
  maxConcurrentDownloads?: number | 'auto';
}

export function benchDaemon(o: BenchDaemonOptions): FTPDaemon {
  return new FTPDaemon({
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
    logLevel: 'silent',
  });
}
