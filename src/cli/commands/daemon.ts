/**
 * `radarlib daemon --config FILE`: runs the download daemon until SIGTERM/SIGINT (the old
 * `python3 -m radar_ftp_daemon`). Logs are pino JSON lines, or readable lines on a terminal.
 * Exit status: 0 after a graceful stop, 78 (EX_CONFIG) for a bad configuration, 1 otherwise,
 * 130 on a second signal (docs/DAEMON.md#exit-codes).
 */
import { Option, type Command } from '../commander.js';
import type { Logger, LevelWithSilent } from 'pino';
import type { FTPDaemon, FTPDaemonOptions } from '../../daemon/daemon.js';
import { ConfigError, RadarlibError } from '../../errors.js';
import { EXIT_CONFIG, formatCliError } from '../errors.js';
import { positiveInt } from '../option-parsers.js';
import {
  addHttpOptions,
  addHttpSecurityOptions,
  attachStatusServer,
  type HttpCliOptions,
} from './web-options.js';

export { EXIT_CONFIG };

export interface DaemonCliOptions extends HttpCliOptions {
  config?: string;
  once?: boolean;
  maxIterations?: number;
  logLevel?: LevelWithSilent;
  logFormat?: 'json' | 'pretty';
  printConfig?: boolean;
  /** Print the whole error (stack, causes) of a bad configuration, not one line. */
  verbose?: boolean;
}

/** What tests and embedders may swap (the CLI passes none). */
export interface DaemonCommandDeps extends Pick<FTPDaemonOptions, 'clientFactory' | 'onFileDownloaded'> {
  env?: NodeJS.ProcessEnv;
  destination?: NodeJS.WritableStream;
  /** Where a bad configuration is reported when logs are not JSON. @default process.stderr */
  stderr?: NodeJS.WritableStream;
  /** Install SIGTERM/SIGINT handlers. @default true */
  handleSignals?: boolean;
  /** Called with the daemon before it runs (to subscribe to its events). */
  onDaemon?: (daemon: FTPDaemon) => void;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** How often a stopping daemon reports what it still waits for. */
export const STOP_PROGRESS_MS = 2000;

/**
 * While the daemon stops, logs what it waits for (transfers, callbacks, seconds to the
 * deadline) right away and every STOP_PROGRESS_MS until it has stopped, so an operator who
 * pressed Ctrl-C sees why the process is still there.
 */
export function reportStopProgress(daemon: FTPDaemon, stopped: Promise<void>, log: Logger): void {
  const report = (): void => {
    const w = daemon.pendingWork;
    const left = w.deadline === null ? null : Math.max(0, Math.ceil((w.deadline - Date.now()) / 1000));
    log.info(
      { transfers: w.transfers, callbacks: w.callbacks, deadlineSeconds: left },
      `stopping: waiting for ${count(w.transfers, 'transfer')} and ${count(w.callbacks, 'callback')}` +
        (left === null ? '' : `, at most ${left} s more`) +
        ' (a second Ctrl-C aborts them)',
    );
  };
  const first = setTimeout(report, 100);
  const timer = setInterval(report, STOP_PROGRESS_MS);
  const done = (): void => {
    clearTimeout(first);
    clearInterval(timer);
  };
  stopped.then(done, done);
}

/** Runs the daemon as the CLI does; resolves with the exit status. */
export async function runDaemonCommand(
  opts: DaemonCliOptions,
  deps: DaemonCommandDeps = {},
): Promise<number> {
  // The daemon, its config schema and the logger load when the command runs, not when the CLI
  // starts: `radarlib get` and `--help` need none of them.
  const [{ loadDaemonConfig, redactConfig }, { FTPDaemon }, { createLogger }] = await Promise.all([
    import('../../daemon/config.js'),
    import('../../daemon/daemon.js'),
    import('../../observe/log.js'),
  ]);
  const env = deps.env ?? process.env;
  const destination = deps.destination ?? process.stdout;
  let log: Logger = createLogger({
    level: opts.logLevel ?? 'info',
    destination,
    ...(opts.logFormat === undefined ? {} : { pretty: opts.logFormat === 'pretty' }),
  });
  const file = opts.config ?? env['RADARLIB_CONFIG'];
  let daemon: FTPDaemon;
  try {
    const loaded = await loadDaemonConfig({ ...(file === undefined ? {} : { file }), env });
    if (opts.printConfig === true) {
      destination.write(`${JSON.stringify(redactConfig(loaded.config), null, 2)}\n`);
      return 0;
    }
    if (opts.logLevel === undefined && loaded.config.logLevel !== 'info') {
      log = createLogger({
        level: loaded.config.logLevel,
        destination,
        ...(opts.logFormat === undefined ? {} : { pretty: opts.logFormat === 'pretty' }),
      });
    }
    for (const w of loaded.warnings) log.warn({ config: file }, w);
    if (loaded.applied.length > 0) log.info({ overrides: loaded.applied }, 'environment overrides applied');
    daemon = new FTPDaemon(loaded.config, {
      logger: log,
      ...(deps.clientFactory === undefined ? {} : { clientFactory: deps.clientFactory }),
      ...(deps.onFileDownloaded === undefined ? {} : { onFileDownloaded: deps.onFileDownloaded }),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      // JSON logs asked for: one fatal record a log pipeline can match on (key, config), without
      // the stack and validator dump unless --verbose. Otherwise one readable line on stderr.
      if (opts.logFormat === 'json') {
        log.fatal(
          { key: err.key, config: err.source, ...(opts.verbose === true ? { err } : {}) },
          err.message,
        );
      } else {
        (deps.stderr ?? process.stderr).write(formatCliError(err, opts.verbose === true));
      }
      return EXIT_CONFIG;
    }
    throw err;
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      log.info({ signal }, 'stop requested');
      reportStopProgress(daemon, daemon.stop(), log);
    } else {
      // A second signal: the operator does not want to wait for the deadline.
      log.warn({ signal }, 'second signal: aborting now');
      process.exit(130);
    }
  };
  if (deps.handleSignals !== false) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  deps.onDaemon?.(daemon);
  const web = await attachStatusServer(daemon, opts, log);
  if (web !== null) log.info({ url: web.url }, 'status page listening');
  try {
    const max = opts.once === true ? 1 : opts.maxIterations;
    await daemon.run(max === undefined ? {} : { maxIterations: max });
    return 0;
  } catch (err) {
    log.fatal({ err }, err instanceof RadarlibError ? err.message : 'daemon failed');
    await daemon.stop();
    return 1;
  } finally {
    await web?.close();
    if (deps.handleSignals !== false) {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  }
}

export function registerDaemonCommand(program: Command): void {
  const cmd = program
    .command('daemon')
    .description('run the download daemon: poll FTP servers, take every new file once (see docs/DAEMON.md)')
    .addOption(new Option('-c, --config <file>', 'YAML config file').env('RADARLIB_CONFIG'))
    .option('--once', 'one cycle per source, then exit')
    .option('--max-iterations <n>', 'cycles per source, then exit', positiveInt('--max-iterations'))
    .addOption(
      new Option('--log-level <level>', 'log level (default: the config, else info)').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
    .addOption(
      new Option('--log-format <format>', 'json lines, or pretty (default: pretty on a terminal)').choices([
        'json',
        'pretty',
      ]),
    )
    .option('--print-config', 'print the validated config (passwords redacted) and exit');
  addHttpSecurityOptions(addHttpOptions(cmd));
  cmd.action(async (opts: DaemonCliOptions, command: Command) => {
    const verbose = (command.optsWithGlobals() as { verbose?: boolean }).verbose === true;
    process.exitCode = await runDaemonCommand({ ...opts, verbose });
  });
}
