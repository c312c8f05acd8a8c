/**
 * The pino root logger. Library code takes a logger and makes children
 * (`logger.child({ module: 'daemon', source })`); only the CLI creates the root.
 *
 * Secrets are redacted by path, wherever a config or options object ends up in a log line.
 */
import { createRequire } from 'node:module';
import type Pino from 'pino';
import type { DestinationStream, Logger, LevelWithSilent, LoggerOptions } from 'pino';
import type PinoPretty from 'pino-pretty';

/**
 * pino, loaded with `require`: it is CommonJS, and an ESM `import` of it makes Node scan its
 * source for named exports at every start (the CLI, the daemon, `import 'radarlib'`). Take
 * pino's values from here only; types come from `import type` (erased).
 */
const require = createRequire(import.meta.url);
const pino = require('pino') as typeof Pino;

/** pino-pretty loads only for a pretty logger (a daemon under systemd and a piped CLI never need it). */
const loadPretty = (): typeof PinoPretty => require('pino-pretty') as typeof PinoPretty;

/** Log paths whose values are replaced by `[redacted]`. */
export const REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  '*.*.password',
  'sources[*].password',
  'config.sources[*].password',
  'passwordFile',
  '*.passwordFile',
  'sources[*].passwordFile',
  'config.sources[*].passwordFile',
  'headers.authorization',
];

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** @default 'info' */
  level?: LevelWithSilent;
  /**
   * Human-readable lines instead of JSON. @default true when the destination is a TTY
   */
  pretty?: boolean;
  /** Where to write. @default process.stdout */
  destination?: NodeJS.WritableStream;
  /** Bindings on every line, e.g. `{ service: 'radarlib' }`. */
  base?: Record<string, unknown>;
}

/** Creates the root logger: JSON lines, or pretty lines on a terminal; passwords redacted. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stdout;
  const isTty = (destination as { isTTY?: boolean }).isTTY === true;
  const usePretty = options.pretty ?? isTty;
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.base ?? { service: 'radarlib' },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (usePretty) {
    // A synchronous pretty stream (not a worker transport), so lines are not lost on exit.
    return pino(
      opts,
      loadPretty()({ destination, colorize: isTty, sync: true, translateTime: 'SYS:standard' }),
    );
  }
  return pino(opts, destination as DestinationStream);
}

/** A logger that drops everything (the default for library users who pass none). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
