/**
 * `--http HOST:PORT` and `--http-token` for commands that run a daemon (`radarlib daemon`,
 * `radarlib demo`), `--http-token-file` and `--http-insecure` for `radarlib daemon`, and the call
 * that attaches the status server to a running daemon.
 *
 *   addHttpOptions(cmd);                       // in the command definition
 *   const web = await attachStatusServer(daemon, opts, logger);   // after creating the daemon
 *   ...; await web?.close();
 */
import { Option, type Command } from '../commander.js';
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../../errors.js';
import { parseBind, type BindAddress } from '../../web/bind.js';
import type { StatusDaemon, StatusServer } from '../../web/server.js';

export interface HttpCliOptions {
  http?: BindAddress;
  httpToken?: string;
  /** File holding the token (not visible in `ps`, unlike `--http-token`). */
  httpTokenFile?: string;
  /** Serve beyond loopback without a token. */
  httpInsecure?: boolean;
}

/** Adds `--http <host:port>` (parsed) and `--http-token <token>` (env RADARLIB_HTTP_TOKEN). */
export function addHttpOptions(cmd: Command, defaultBind?: string): Command {
  const http = new Option(
    '--http <host:port>',
    'serve the status page, /metrics and /healthz here (loopback unless another address is given; port 0 = any free port)',
  ).argParser((v: string) => parseBind(v));
  if (defaultBind !== undefined) http.default(parseBind(defaultBind), defaultBind);
  return cmd
    .addOption(http)
    .addOption(
      new Option(
        '--http-token <token>',
        'require HTTP basic auth on the status page with this password (any user name); use it when binding beyond loopback',
      ).env('RADARLIB_HTTP_TOKEN'),
    );
}

/** Adds `--http-token-file <file>` and `--http-insecure`. */
export function addHttpSecurityOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--http-token-file <file>',
        'read the status page token from this file (kept out of `ps`; trailing newline ignored)',
      ),
    )
    .addOption(
      new Option(
        '--http-insecure',
        'allow binding the status page beyond loopback without a token (only behind a proxy that authenticates)',
      ),
    );
}

function readTokenFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new InvalidArgumentError('http-token-file', `cannot read ${file} (${code})`);
  }
}

/** The token: `--http-token-file`, else `--http-token` / RADARLIB_HTTP_TOKEN, else the config's. */
export function httpTokenOf(opts: HttpCliOptions, configToken: string | undefined): string | undefined {
  if (opts.httpTokenFile !== undefined) return readTokenFile(opts.httpTokenFile);
  if (opts.httpToken !== undefined && opts.httpToken !== '') return opts.httpToken;
  return configToken;
}

/**
 * Starts the status server for a daemon when `--http` was given (else resolves null); the
 * daemon's config `http: {host, port, token/tokenFile, insecure}` is used for what the options
 * do not say.
 */
export async function attachStatusServer(
  daemon: StatusDaemon & { config: { http?: (BindAddress & { token?: string; insecure?: boolean }) | null } },
  opts: HttpCliOptions,
  logger: Logger,
): Promise<StatusServer | null> {
  const bind = opts.http ?? daemon.config.http ?? null;
  if (bind === null) return null;
  // Loaded only when a status page is asked for (it brings the HTTP server and PNG renderer).
  const { startStatusServer } = await import('../../web/server.js');
  const token = httpTokenOf(opts, daemon.config.http?.token);
  return startStatusServer({
    daemon,
    bind: { host: bind.host, port: bind.port },
    logger,
    insecure: opts.httpInsecure === true || daemon.config.http?.insecure === true,
    ...(token === undefined || token === '' ? {} : { token }),
  });
}
