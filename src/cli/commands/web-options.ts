/**
 * `--http HOST:PORT` and `--http-token` for commands that run a daemon (`radarlib daemon`,
 * `radarlib demo`), and the call that attaches the status server to a running daemon.
 *
 *   addHttpOptions(cmd);                       // in the command definition
 *   const web = await attachStatusServer(daemon, opts, logger);   // after creating the daemon
 *   ...; await web?.close();
 */
import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import { parseBind, type BindAddress } from '../../web/bind.js';
import type { StatusDaemon, StatusServer } from '../../web/server.js';

export interface HttpCliOptions {
  http?: BindAddress;
  httpToken?: string;
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

/**
 * Starts the status server for a daemon when `--http` was given (else resolves null); the
 * daemon's config `http: {host, port}` is used when the option is absent.
 */
export async function attachStatusServer(
  daemon: StatusDaemon & { config: { http?: BindAddress | null } },
  opts: HttpCliOptions,
  logger: Logger,
): Promise<StatusServer | null> {
  const bind = opts.http ?? daemon.config.http ?? null;
  if (bind === null) return null;
  // Loaded only when a status page is asked for (it brings the HTTP server and PNG renderer).
  const { startStatusServer } = await import('../../web/server.js');
  return startStatusServer({
    daemon,
    bind,
    logger,
    ...(opts.httpToken === undefined || opts.httpToken === '' ? {} : { token: opts.httpToken }),
  });
}
