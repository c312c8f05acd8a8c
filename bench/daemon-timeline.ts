/**
 * Where the daemon's time goes beside the library's on the emulated WAN, same data, same server,
 * 5 connections: `listFiles` + `downloadFiles` (the README's way) and one `FTPDaemon.runOnce`
 * (fresh SQLite ledger), alternately. Evidence for docs/PERFORMANCE.md; not part of `npm run bench`.
 *
 *   flock /tmp/radarlib-bench.lock node --import tsx bench/daemon-timeline.ts [--volumes 8] [--runs 2]
 *
 * Prints per run, in ms from the start (the daemon's `runOnce`, the library's `connect`): the
 * listing (first listing started, last ended, how many), the first transfer started, the last file
 * done, the transfers in flight on average over the download phase (5 = every connection always
 * moving data), and for the daemon the lag from a file's last byte to its `downloaded` event (its
 * fdatasync, rename, folder fsync and ledger commit), and the event loop's delay over the run (a
 * synchronous ledger commit holds every connection's next command). Needs root (network namespace).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { FTPDaemon } from '../src/daemon/index.js';
import type { DaemonFtpClient } from '../src/daemon/lister.js';
import { createSourceClient } from '../src/daemon/source.js';
import { AsyncFTPClient } from '../src/ftp/client.js';
import { makeRadarDataset } from '../test/helpers/dataset.js';
import { median } from './lib/stats.js';
import { withWanProftpd } from './lib/wan-proftpd.js';

const { values } = parseArgs({
  options: {
    volumes: { type: 'string', default: '8' },
    runs: { type: 'string', default: '2' },
    connections: { type: 'string', default: '5' },
  },
});
const PORT = 2125;
const N = Number(values.connections);

/** One transfer: when it started and when its last byte arrived (ms). */
interface Span {
  start: number;
  dataEnd: number;
}

/** What one run saw. */
interface Timeline {
  listFirst: number;
  listLast: number;
  listings: number;
  spans: Span[];
  done: number[];
  /** Daemon: a file's last byte to its `downloaded` event. */
  commitLag: number[];
  total: number;
  /** Event-loop delay over the run (ms): mean, 99th percentile, max. */
  loopDelay?: string;
}

/** An empty timeline, and the clock of its run (ms since now). */
function startTimeline(): { t: Timeline; at: () => number } {
  const t0 = performance.now();
  return {
    t: { listFirst: Infinity, listLast: 0, listings: 0, spans: [], done: [], commitLag: [], total: 0 },
    at: () => performance.now() - t0,
  };
}

/** Transfers in flight, averaged over the download phase (first start to last byte). */
function meanInFlight(spans: readonly Span[]): number {
  if (spans.length === 0) return 0;
  const first = Math.min(...spans.map((s) => s.start));
  const last = Math.max(...spans.map((s) => s.dataEnd));
  return spans.reduce((n, s) => n + (s.dataEnd - s.start), 0) / (last - first);
}

function describe(name: string, t: Timeline): string {
  const firstStart = Math.min(...t.spans.map((s) => s.start));
  const lastByte = Math.max(...t.spans.map((s) => s.dataEnd));
  const sortedDone = [...t.done].sort((a, b) => a - b);
  const tail = (sortedDone.at(-1) ?? 0) - (sortedDone.at(-1 - N) ?? 0);
  const lag = t.commitLag.length === 0 ? '' : `; commit lag median ${median(t.commitLag).toFixed(0)} ms`;
  return (
    `${name.padEnd(8)} loop delay ${t.loopDelay ?? '?'}; total ${t.total.toFixed(0)} ms; listing ${t.listFirst.toFixed(0)}–${t.listLast.toFixed(0)} ` +
    `(${t.listings}); first transfer ${firstStart.toFixed(0)}; last byte ${lastByte.toFixed(0)}; ` +
    `in flight ${meanInFlight(t.spans).toFixed(2)}; last ${N} files' tail ${tail.toFixed(0)} ms${lag}`
  );
}

/** The daemon's client, timed: its listings, and each transfer's start and last byte. */
function timedClient(
  client: DaemonFtpClient,
  t: Timeline,
  at: () => number,
  byPath: Map<string, Span>,
): DaemonFtpClient {
  const listDir: DaemonFtpClient['listDir'] = async (path, options) => {
    t.listFirst = Math.min(t.listFirst, at());
    t.listings++;
    try {
      return await client.listDir(path, options);
    } finally {
      t.listLast = Math.max(t.listLast, at());
    }
  };
  const downloadFile: DaemonFtpClient['downloadFile'] = (remote, localDir, options) => {
    const span: Span = { start: at(), dataEnd: 0 };
    t.spans.push(span);
    byPath.set(remote.path, span);
    return client.downloadFile(remote, localDir, {
      ...options,
      onProgress: (bytes) => {
        options.onProgress?.(bytes);
        if (bytes >= remote.size) span.dataEnd = at();
      },
    });
  };
  return new Proxy(client, {
    get(target, key) {
      if (key === 'listDir') return listDir;
      if (key === 'downloadFile') return downloadFile;
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function runDaemon(
  srv: { host: string; port: number; user: string; password: string },
  dest: string,
): Promise<Timeline> {
  const { t, at } = startTimeline();
  const byPath = new Map<string, Span>();
  const daemon = new FTPDaemon(
    {
      name: 'bench',
      host: srv.host,
      port: srv.port,
      username: srv.user,
      password: srv.password,
      remotePath: '/L2',
      layout: 'radar-tree',
      localDir: dest,
      ledger: join(dest, 'ledger.sqlite'),
      minAge: 0,
      maxConcurrentDownloads: N,
      logLevel: 'silent',
    },
    {
      clientFactory: (config, logger) => timedClient(createSourceClient(config, logger), t, at, byPath),
    },
  );
  daemon.on('downloaded', (e) => {
    const now = at();
    t.done.push(now);
    const span = byPath.get(e.record.remotePath);
    if (span !== undefined && span.dataEnd > 0) t.commitLag.push(now - span.dataEnd);
  });
  try {
    const files = await daemon.runOnce();
    t.total = at();
    if (files.length === 0) throw new Error('the daemon downloaded nothing');
  } finally {
    await daemon.stop();
  }
  return t;
}

async function runLibrary(
  srv: { host: string; port: number; user: string; password: string },
  dest: string,
): Promise<Timeline> {
  const { t, at } = startTimeline();
  const client = new AsyncFTPClient({
    host: srv.host,
    port: srv.port,
    username: srv.user,
    password: srv.password,
    maxConnections: N,
  });
  try {
    await client.connect();
    t.listFirst = at();
    const files = await client.listFiles('/L2', { recursive: true, pattern: '*.BUFR' });
    t.listLast = at();
    const spans = new Map<string, Span>();
    // no per-transfer hook in downloadFiles: a file's span is from the listing's end to its end
    const batch = await client.downloadFiles(files, dest, {
      maxConcurrent: N,
      onFileDone: ({ remotePath }) => {
        const now = at();
        t.done.push(now);
        spans.set(remotePath, { start: t.listLast, dataEnd: now });
      },
    });
    t.total = at();
    t.spans = [...spans.values()];
    if (batch.failures.length > 0) throw new Error(`${batch.failures.length} files failed`);
  } finally {
    await client.disconnect();
  }
  return t;
}

await withWanProftpd(
  PORT,
  (dir) => makeRadarDataset(dir, { volumes: Number(values.volumes), layout: 'tree' }),
  async (srv, files, work) => {
    console.log(`${files.length} files, ${(files.reduce((n, f) => n + f.size, 0) / 1e6).toFixed(1)} MB`);
    for (let run = 0; run < Number(values.runs); run++) {
      for (const [name, fn] of [
        ['library', runLibrary],
        ['daemon', runDaemon],
      ] as const) {
        const dest = join(work, `dest-${name}`);
        rmSync(dest, { recursive: true, force: true });
        mkdirSync(dest, { recursive: true });
        const loop = monitorEventLoopDelay({ resolution: 1 });
        loop.enable();
        const t = await fn(srv, dest);
        loop.disable();
        const ms = (ns: number): string => (ns / 1e6).toFixed(1);
        t.loopDelay = `mean ${ms(loop.mean)} p99 ${ms(loop.percentile(99))} max ${ms(loop.max)} ms`;
        console.log(`run ${run + 1} ${describe(name, t)}`);
        rmSync(dest, { recursive: true, force: true });
      }
    }
  },
);
