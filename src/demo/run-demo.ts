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
import type { FileCallback } from '../daemon/dispatch.js';
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

/** The options that decide the demo's shape, checked before anything starts. */
interface DemoShape {
  radars: number;
  cadence: number;
  bind: BindAddress;
  /** The address was given: a taken port is an error, not replaced by a free one. */
  explicitHttp: boolean;
}

function checkDemoOptions(options: DemoOptions): DemoShape {
  const radars = options.radars ?? 3;
  const cadence = options.cadence ?? 5;
  if (!Number.isInteger(radars) || radars < 1 || radars > 8) {
    throw new InvalidArgumentError('radars', `${radars}: must be an integer 1..8`);
  }
  if (!(cadence >= 1)) throw new InvalidArgumentError('cadence', `${cadence}: must be at least 1 second`);
  if (options.duration !== undefined && !(options.duration > 0)) {
    throw new InvalidArgumentError('duration', `${options.duration}: must be > 0 seconds`);
  }
  const bind: BindAddress =
    typeof options.http === 'string'
      ? parseBind(options.http)
      : (options.http ?? { host: '127.0.0.1', port: 8080 });
  return { radars, cadence, bind, explicitHttp: options.http !== undefined };
}

/** The demo's working folder and the random FTP password written beside it. */
interface DemoFolders {
  dir: string;
  /** Served by the FTP server as `/`. */
  served: string;
  dataDir: string;
  ledgerPath: string;
  passwordFile: string;
  password: string;
}

function prepareFolders(dirOption: string | undefined): DemoFolders {
  const dir = resolve(dirOption ?? mkdtempSync(join(tmpdir(), 'radarlib-demo-')));
  const folders = {
    dir,
    served: join(dir, 'ftp-root'),
    dataDir: join(dir, 'data'),
    ledgerPath: join(dir, 'ledger.sqlite'),
    passwordFile: join(dir, 'ftp-password'),
    password: randomBytes(12).toString('base64url'),
  };
  mkdirSync(folders.served, { recursive: true });
  mkdirSync(folders.dataDir, { recursive: true });
  writeFileSync(folders.passwordFile, `${folders.password}\n`, { mode: 0o600 });
  return folders;
}

/** The user callback of the demo: decodes each downloaded volume and keeps the last 200. */
class DecodeLog {
  readonly recent: DecodedVolume[] = [];
  count = 0;

  constructor(private readonly print: (line: string) => void) {}

  readonly onFileDownloaded: FileCallback = async (localPath, info) => {
    const volume = await readRadarVolume(localPath, { signal: info.signal });
    const entry: DecodedVolume = {
      radar: volume.radar,
      field: volume.field,
      time: volume.time,
      localPath,
      sweeps: volume.sweeps.length,
      max: maxOf(volume),
    };
    this.recent.push(entry);
    if (this.recent.length > 200) this.recent.shift();
    this.count++;
    const first = volume.sweeps[0];
    this.print(
      `decoded ${volume.radar} ${volume.field.padEnd(4)} ${volume.time.toISOString().slice(11, 19)}Z` +
        `  ${volume.sweeps.length} sweeps` +
        (first === undefined ? '' : ` ${first.nrays}x${first.ngates}`) +
        (entry.max === null ? '' : `  max ${entry.max.toFixed(1)}`) +
        `  (${info.size} bytes)`,
    );
  };
}

/** The daemon settings of the demo; `options.daemonConfig` is merged over them. */
function demoDaemonConfig(
  ftp: EmbeddedFtpServer,
  folders: DemoFolders,
  options: DemoOptions,
): FTPDaemonConfig {
  return {
    name: 'demo-network',
    host: ftp.host,
    port: ftp.port,
    username: ftp.user,
    password: folders.password,
    remotePath: '/L2',
    layout: 'radar-tree',
    localDir: folders.dataDir,
    localLayout: '{radar}/{yyyy}/{mm}/{dd}/{HH}/',
    ledger: folders.ledgerPath,
    pollInterval: options.pollInterval ?? 1,
    // Fresh files are taken only once they have stayed unchanged for `settle` (they grow first,
    // in pauses well under 2 s; verify catches a shorter piece anyway). The default 60 s would
    // keep a short demo from showing anything.
    minAge: 3600,
    settle: 2,
    lookback: 6 * 3600,
    maxConcurrentDownloads: 4,
    maxAttempts: 3,
    backoff: { initialDelay: 1, maxDelay: 5, multiplier: 2, jitter: 0.2 },
    timeouts: { connect: 5, command: 10, dataStall: 10 },
    stopTimeout: 5,
    ...options.daemonConfig,
  };
}

/** Starts the status page; a taken default port falls back to a free one (an explicit one does not). */
async function startDemoStatusPage(
  daemon: FTPDaemon,
  logger: Logger,
  shape: DemoShape,
  options: DemoOptions,
  print: (line: string) => void,
): Promise<StatusServer> {
  const statusOptions = {
    daemon,
    logger,
    refreshMs: options.refreshMs ?? 1000,
    ...(options.token === undefined ? {} : { token: options.token }),
  };
  try {
    return await startStatusServer({ ...statusOptions, bind: shape.bind });
  } catch (err) {
    if (!isAddrInUse(err) || shape.explicitHttp) throw err;
    const status = await startStatusServer({ ...statusOptions, bind: { host: shape.bind.host, port: 0 } });
    print(`port ${shape.bind.port} is taken; the status page uses ${status.port} instead`);
    return status;
  }
}

function printBanner(
  print: (line: string) => void,
  parts: { ftp: EmbeddedFtpServer; status: StatusServer; network: RadarNetwork },
  shape: DemoShape,
  folders: DemoFolders,
  duration: number | undefined,
): void {
  const { ftp, status, network } = parts;
  print(
    `radarlib demo: ${shape.radars} radar(s) (${network.radars.join(', ')}), one volume (${network.fields.join(', ')}) each every ${shape.cadence} s`,
  );
  print(`  status page  ${status.url}`);
  print(`  metrics      ${status.url}metrics   health ${status.url}healthz`);
  print(
    `  FTP server   ftp://${ftp.user}@${ftp.host}:${ftp.port}/L2   (password in ${folders.passwordFile})`,
  );
  print(`  downloads    ${folders.dataDir}`);
  print(`  ledger       ${folders.ledgerPath}`);
  print(duration === undefined ? 'Press Ctrl-C to stop.' : `Stopping after ${duration} s.`);
}

/** The running parts, in start order; `stopDemo` stops them publisher first, FTP server last. */
interface DemoParts {
  ftp: EmbeddedFtpServer;
  daemon: FTPDaemon;
  running: Promise<void>;
  status: StatusServer;
  network: RadarNetwork;
}

/**
 * Wires the three ways the demo ends (`stop()`, `duration`, the signal) and a daemon that dies on
 * its own to one idempotent stop; returns it with the promise that resolves once all has stopped.
 */
function arrangeStop(
  parts: DemoParts,
  options: DemoOptions,
  logger: Logger,
  farewell: () => void,
): { stop: () => Promise<void>; done: Promise<void> } {
  let stopping: Promise<void> | null = null;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => void stop();
  function stop(): Promise<void> {
    stopping ??= (async () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      await parts.network.stop();
      await parts.daemon.stop();
      await parts.running.catch((err: unknown) => logger.error({ err }, 'daemon failed'));
      await parts.status.close();
      await parts.ftp.stop();
      farewell();
      resolveDone();
    })();
    return stopping;
  }
  // A daemon that dies on its own (e.g. the ledger cannot be opened) ends the demo too.
  void parts.running.then(
    () => stop(),
    (err: unknown) => {
      logger.error({ err }, 'daemon failed');
      void stop();
    },
  );
  if (options.duration !== undefined) timer = setTimeout(() => void stop(), options.duration * 1000);
  if (options.signal?.aborted === true) void stop();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return { stop, done };
}

/** Starts the whole demo and resolves once every part is up. */
export async function startDemo(options: DemoOptions = {}): Promise<DemoHandle> {
  const print = options.print ?? (() => undefined);
  const logger = options.logger ?? silentLogger();
  const shape = checkDemoOptions(options);
  const folders = prepareFolders(options.dir);

  // Parts started so far, undone in reverse order when a later one fails to start.
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const ftp = await startEmbeddedFtpServer({
      root: folders.served,
      user: 'demo',
      password: folders.password,
      port: options.ftpPort ?? 0,
    });
    cleanups.push(() => ftp.stop());

    const decodeLog = new DecodeLog(print);
    const daemon = new FTPDaemon(demoDaemonConfig(ftp, folders, options), {
      logger,
      onFileDownloaded: decodeLog.onFileDownloaded,
    });

    const status = await startDemoStatusPage(daemon, logger, shape, options, print);
    cleanups.push(() => status.close());

    const network = startRadarNetwork({
      ...options.network,
      root: folders.served,
      radars: shape.radars,
      cadence: shape.cadence,
      logger,
      ...(options.fields === undefined ? {} : { fields: options.fields }),
    });
    cleanups.push(() => network.stop());

    const running = daemon.run();
    cleanups.push(() => daemon.stop());

    printBanner(print, { ftp, status, network }, shape, folders, options.duration);
    const { stop, done } = arrangeStop({ ftp, daemon, running, status, network }, options, logger, () =>
      print(`stopped: ${decodeLog.count} file(s) downloaded and decoded; files kept in ${folders.dir}`),
    );

    return {
      dir: folders.dir,
      dataDir: folders.dataDir,
      ledgerPath: folders.ledgerPath,
      ftp,
      network,
      daemon,
      status,
      get decoded() {
        return decodeLog.recent;
      },
      get decodedCount() {
        return decodeLog.count;
      },
      done,
      stop,
    };
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    throw err;
  }
}

/** Runs the demo until `duration`, the signal or an error; resolves with how many volumes were decoded. */
export async function runDemo(options: DemoOptions = {}): Promise<{ decoded: number; dir: string }> {
  const demo = await startDemo(options);
  await demo.done;
  return { decoded: demo.decodedCount, dir: demo.dir };
}
