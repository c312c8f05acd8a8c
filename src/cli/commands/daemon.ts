/**
 * `radarlib daemon --config FILE`: runs the download daemon until SIGTERM/SIGINT (the old
 * `python3 -m radar_ftp_daemon`). Logs are pino JSON lines, or readable lines on a terminal.
 * Exit status: 0 after a graceful stop, 78 (EX_CONFIG) for a bad configuration, 1 otherwise.
 */
import { Option, type Command } from 'commander';
import type { Logger, LevelWithSilent } from 'pino';
import { loadDaemonConfig, redactConfig } from '../../daemon/config.js';
import { FTPDaemon, type FTPDaemonOptions } from '../../daemon/daemon.js';
import { ConfigError, RadarlibError } from '../../errors.js';
import { createLogger } from '../../observe/log.js';
import {
  addHttpOptions,
  addHttpSecurityOptions,
  attachStatusServer,
  type HttpCliOptions,
} from './web-options.js';

export const EXIT_CONFIG = 78;

export interface DaemonCliOptions extends HttpCliOptions {
  config?: string;
  once?: boolean;
  maxIterations?: number;
  logLevel?: LevelWithSilent;
  logFormat?: 'json' | 'pretty';
  printConfig?: boolean;
}

/** What tests and embedders may swap (the CLI passes none). */
export interface DaemonCommandDeps extends Pick<FTPDaemonOptions, 'clientFactory' | 'onFileDownloaded'> {
  env?: NodeJS.ProcessEnv;
  destination?: NodeJS.WritableStream;
  /** Install SIGTERM/SIGINT handlers. @default true */
  handleSignals?: boolean;
  /** Called with the daemon before it runs (to subscribe to its events). */
  onDaemon?: (daemon: FTPDaemon) => void;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`expected an integer >= 1, got ${JSON.stringify(value)}`);
  return n;
}

/** Runs the daemon as the CLI does; resolves with the exit status. */
export async function runDaemonCommand(
  opts: DaemonCliOptions,
  deps: DaemonCommandDeps = {},
): Promise<number> {
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
      log.fatal({ err, key: err.key, config: err.source }, err.message);
      return EXIT_CONFIG;
    }
    throw err;
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      log.info({ signal }, 'stop requested');
      void daemon.stop();
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
    .option('--max-iterations <n>', 'cycles per source, then exit', positiveInt)
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
  cmd.action(async (opts: DaemonCliOptions) => {
    process.exitCode = await runDaemonCommand(opts);
  });
}
