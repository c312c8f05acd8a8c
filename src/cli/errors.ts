/**
 * How the command line reports a failure: one readable line on stderr, the way operators read
 * it in a terminal, a journal or a cron mail (`radarlib: config: sources[0].port: …`); the
 * stack and causes only with `--verbose`.
 */
import { inspect } from 'node:util';
import { ConfigError, RadarlibError } from '../errors.js';

/** Exit status for a bad configuration (sysexits' EX_CONFIG; systemd units do not restart on it). */
export const EXIT_CONFIG = 78;

/** Config key paths as users write them: `sources.0.port` → `sources[0].port`. */
export function readableKeyPath(text: string): string {
  return text.replace(/(?<=[A-Za-z_\]])\.(\d+)(?=[.:\s;]|$)/g, '[$1]');
}

/** The one-line description of an error (no `radarlib:` prefix, no newline). */
export function describeError(err: unknown): string {
  let line: string;
  if (err instanceof ConfigError) {
    const prefix = `Config ${err.source}: `;
    const detail = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    line = `config: ${readableKeyPath(detail)} (${err.source})`;
  } else if (err instanceof RadarlibError) {
    line = `${err.message} [${err.code}]`;
  } else {
    line = err instanceof Error ? err.message : String(err);
  }
  return line.replace(/\s*\n\s*/g, ' ');
}

/** What `radarlib` prints on stderr for a failure: one line, or with `verbose` the whole error. */
export function formatCliError(err: unknown, verbose: boolean): string {
  const line = `radarlib: ${describeError(err)}`;
  return verbose ? `${line}\n${inspect(err, { depth: 6 })}\n` : `${line}\n`;
}

/** True when the command line asks for full error detail. */
export function wantsVerbose(argv: readonly string[]): boolean {
  return argv.includes('--verbose');
}
