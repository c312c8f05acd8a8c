/**
 * `radarlib demo`: the whole pipeline offline in one command (what `npm start` runs). The work
 * is in src/demo/run-demo.ts; this file parses the knobs, prints, and stops cleanly on Ctrl-C.
 */
import { Option, type Command } from '../commander.js';
import { InvalidArgumentError } from '../../errors.js';
import type { DemoOptions } from '../../demo/run-demo.js';
import type { BindAddress } from '../../web/bind.js';
import { addHttpOptions } from './web-options.js';

export interface DemoCliOptions {
  radars: number;
  cadence: number;
  port: number;
  http?: BindAddress;
  httpToken?: string;
  dir?: string;
  duration?: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

function intIn(name: string, lo: number, hi: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi)
      throw new InvalidArgumentError(name, `${v}: expected an integer ${lo}..${hi}`);
    return n;
  };
}

function secondsAtLeast(name: string, lo: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo)
      throw new InvalidArgumentError(name, `${v}: expected a number of seconds >= ${lo}`);
    return n;
  };
}

/** The options `startDemo` gets for parsed CLI options. */
export function demoOptionsFromCli(opts: DemoCliOptions): DemoOptions {
  return {
    radars: opts.radars,
    cadence: opts.cadence,
    ftpPort: opts.port,
    ...(opts.http === undefined ? {} : { http: opts.http }),
    ...(opts.httpToken === undefined || opts.httpToken === '' ? {} : { token: opts.httpToken }),
    ...(opts.dir === undefined ? {} : { dir: opts.dir }),
    ...(opts.duration === undefined ? {} : { duration: opts.duration }),
  };
}

export function registerDemoCommand(program: Command): void {
  const cmd = program
    .command('demo')
    .description(
      'run everything offline: an embedded FTP server publishing a synthetic radar network, the download daemon, BUFR decoding and the live status page',
    )
    .addOption(
      new Option('--radars <n>', 'radars in the synthetic network (RMA1, RMA2, ...)')
        .default(3)
        .argParser(intIn('radars', 1, 8)),
    )
    .addOption(
      new Option(
        '--cadence <seconds>',
        'seconds between two volumes of one radar (each volume = DBZH, VRAD and ZDR files)',
      )
        .default(5)
        .argParser(secondsAtLeast('cadence', 1)),
    )
    .addOption(
      new Option('--port <n>', 'port of the embedded FTP server on 127.0.0.1 (0 = any free port)')
        .default(0)
        .argParser(intIn('port', 0, 65535)),
    );
  addHttpOptions(cmd)
    .addOption(
      new Option(
        '--dir <folder>',
        'working folder: served tree, downloads, ledger (default: a new temp folder)',
      ),
    )
    .addOption(
      new Option('--duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)').argParser(
        secondsAtLeast('duration', 1),
      ),
    )
    .addOption(
      new Option('--log-level <level>', 'daemon log level on stderr')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('warn'),
    )
    .addHelpText(
      'after',
      `
The status page defaults to http://127.0.0.1:8080/ (another free port when 8080 is taken).
Files are published into /L2/<RADAR>/YYYY/MM/DD/HH/MMSS/ and grow for a moment before they
are complete; the daemon takes each one once two listings agree on its size.

Examples:
  radarlib demo                                  3 radars, a volume every 5 s, until Ctrl-C
  radarlib demo --radars 1 --cadence 2 --duration 30
  radarlib demo --http 127.0.0.1:9090 --dir ./demo-data`,
    )
    .action(async (opts: DemoCliOptions) => {
      const { createLogger } = await import('../../observe/log.js');
      const logger = createLogger({ level: opts.logLevel, destination: process.stderr });
      const controller = new AbortController();
      const onSignal = (): void => {
        if (!controller.signal.aborted) console.log('\nstopping (press Ctrl-C again to force)...');
        else process.exit(130);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        // Loaded here, not at startup: the demo brings the embedded FTP server and the web stack.
        const { startDemo } = await import('../../demo/run-demo.js');
        const demo = await startDemo({
          ...demoOptionsFromCli(opts),
          logger,
          signal: controller.signal,
          print: (line) => console.log(line),
        });
        await demo.done;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
