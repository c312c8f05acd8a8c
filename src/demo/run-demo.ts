/**
 * The offline demo in one call: an embedded FTP server on loopback publishing a synthetic radar
 * network, the download daemon on it (SQLite ledger, radar-tree layout, stability checks), every
 * downloaded volume decoded, and the status page with quick-looks, metrics and health.
 *
 *   const demo = await startDemo({ radars: 3, cadence: 5, print: (l) => console.log(l) });
 *   await demo.done;           // until demo.stop(), the signal, or `duration` seconds
 *
 * Nothing leaves the machine: the FTP server and the status page listen on 127.0.0.1 (the page
 * on another address only when asked). The FTP password is random per run and never printed; it
 * is written to `<dir>/ftp-password` (mode 600) for anyone who wants to browse with an FTP client.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { readRadarVolume } from '../bufr/radar-volume.js';
import type { FTPDaemonConfig } from '../daemon/config.js';
import { FTPDaemon } from '../daemon/daemon.js';
import { InvalidArgumentError } from '../errors.js';
import { silentLogger } from '../observe/log.js';
import { FILL, NO_DATA, type RadarVolume } from '../radar/model.js';
import { parseBind, type BindAddress } from '../web/bind.js';
import { startStatusServer, type StatusServer } from '../web/server.js';
import { startEmbeddedFtpServer, type EmbeddedFtpServer } from './embedded-ftp-server.js';
import { startRadarNetwork, type RadarNetwork, type RadarNetworkOptions } from './network.js';

/** Options of {@link startDemo} and {@link runDemo}. */
export interface DemoOptions {
  /** Radars in the synthetic network. @default 3 */
  radars?: number;
  /** Seconds between volumes of each radar. @default 5 */
  cadence?: number;
  /** Fields per volume. @default ['DBZH', 'VRAD', 'ZDR'] */
  fields?: readonly string[];
  /** FTP server port on 127.0.0.1; 0 picks a free one. @default 0 */
  ftpPort?: number;
  /**
   * Status page address. When the default port is taken, a free one is used instead (an
   * explicitly given port is not replaced). @default 127.0.0.1:8080
   */
  http?: string | BindAddress;
  /** Basic-auth token for the status page (needed only when it is bound beyond loopback). */
  token?: string;
  /** Working folder (served tree, downloads, ledger). @default a new folder under the OS temp dir */
  dir?: string;
  /** Stop after this many seconds. @default run until stopped */
  duration?: number;
  /** Daemon poll interval, seconds. @default 1 */
  pollInterval?: number;
  /** Page refresh period, ms. @default 1000 */
  refreshMs?: number;
  /** Daemon settings merged over the demo's (tests use it for fast retries). */
  daemonConfig?: Partial<FTPDaemonConfig>;
  /** Options of the synthetic network (size of volumes, growth time...). */
  network?: Partial<Omit<RadarNetworkOptions, 'root' | 'radars' | 'cadence'>>;
  /** Aborting it stops the demo. */
  signal?: AbortSignal;
  /** @default silent */
  logger?: Logger;
  /** Human-readable progress lines (the CLI passes console.log). @default none */
  print?: (line: string) => void;
}

/** One volume the demo downloaded and decoded, as it prints it. */
export interface DecodedVolume {
  radar: string;
  field: string;
  time: Date;
  localPath: string;
  sweeps: number;
  /** Largest valid value of the lowest sweep, or null. */
  max: number | null;
}

/** A running demo (see {@link startDemo}): its parts, its URLs, and how to stop it. */
export interface DemoHandle {
  readonly dir: string;
  /** Where downloads land. */
  readonly dataDir: string;
  readonly ledgerPath: string;
  readonly ftp: EmbeddedFtpServer;
  readonly network: RadarNetwork;
  readonly daemon: FTPDaemon;
  readonly status: StatusServer;
  /** Volumes decoded so far (the last 200). */
  readonly decoded: readonly DecodedVolume[];
  readonly decodedCount: number;
  /** Resolves once everything has stopped (after `duration`, the signal, or `stop()`). */
  readonly done: Promise<void>;
  /** Stops publisher, daemon, status page and FTP server, in that order. Idempotent. */
  stop(): Promise<void>;
}

function maxOf(volume: RadarVolume): number | null {
  const s = volume.sweeps[0];
  if (s === undefined) return null;
  let max = -Infinity;
  for (const v of s.values) if (v === v && v !== NO_DATA && v !== FILL && v > max) max = v;
  return max === -Infinity ? null : max;
}

function isAddrInUse(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'EADDRINUSE';
}

/** Starts the whole demo and resolves once every part is up. */
export async function startDemo(options: DemoOptions = {}): Promise<DemoHandle> {
  const print = options.print ?? (() => undefined);
  const logger = options.logger ?? silentLogger();
  const radars = options.radars ?? 3;
  const cadence = options.cadence ?? 5;
  if (!Number.isInteger(radars) || radars < 1 || radars > 8) {
    throw new InvalidArgumentError('radars', `${radars}: must be an integer 1..8`);
  }
  if (!(cadence >= 1)) throw new InvalidArgumentError('cadence', `${cadence}: must be at least 1 second`);
  if (options.duration !== undefined && !(options.duration > 0)) {
    throw new InvalidArgumentError('duration', `${options.duration}: must be > 0 seconds`);
  }
  const explicitHttp = options.http !== undefined;
  const bind: BindAddress =
    typeof options.http === 'string'
      ? parseBind(options.http)
      : (options.http ?? { host: '127.0.0.1', port: 8080 });

  const dir = resolve(options.dir ?? mkdtempSync(join(tmpdir(), 'radarlib-demo-')));
  const served = join(dir, 'ftp-root');
  const dataDir = join(dir, 'data');
  const ledgerPath = join(dir, 'ledger.sqlite');
  mkdirSync(served, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  const password = randomBytes(12).toString('base64url');
  writeFileSync(join(dir, 'ftp-password'), `${password}\n`, { mode: 0o600 });

  const cleanups: (() => Promise<void>)[] = [];
  const undo = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const ftp = await startEmbeddedFtpServer({
      root: served,
      user: 'demo',
      password,
      port: options.ftpPort ?? 0,
    });
    cleanups.push(() => ftp.stop());

    const decoded: DecodedVolume[] = [];
    let decodedCount = 0;
    const daemon = new FTPDaemon(
      {
        name: 'demo-network',
        host: ftp.host,
        port: ftp.port,
        username: ftp.user,
        password,
        remotePath: '/L2',
        layout: 'radar-tree',
        localDir: dataDir,
        localLayout: '{radar}/{yyyy}/{mm}/{dd}/{HH}/',
        ledger: ledgerPath,
        pollInterval: options.pollInterval ?? 1,
        // Fresh files are taken only once two listings agree on their size (they grow first).
        minAge: 3600,
        lookback: 6 * 3600,
        maxConcurrentDownloads: 4,
        maxAttempts: 3,
        backoff: { initialDelay: 1, maxDelay: 5, multiplier: 2, jitter: 0.2 },
        timeouts: { connect: 5, command: 10, dataStall: 10 },
        stopTimeout: 5,
        ...options.daemonConfig,
      },
      {
        logger,
        onFileDownloaded: async (localPath, info) => {
          const volume = await readRadarVolume(localPath, { signal: info.signal });
          const entry: DecodedVolume = {
            radar: volume.radar,
            field: volume.field,
            time: volume.time,
            localPath,
            sweeps: volume.sweeps.length,
            max: maxOf(volume),
          };
          decoded.push(entry);
          if (decoded.length > 200) decoded.shift();
          decodedCount++;
          const first = volume.sweeps[0];
          print(
            `decoded ${volume.radar} ${volume.field.padEnd(4)} ${volume.time.toISOString().slice(11, 19)}Z` +
              `  ${volume.sweeps.length} sweeps` +
              (first === undefined ? '' : ` ${first.nrays}x${first.ngates}`) +
              (entry.max === null ? '' : `  max ${entry.max.toFixed(1)}`) +
              `  (${info.size} bytes)`,
          );
        },
      },
    );

    let status: StatusServer;
    const statusOptions = {
      daemon,
      logger,
      refreshMs: options.refreshMs ?? 1000,
      ...(options.token === undefined ? {} : { token: options.token }),
    };
    try {
      status = await startStatusServer({ ...statusOptions, bind });
    } catch (err) {
      if (!isAddrInUse(err) || explicitHttp) throw err;
      status = await startStatusServer({ ...statusOptions, bind: { host: bind.host, port: 0 } });
      print(`port ${bind.port} is taken; the status page uses ${status.port} instead`);
    }
    cleanups.push(() => status.close());

    const network = startRadarNetwork({
      ...options.network,
      root: served,
      radars,
      cadence,
      logger,
      ...(options.fields === undefined ? {} : { fields: options.fields }),
    });
    cleanups.push(() => network.stop());

    const running = daemon.run();
    cleanups.push(() => daemon.stop());

    print(
      `radarlib demo: ${radars} radar(s) (${network.radars.join(', ')}), one volume (${network.fields.join(', ')}) each every ${cadence} s`,
    );
    print(`  status page  ${status.url}`);
    print(`  metrics      ${status.url}metrics   health ${status.url}healthz`);
    print(
      `  FTP server   ftp://${ftp.user}@${ftp.host}:${ftp.port}/L2   (password in ${join(dir, 'ftp-password')})`,
    );
    print(`  downloads    ${dataDir}`);
    print(`  ledger       ${ledgerPath}`);
    print(options.duration === undefined ? 'Press Ctrl-C to stop.' : `Stopping after ${options.duration} s.`);

    let stopping: Promise<void> | null = null;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((r) => (resolveDone = r));
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => void stop();
    function stop(): Promise<void> {
      stopping ??= (async () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        await network.stop();
        await daemon.stop();
        await running.catch((err: unknown) => logger.error({ err }, 'daemon failed'));
        await status.close();
        await ftp.stop();
        print(`stopped: ${decodedCount} file(s) downloaded and decoded; files kept in ${dir}`);
        resolveDone();
      })();
      return stopping;
    }
    // A daemon that dies on its own (e.g. the ledger cannot be opened) ends the demo too.
    void running.then(
      () => stop(),
      (err: unknown) => {
        logger.error({ err }, 'daemon failed');
        void stop();
      },
    );
    if (options.duration !== undefined) timer = setTimeout(() => void stop(), options.duration * 1000);
    if (options.signal?.aborted === true) void stop();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    return {
      dir,
      dataDir,
      ledgerPath,
      ftp,
      network,
      daemon,
      status,
      get decoded() {
        return decoded;
      },
      get decodedCount() {
        return decodedCount;
      },
      done,
      stop,
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

/** Runs the demo until `duration`, the signal or an error; resolves with how many volumes were decoded. */
export async function runDemo(options: DemoOptions = {}): Promise<{ decoded: number; dir: string }> {
  const demo = await startDemo(options);
  await demo.done;
  return { decoded: demo.decodedCount, dir: demo.dir };
}
