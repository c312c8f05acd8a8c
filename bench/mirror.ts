/**
 * One radarlib mirror, run as its own process by bench/run.ts (so it is measured like lftp and
 * rclone: a whole process, start to exit). Walks the remote tree (`walkEntries`) and downloads
 * every `*.BUFR` with `downloadFiles` while the walk goes on; prints one JSON line on stdout.
 *
 *   node bench/mirror.js '{"host":"127.0.0.1","port":2121,"user":"u","password":"p",
 *                          "remote":"/L2","dest":"/tmp/x","concurrency":5}'
 *
 * `concurrency` is a number or "auto". The run reads the password from the JSON argument (a
 * benchmark server's throwaway password), never from the environment of other tools.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AsyncFTPClient } from '../src/ftp/client.js';
import type { PoolStats } from '../src/ftp/pool.js';
import type { ConcurrencyStep, RemoteEntry } from '../src/ftp/types.js';

export interface MirrorRequest {
  host: string;
  port: number;
  user: string;
  password: string;
  remote: string;
  dest: string;
  concurrency: number | 'auto';
  autoCap?: number;
  /** `downloadFiles`' overlapSetup: twice the connections, `concurrency` data transfers. */
  overlapSetup?: boolean;
  /** Explicit FTPS, trusting this self-signed certificate. */
  tlsCa?: string;
  /**
   * `walk`: walkEntries streamed into downloadFiles; `list`: listFiles first (the README's way);
   * `daemon`: one `FTPDaemon.runOnce` with a fresh SQLite ledger (list, ledger, download, commit).
   */
  listing?: 'walk' | 'list' | 'daemon';
}

export interface MirrorResult {
  files: number;
  bytes: number;
  failures: string[];
  /** Until the last folder was listed (transfers run meanwhile). */
  listMs: number;
  /** From the end of the listing to the last file. */
  downloadMs: number;
  wallMs: number;
  /** process.cpuUsage() at exit: the whole process, as rusage for the peers. */
  cpuUserS: number;
  cpuSystemS: number;
  /** CPU (user+sys, all threads) from connect to the last file: the process minus start-up. */
  cpuInProcessS?: number;
  maxRssMb: number;
  peakConnections: number;
  concurrency: ConcurrencyStep[] | null;
  /** With overlapSetup: data transfers in flight (most at once, time-weighted mean). */
  dataTransfers?: { limit: number; peak: number; mean: number } | null;
}

function countLocal(dir: string, depth = 0): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  if (depth > 16) return { files, bytes };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = countLocal(p, depth + 1);
      files += sub.files;
      bytes += sub.bytes;
    } else if (e.name.endsWith('.BUFR')) {
      files++;
      bytes += statSync(p).size;
    }
  }
  return { files, bytes };
}

/** One daemon cycle that finds every file new: what a daemon does with a backlog. */
async function daemonMirror(req: MirrorRequest): Promise<MirrorResult> {
  const t0 = performance.now();
  // loaded only here: the daemon's modules (SQLite, config) would add start-up CPU to the others
  const { benchDaemon } = await import('./lib/daemon.js');
  let poolStats: () => PoolStats | undefined = () => undefined;
  const daemon = benchDaemon({
    ...req,
    remotePath: req.remote,
    localDir: req.dest,
    ledger: join(req.dest, 'ledger.sqlite'),
    maxConcurrentDownloads: req.concurrency,
    ...(req.overlapSetup === true ? { overlapSetup: true } : {}),
    onPoolStats: (get) => (poolStats = get),
  });
  try {
    const done = await daemon.runOnce();
    const t2 = performance.now();
    const local = countLocal(req.dest);
    const cpu = process.cpuUsage();
    return {
      files: local.files,
      bytes: local.bytes,
      failures: done.length === local.files ? [] : [`daemon reported ${done.length} files`],
      listMs: 0,
      downloadMs: t2 - t0,
      wallMs: t2 - t0,
      cpuUserS: cpu.user / 1e6,
      cpuSystemS: cpu.system / 1e6,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      peakConnections: poolStats()?.peakBusy ?? 0,
      concurrency: null,
      dataTransfers: poolStats()?.dataTransfers ?? null,
    };
  } finally {
    await daemon.stop();
  }
}

export async function mirror(req: MirrorRequest): Promise<MirrorResult> {
  if (req.listing === 'daemon') return daemonMirror(req);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const client = new AsyncFTPClient({
    host: req.host,
    port: req.port,
    username: req.user,
    password: req.password,
    ...(req.tlsCa === undefined ? {} : { secure: 'explicit' as const, tls: { ca: req.tlsCa } }),
    // listings share the pool with the transfers: give them the same width. With overlapSetup
    // the listing keeps the plain run's width (the default cap, raised by the batch only), so
    // only the transfers get the second connection per slot.
    ...(req.concurrency === 'auto'
      ? { maxConnections: req.autoCap ?? 16 }
      : req.overlapSetup === true
        ? {}
        : { maxConnections: req.concurrency }),
  });
  try {
    await client.connect();
    // Streamed: transfers start as soon as the first minute folder is listed.
    let t1 = t0;
    const walk = client.walkEntries(req.remote, { recursive: true, pattern: '*.BUFR' });
    async function* timed(): AsyncGenerator<RemoteEntry> {
      yield* walk;
      t1 = performance.now();
    }
    const files =
      req.listing === 'list'
        ? await client.listFiles(req.remote, { recursive: true, pattern: '*.BUFR' })
        : timed();
    if (req.listing === 'list') t1 = performance.now();
    const batchDone = client.downloadFiles(files, req.dest, {
      maxConcurrent: req.concurrency,
      ...(req.autoCap === undefined ? {} : { autoCap: req.autoCap }),
      ...(req.overlapSetup === true ? { overlapSetup: true } : {}),
    });
    // The walk took the first connection; log in the batch's others in parallel meanwhile (on
    // a 50 ms link a login is ~10 round trips, half a second each if done one by one).
    const warm = client
      .connect({
        connections: req.concurrency === 'auto' ? 8 : req.concurrency * (req.overlapSetup === true ? 2 : 1),
      })
      .catch(() => undefined);
    const batch = await batchDone;
    const t2 = performance.now();
    const cpuRun = process.cpuUsage(cpu0);
    await warm;
    const local = countLocal(req.dest);
    const cpu = process.cpuUsage();
    return {
      files: local.files,
      bytes: local.bytes,
      failures: batch.failures.map((f) => `${f.remotePath}: ${f.error.message}`),
      listMs: t1 - t0,
      downloadMs: t2 - t1,
      wallMs: t2 - t0,
      cpuUserS: cpu.user / 1e6,
      cpuSystemS: cpu.system / 1e6,
      cpuInProcessS: (cpuRun.user + cpuRun.system) / 1e6,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      peakConnections: client.poolStats.peakBusy,
      concurrency: batch.concurrency ?? null,
      dataTransfers: batch.dataTransfers ?? null,
    };
  } finally {
    await client.disconnect();
  }
}

const arg = process.argv[2];
if (arg !== undefined && process.argv[1]?.replace(/\.[jt]s$/, '').endsWith('mirror')) {
  const result = await mirror(JSON.parse(arg) as MirrorRequest);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
